import { describe, expect, it } from "vitest";
import { computeWindow, RowOffsets } from "../src/virtual";

describe("computeWindow", () => {
  it("renders only the rows near the viewport of a long list", () => {
    const win = computeWindow(new RowOffsets(2000, 68), 68 * 1000, 520, 4);
    expect(win.start).toBe(996);
    expect(win.end).toBe(1000 + Math.ceil(520 / 68) + 4);
    expect(win.end - win.start).toBeLessThan(20);
    expect(win.padTop).toBe(996 * 68);
    expect(win.padTop + (win.end - win.start) * 68 + win.padBottom).toBe(win.total);
    expect(win.total).toBe(2000 * 68);
  });
  it("starts at the top", () => {
    const win = computeWindow(new RowOffsets(100, 10), 0, 50, 2);
    expect([win.start, win.end, win.padTop]).toEqual([0, 7, 0]);
  });
  it("clamps a scroll position past the end", () => {
    const win = computeWindow(new RowOffsets(100, 10), 99999, 50, 0);
    expect(win.end).toBe(100);
    expect(win.start).toBe(95);
    expect(win.padBottom).toBe(0);
  });
  it("handles an empty list", () => {
    expect(computeWindow(new RowOffsets(0, 10), 0, 50)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0, total: 0 });
  });
  it("handles rows of different heights (expanded cards)", () => {
    const offsets = new RowOffsets(5, 10, new Map([[1, 200]]));
    const win = computeWindow(offsets, 15, 20, 0);
    expect([win.start, win.end]).toEqual([1, 2]);
    expect(win.padTop).toBe(10);
    expect(win.padBottom).toBe(30);
  });
  it("places the rows after several tall ones, and finds the row at a pixel", () => {
    // rows of 10, but row 2 is 50 and row 5 is 30 (and a row past the end is ignored)
    const offsets = new RowOffsets(8, 10, new Map([[5, 30], [2, 50], [9, 99]]));
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => offsets.top(i))).toEqual([0, 10, 20, 70, 80, 90, 120, 130, 140]);
    expect(offsets.total).toBe(140);
    expect([0, 19, 20, 69, 70, 95, 119, 120, 139, 500].map((y) => offsets.rowAt(y))).toEqual([0, 1, 2, 2, 3, 5, 5, 6, 7, 7]);
  });
  it("costs the tall rows, not the list: a million rows", () => {
    const offsets = new RowOffsets(1_000_000, 28, new Map([[999_990, 400]]));
    const win = computeWindow(offsets, 28 * 999_980, 280, 2);
    expect([win.start, win.end]).toEqual([999_978, 999_992]);
    expect(win.padTop).toBe(999_978 * 28);
    expect(win.total).toBe(1_000_000 * 28 + 400 - 28);
  });
});
