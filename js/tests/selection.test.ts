import { describe, expect, it } from "vitest";
import { cellKey, cellPairs, coverage, EMPTY_SELECTION, planCells, selectionReducer, type SelectionAction } from "../src/state/selection";
import type { StageRow, SubjectRow } from "../src/types";

const subjects = ["s1", "s2", "s3", "s4"];
const stages = ["a", "b", "c"];
const run = (...actions: SelectionAction[]) => actions.reduce(selectionReducer, EMPTY_SELECTION);
const keys = (s: { cells: ReadonlySet<string> }) => [...s.cells].map((k) => k.replace("\u0000", ":")).sort();

describe("cell selection", () => {
  it("toggles single cells and keeps the last one as the anchor", () => {
    const one = run({ type: "toggle", subject: "s2", stage: "b" });
    expect(keys(one)).toEqual(["s2:b"]);
    expect(one.anchor).toEqual({ subject: "s2", stage: "b" });
    expect(keys(selectionReducer(one, { type: "toggle", subject: "s2", stage: "b" }))).toEqual([]);
  });
  it("a shift range runs along a column, a row, or spans the rectangle between", () => {
    const start = run({ type: "toggle", subject: "s1", stage: "b" });
    const column = selectionReducer(start, { type: "range", subject: "s3", stage: "b", subjects, stages });
    expect(keys(column)).toEqual(["s1:b", "s2:b", "s3:b"]);
    expect(column.anchor).toEqual(start.anchor);
    const row = selectionReducer(start, { type: "range", subject: "s1", stage: "a", subjects, stages });
    expect(keys(row)).toEqual(["s1:a", "s1:b"]);
    const box = selectionReducer(start, { type: "range", subject: "s2", stage: "c", subjects, stages });
    expect(keys(box)).toEqual(["s1:b", "s1:c", "s2:b", "s2:c"]);
  });
  it("a shift range without an anchor toggles the clicked cell", () => {
    expect(keys(run({ type: "range", subject: "s4", stage: "c", subjects, stages }))).toEqual(["s4:c"]);
  });
  it("rows go on and off whole; a column toggles, off only when all of it was on", () => {
    const rows = run({ type: "rows", subjects: ["s1", "s2"], stages, on: true });
    expect(rows.cells.size).toBe(6);
    expect(keys(selectionReducer(rows, { type: "rows", subjects: ["s1"], stages, on: false }))).toEqual(["s2:a", "s2:b", "s2:c"]);
    const col = selectionReducer(rows, { type: "column", stage: "a", subjects });
    expect(coverage(col.cells, () => subjects.map((s) => cellKey(s, "a")))).toBe("all");
    const off = selectionReducer(col, { type: "column", stage: "a", subjects });
    expect(coverage(off.cells, () => subjects.map((s) => cellKey(s, "a")))).toBe("none");
    expect(coverage(off.cells, () => stages.map((st) => cellKey("s1", st)))).toBe("some");
  });
  it("clear empties it; keep forgets cells of subjects or stages that are gone", () => {
    const some = run({ type: "rows", subjects: ["s1", "s2"], stages, on: true });
    expect(selectionReducer(some, { type: "clear" })).toBe(EMPTY_SELECTION);
    expect(selectionReducer(EMPTY_SELECTION, { type: "clear" })).toBe(EMPTY_SELECTION);
    expect(keys(selectionReducer(some, { type: "keep", subjects: ["s2"], stages: ["a", "c"] }))).toEqual(["s2:a", "s2:c"]);
    expect(selectionReducer(some, { type: "keep", subjects, stages })).toBe(some);
    expect(cellPairs(run({ type: "toggle", subject: "s3", stage: "c" }).cells)).toEqual([["s3", "c"]]);
  });
});

describe("what a batch action does to the selection", () => {
  const chain: StageRow[] = [
    { id: "a", label: "A", depends_on: [] },
    { id: "b", label: "B", depends_on: ["a"] },
    { id: "c", label: "C", depends_on: ["b"] },
  ];
  const row = (id: string, statuses: SubjectRow["statuses"]): SubjectRow => ({ id, name: id, has_t1: true, has_dce: true, has_diffusion: false, statuses });
  const grid = [row("s1", { a: "done", b: "done", c: "done" }), row("s2", { a: "running", b: "queued" }), row("s3", { a: "failed", b: "stale" })];
  it("counts missing, done and active cells, and the done results downstream a rerun makes stale", () => {
    const sel = run(
      { type: "toggle", subject: "s1", stage: "a" },
      { type: "column", stage: "b", subjects: ["s2", "s3"] },
      { type: "toggle", subject: "s3", stage: "a" },
      { type: "toggle", subject: "s3", stage: "c" },
    );
    const plan = planCells(grid, chain, sel.cells);
    // s1 a done (its b and c done, outside the selection: stale after the rerun); s2 b queued;
    // s3 a failed, b stale, c not run
    expect(plan).toEqual({ total: 5, missing: 3, done: 1, active: 1, staleDownstream: 2, subjects: ["s1", "s2", "s3"] });
    const withB = selectionReducer(sel, { type: "toggle", subject: "s1", stage: "b" });
    // s1 b is now rerun itself: only c is left to go stale
    expect(planCells(grid, chain, withB.cells)).toMatchObject({ done: 2, staleDownstream: 1 });
  });
  it("cells of unknown subjects count for nothing", () => {
    expect(planCells(grid, chain, run({ type: "toggle", subject: "gone", stage: "a" }).cells).total).toBe(0);
  });
});
