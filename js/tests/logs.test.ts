import { describe, expect, it } from "vitest";
import { appendLines, fromTail, logsReducer, prependLines } from "../src/state/logs";
import type { LogLine } from "../src/types";

const lines = (from: number, to: number): LogLine[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, 0, "INFO", `line ${from + i}`] as LogLine);

describe("log windows", () => {
  it("knows when older lines exist", () => {
    expect(fromTail(lines(1, 5)).hasOlder).toBe(false);
    expect(fromTail(lines(6, 9)).hasOlder).toBe(true);
  });
  it("appends only lines it does not have (patches may repeat the snapshot)", () => {
    const w = appendLines(fromTail(lines(1, 5)), lines(4, 8));
    expect(w.lines.map((l) => l[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it("returns the same window when nothing is new", () => {
    const w = fromTail(lines(1, 5));
    expect(appendLines(w, lines(2, 5))).toBe(w);
  });
  it("stays bounded: the oldest lines fall off the top", () => {
    const w = appendLines(fromTail(lines(1, 10)), lines(11, 25), 12);
    expect(w.lines.length).toBe(12);
    expect(w.lines[0][0]).toBe(14);
    expect(w.hasOlder).toBe(true);
  });
  it("puts older lines on top and detaches when full", () => {
    const w = prependLines(fromTail(lines(11, 20)), lines(1, 10), 15);
    expect(w.lines.map((l) => l[0])[0]).toBe(1);
    expect(w.lines.length).toBe(15);
    expect(w.detached).toBe(true);
    expect(w.hasOlder).toBe(false);
    expect(appendLines(w, lines(21, 22))).toBe(w);
  });
  it("knows there is nothing older once a fetch returns nothing new", () => {
    expect(prependLines(fromTail(lines(3, 4)), []).hasOlder).toBe(false);
  });
  it("the reducer feeds only the windows this view holds", () => {
    const state = logsReducer.init({ tails: { a: lines(1, 2) } }, undefined);
    const next = logsReducer.patch(state, { lines: { a: lines(3, 3), b: lines(1, 1) } });
    expect(next.a.lines.length).toBe(3);
    expect(next.b).toBeUndefined();
  });
  it("a new snapshot keeps the windows of watched jobs", () => {
    const state = logsReducer.init({ tails: {} }, { w: fromTail(lines(1, 3)) });
    expect(state.w.lines.length).toBe(3);
  });
});
