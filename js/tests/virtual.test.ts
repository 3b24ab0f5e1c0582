import { describe, expect, it } from "vitest";
import { computeWindow, fixedOffsets, prefixSums } from "../src/virtual";

describe("computeWindow", () => {
  it("renders only the rows near the viewport of a long list", () => {
    const win = computeWindow(fixedOffsets(2000, 68), 68 * 1000, 520, 4);
    expect(win.start).toBe(996);
    expect(win.end).toBe(1000 + Math.ceil(520 / 68) + 4);
    expect(win.end - win.start).toBeLessThan(20);
    expect(win.padTop).toBe(996 * 68);
    expect(win.padTop + (win.end - win.start) * 68 + win.padBottom).toBe(win.total);
    expect(win.total).toBe(2000 * 68);
  });
  it("starts at the top", () => {
    const win = computeWindow(fixedOffsets(100, 10), 0, 50, 2);
    expect([win.start, win.end, win.padTop]).toEqual([0, 7, 0]);
  });
  it("clamps a scroll position past the end", () => {
    const win = computeWindow(fixedOffsets(100, 10), 99999, 50, 0);
    expect(win.end).toBe(100);
    expect(win.start).toBe(95);
    expect(win.padBottom).toBe(0);
  });
  it("handles an empty list", () => {
    expect(computeWindow(fixedOffsets(0, 10), 0, 50)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0, total: 0 });
  });
  it("handles rows of different heights (expanded cards)", () => {
    const offsets = prefixSums([10, 200, 10, 10, 10]);
    const win = computeWindow(offsets, 15, 20, 0);
    expect([win.start, win.end]).toEqual([1, 2]);
    expect(win.padTop).toBe(10);
    expect(win.padBottom).toBe(30);
  });
});
