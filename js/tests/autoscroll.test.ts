import { describe, expect, it } from "vitest";
import { isAtBottom, keyDownPixels, reachedBottom, reachesBottom, scrollAfterAppend, scrollAfterPrepend, wheelPixels } from "../src/autoscroll";

describe("auto-scroll rule", () => {
  it("follows at the bottom, within a few pixels", () => {
    expect(isAtBottom(700, 1000, 300)).toBe(true);
    expect(isAtBottom(697, 1000, 300)).toBe(true);
  });
  it("stops following once the user scrolled up", () => {
    expect(isAtBottom(500, 1000, 300)).toBe(false);
  });
  it("a wheel turn or key that reaches past the bottom asks to follow, wherever its scroll stops", () => {
    // the failure seen in Chromium: the wheel scrolled to the bottom of a 1404 px log (1086 + 318)
    // while a line arrived; the handler saw 1422 px and the scroll stopped 18 px short of it
    expect(reachesBottom(1_000_000, 968, 1422, 318)).toBe(true);
    expect(reachedBottom(1086, 1422, 318, true)).toBe(true);
    expect(reachedBottom(1086, 1422, 318, false)).toBe(false); // a drag that stopped short does not
    expect(reachedBottom(1410, 1728, 318, false)).toBe(true);
    expect(reachesBottom(100, 500, 1422, 318)).toBe(false); // a small turn far from the end
    expect(reachesBottom(-100, 1104, 1422, 318)).toBe(false);
  });
  it("wheel deltas in lines or pages and keys count in pixels", () => {
    expect(wheelPixels(3, 1, 18, 300)).toBe(54);
    expect(wheelPixels(1, 2, 18, 300)).toBe(300);
    expect(wheelPixels(120, 0, 18, 300)).toBe(120);
    expect(keyDownPixels("End", 18, 300)).toBe(Infinity);
    expect(keyDownPixels("PageDown", 18, 300)).toBe(300);
    expect(keyDownPixels("ArrowDown", 18, 300)).toBe(18);
    expect(keyDownPixels("a", 18, 300)).toBe(0);
  });
  it("a short log that does not scroll counts as at the bottom", () => {
    expect(isAtBottom(0, 100, 300)).toBe(true);
  });
  it("jumps to the new bottom when following and stays put otherwise", () => {
    expect(scrollAfterAppend(true, 700, 1200, 300)).toBe(900);
    expect(scrollAfterAppend(false, 400, 1200, 300)).toBe(400);
  });
  it("keeps the same line in view when older lines go on top", () => {
    expect(scrollAfterPrepend(10, 18 * 500)).toBe(10 + 9000);
  });
});
