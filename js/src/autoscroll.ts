// The auto-scroll rule of log views: follow new lines while the reader is at the bottom.

/** Pixels from the bottom that still count as "at the bottom" (sub-pixel scroll positions). */
export const BOTTOM_SLACK = 4;

/** A user at the bottom follows new lines; one who scrolled up does not, until back at the bottom. */
export function isAtBottom(scrollTop: number, scrollHeight: number, clientHeight: number): boolean {
  return scrollHeight - (scrollTop + clientHeight) <= BOTTOM_SLACK;
}

/**
 * Whether a scroll brought the reader to the bottom: of the log now, or of the log as it was when
 * they last asked to go down (`heightWhenAsked`): a smooth scroll ends at the bottom it aimed
 * at, and lines that arrived on its way (a patch every 40 ms) have grown the log past it.
 */
export function reachedBottom(scrollTop: number, scrollHeight: number, clientHeight: number, heightWhenAsked: number | null): boolean {
  if (isAtBottom(scrollTop, scrollHeight, clientHeight)) return true;
  return heightWhenAsked != null && heightWhenAsked - (scrollTop + clientHeight) <= BOTTOM_SLACK;
}

/** Keys that scroll a focused log down. */
export const DOWN_KEYS = new Set(["End", "PageDown", "ArrowDown", " "]);

/** Where to scroll after new lines arrived: the bottom when following, else stay put. */
export function scrollAfterAppend(following: boolean, scrollTop: number, scrollHeight: number, clientHeight: number): number {
  return following ? Math.max(0, scrollHeight - clientHeight) : scrollTop;
}

/** After older lines were put on top, where to scroll so that the same line stays in view. */
export function scrollAfterPrepend(scrollTop: number, addedHeight: number): number {
  return scrollTop + addedHeight;
}
