import { describe, expect, it } from "vitest";
import { isAtBottom, reachedBottom, scrollAfterAppend, scrollAfterPrepend } from "../src/autoscroll";

describe("auto-scroll rule", () => {
  it("follows at the bottom, within a few pixels", () => {
    expect(isAtBottom(700, 1000, 300)).toBe(true);
    expect(isAtBottom(697, 1000, 300)).toBe(true);
  });
  it("stops following once the user scrolled up", () => {
    expect(isAtBottom(500, 1000, 300)).toBe(false);
  });
  it("a scroll that reached the bottom it aimed at follows, though lines grew the log meanwhile", () => {
    expect(reachedBottom(1086, 1728, 318, 1404)).toBe(true); // aimed at 1404, the log is now 1728
    expect(reachedBottom(900, 1728, 318, 1404)).toBe(false); // stopped short of it
    expect(reachedBottom(1086, 1728, 318, null)).toBe(false); // no ask to go down
    expect(reachedBottom(1410, 1728, 318, null)).toBe(true);
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
