// The auto-scroll rule of log views: follow new lines while the reader is at the bottom.

/** Pixels from the bottom that still count as "at the bottom" (sub-pixel scroll positions). */
export const BOTTOM_SLACK = 4;

/** A user at the bottom follows new lines; one who scrolled up does not, until back at the bottom. */
export function isAtBottom(scrollTop: number, scrollHeight: number, clientHeight: number): boolean {
  return scrollHeight - (scrollTop + clientHeight) <= BOTTOM_SLACK;
}

/**
 * Whether a wheel turn or a key that moves the log down by `delta` px reaches its bottom: an ask
 * to follow. The scroll it causes may stop short of the log's end (lines that arrived on the way,
 * or a scroll the browser computed on the layout before the last lines came), so the ask, not
 * where the scroll stops, decides.
 */
export function reachesBottom(delta: number, scrollTop: number, scrollHeight: number, clientHeight: number): boolean {
  return delta > 0 && scrollTop + clientHeight + delta >= scrollHeight - BOTTOM_SLACK;
}

/**
 * Whether the reader follows after a scroll: they asked for the bottom and did not move up since
 * (`askedBottom`), or they are at the bottom.
 */
export function reachedBottom(scrollTop: number, scrollHeight: number, clientHeight: number, askedBottom: boolean): boolean {
  return askedBottom || isAtBottom(scrollTop, scrollHeight, clientHeight);
}

/** How far a wheel event scrolls, in pixels (its delta may count lines or pages). */
export function wheelPixels(deltaY: number, deltaMode: number, lineHeight: number, pageHeight: number): number {
  if (deltaMode === 1) return deltaY * lineHeight;
  if (deltaMode === 2) return deltaY * pageHeight;
  return deltaY;
}

/** How far a key moves a focused log down, in pixels: `Infinity` for End, 0 for a key that does not. */
export function keyDownPixels(key: string, lineHeight: number, pageHeight: number): number {
  if (key === "End") return Infinity;
  if (key === "PageDown" || key === " ") return pageHeight;
  if (key === "ArrowDown") return lineHeight;
  return 0;
}

/** Keys that scroll a focused log up (and so end an ask for the bottom). */
export const UP_KEYS = new Set(["Home", "PageUp", "ArrowUp"]);

/** Where to scroll after new lines arrived: the bottom when following, else stay put. */
export function scrollAfterAppend(following: boolean, scrollTop: number, scrollHeight: number, clientHeight: number): number {
  return following ? Math.max(0, scrollHeight - clientHeight) : scrollTop;
}

/** After older lines were put on top, where to scroll so that the same line stays in view. */
export function scrollAfterPrepend(scrollTop: number, addedHeight: number): number {
  return scrollTop + addedHeight;
}
