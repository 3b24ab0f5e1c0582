// The auto-scroll rule of log views: follow new lines while the reader is at the bottom.

/** Pixels from the bottom that still count as "at the bottom" (sub-pixel scroll positions). */
export const BOTTOM_SLACK = 4;

/** A user at the bottom follows new lines; one who scrolled up does not, until back at the bottom. */
export function isAtBottom(scrollTop: number, scrollHeight: number, clientHeight: number): boolean {
  return scrollHeight - (scrollTop + clientHeight) <= BOTTOM_SLACK;
}

/** Where to scroll after new lines arrived: the bottom when following, else stay put. */
export function scrollAfterAppend(following: boolean, scrollTop: number, scrollHeight: number, clientHeight: number): number {
  return following ? Math.max(0, scrollHeight - clientHeight) : scrollTop;
}

/** After older lines were put on top, where to scroll so that the same line stays in view. */
export function scrollAfterPrepend(scrollTop: number, addedHeight: number): number {
  return scrollTop + addedHeight;
}
