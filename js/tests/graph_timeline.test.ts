import { describe, expect, it } from "vitest";
import { focusReducer } from "../src/state/focus";
import { countsText, graphReducer, layoutGraph, NODE_WIDTH, stackSegments } from "../src/state/graph";
import {
  buildScene,
  fitViewport,
  hitTest,
  mergeMarks,
  mergeResources,
  panViewport,
  stepAt,
  type TimelineRow,
  timelineReducer,
  timeTicks,
  zoomViewport,
} from "../src/state/timeline";

const stages = [
  { id: "a", label: "A", depends_on: [] },
  { id: "b", label: "B", depends_on: ["a"] },
  { id: "c", label: "C", depends_on: ["a"] },
  { id: "d", label: "D", depends_on: ["b", "c"] },
];
const zero = { done: 0, stale: 0, running: 0, queued: 0, waiting: 0, failed: 0, not_run: 0 };

describe("pipeline graph", () => {
  it("lays the DAG out left to right, every edge from a dependency to its dependent", () => {
    const layout = layoutGraph(stages);
    const x = Object.fromEntries(layout.nodes.map((n) => [n.id, n.x]));
    expect(x.a).toBeLessThan(x.b);
    expect(x.b).toBe(x.c);
    expect(x.c).toBeLessThan(x.d);
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(["a>b", "a>c", "b>d", "c>d"]);
    expect(layout.width).toBeGreaterThanOrEqual(3 * NODE_WIDTH);
  });
  it("stacks the non-empty counts in order, as fractions", () => {
    const segs = stackSegments({ ...zero, done: 2, failed: 1, not_run: 1 });
    expect(segs.map((s) => [s.key, s.start, s.width])).toEqual([
      ["done", 0, 0.5],
      ["failed", 0.5, 0.25],
      ["not_run", 0.75, 0.25],
    ]);
    expect(stackSegments({ ...zero })).toEqual([]);
    expect(countsText({ ...zero, done: 2, not_run: 1 })).toBe("2 done, 1 not run");
  });
  it("patches only the stages that changed", () => {
    const state = graphReducer.init(
      { project: { id: "p", name: "P" }, stages, counts: { a: zero, b: zero }, median: { a: null }, blocked: [], subjects: 1 },
      undefined,
    );
    const next = graphReducer.patch(state, { counts: { a: { ...zero, done: 1 } }, blocked: [["a", "b"]] });
    expect(next.counts.a.done).toBe(1);
    expect(next.counts.b).toBe(state.counts.b);
    expect(next.blocked).toEqual([["a", "b"]]);
    expect(next.median).toBe(state.median);
  });
  it("focus patches replace the focus", () => {
    expect(focusReducer.patch(focusReducer.init({ stage_id: "a", label: "A" }, undefined), { stage_id: null, label: null })).toEqual({
      stage_id: null,
      label: null,
    });
  });
});

const row = (id: string, stage: string, status: string, queued: number, start: number | null, end: number | null): TimelineRow =>
  [id, "s", stage, status as TimelineRow[3], queued, start, end, 1, null];

function state(rows: TimelineRow[]) {
  return timelineReducer.init({ jobs: rows, total: rows.length, subjects: { s: "sub" }, stages: { a: "A", b: "B" }, order: ["a", "b"], marks: {}, resources: [] }, undefined);
}

describe("timeline", () => {
  it("counts the rows it holds while a long snapshot's older jobs arrive in patches", () => {
    const first = timelineReducer.init({ jobs: [row("j9", "a", "running", 9, 9, null)], total: 3, subjects: {}, stages: {}, order: [], marks: {}, resources: [] }, undefined);
    expect([first.held, first.total]).toEqual([1, 3]);
    const more = timelineReducer.patch(first, { jobs: [row("j8", "a", "completed", 8, 8, 9), row("j9", "a", "completed", 9, 9, 10)] });
    expect([more.held, more.total]).toEqual([2, 3]); // j9 changed, not new
    const all = timelineReducer.patch(more, { jobs: [row("j7", "a", "completed", 7, 7, 8), row("j10", "b", "queued", 10, null, null)] });
    expect([all.held, all.total]).toEqual([4, 4]); // j10 is a new job: the total grows with it
  });
  const rows = [
    row("j1", "a", "completed", 0, 0, 10),
    row("j2", "a", "completed", 0, 1, 5),
    row("j3", "b", "failed", 0, 6, 8), // reuses j2's slot
    row("j4", "b", "running", 2, 11, null), // reuses j1's slot, runs on
    row("j5", "b", "queued", 3, null, null),
  ];
  it("puts every started job in the lowest free slot, queued ones nowhere", () => {
    const scene = buildScene(state(rows));
    expect(scene.ids).toEqual(["j1", "j2", "j3", "j4"]);
    expect([...scene.lane]).toEqual([0, 1, 1, 0]);
    expect(scene.lanes).toBe(2);
    expect(scene.waiting).toBe(1);
    expect(Number.isNaN(scene.end[3])).toBe(true);
    expect([...scene.stage]).toEqual([0, 0, 1, 1]);
    expect(scene.first).toBe(0);
  });
  it("gives each worker its own lanes, the kernel's machine first, then workers by address", () => {
    const on = (r: TimelineRow, worker: string | null): TimelineRow => [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], worker];
    const scene = buildScene(
      state([
        on(row("w1", "a", "completed", 0, 0, 10), "tcp://10.0.0.2:1"),
        on(row("w2", "a", "completed", 0, 1, 5), "tcp://10.0.0.1:1"),
        on(row("w3", "b", "completed", 0, 2, 4), "tcp://10.0.0.2:1"), // w1 still runs: a second lane
        on(row("w4", "b", "completed", 0, 6, 8), "tcp://10.0.0.1:1"), // reuses w2's lane
        row("k1", "b", "completed", 0, 3, 4), // no worker: the kernel's machine
      ]),
    );
    expect(scene.groups).toEqual([
      { worker: null, first: 0, lanes: 1 },
      { worker: "tcp://10.0.0.1:1", first: 1, lanes: 1 },
      { worker: "tcp://10.0.0.2:1", first: 2, lanes: 2 },
    ]);
    const laneOf = Object.fromEntries(scene.ids.map((id, i) => [id, scene.lane[i]]));
    expect(laneOf).toEqual({ k1: 0, w2: 1, w4: 1, w1: 2, w3: 3 });
    expect(scene.lanes).toBe(4);
    expect(scene.byLane[1].map((i) => scene.ids[i])).toEqual(["w2", "w4"]);
    expect(scene.ids[hitTest(scene, 3, 3, 20)]).toBe("w3");
  });
  it("finds the job under the pointer: its bar or its queue wait", () => {
    const scene = buildScene(state(rows));
    expect(scene.ids[hitTest(scene, 1, 7, 20)]).toBe("j3");
    expect(scene.ids[hitTest(scene, 0, 15, 20)]).toBe("j4"); // running: up to now
    expect(hitTest(scene, 0, 25, 20)).toBe(-1);
    expect(scene.ids[hitTest(scene, 0, 10.5, 20)]).toBe("j4"); // waiting since 2, in the gap
    expect(hitTest(scene, 5, 1, 20)).toBe(-1);
  });
  it("zooms around the pointer, pans by a fraction, fits the run", () => {
    const view = { t0: 0, t1: 100 };
    expect(zoomViewport(view, 0.5, 0.5)).toEqual({ t0: 25, t1: 75 });
    expect(zoomViewport(view, 0.5, 0)).toEqual({ t0: 0, t1: 50 });
    expect(panViewport(view, 0.1)).toEqual({ t0: 10, t1: 110 });
    const fit = fitViewport(buildScene(state(rows)), 30);
    expect(fit.t0).toBeLessThan(0);
    expect(fit.t1).toBeGreaterThan(30);
  });
  it("merges marks and resources idempotently", () => {
    expect(mergeMarks([[1, "x"]], [[1, "x"], [2, "y"]])).toEqual([
      [1, "x"],
      [2, "y"],
    ]);
    expect(mergeResources([[1, 10, 5], [3, 1, 1]], [[2, 5, 5], [3, 2, 2]])).toEqual([
      [1, 10, 5],
      [2, 5, 5],
      [3, 2, 2],
    ]);
    const next = timelineReducer.patch(state(rows), { jobs: [row("j5", "b", "running", 3, 12, null)], marks: { j5: [[12, "go"]] } });
    expect(next.rows.j5[3]).toBe("running");
    expect(stepAt(next.marks.j5, 13)).toBe("go");
    expect(stepAt(next.marks.j5, 11)).toBeNull();
  });
  it("ticks at round steps", () => {
    expect(timeTicks({ t0: 0, t1: 60 }, 6)).toEqual({ step: 10, ticks: [0, 10, 20, 30, 40, 50, 60] });
  });
  it("lays out 10,000 jobs in as many lanes as ran at once", () => {
    // its speed is a figure of the browser suite (first paint of 10,000 jobs), not a threshold here
    const many: TimelineRow[] = [];
    for (let i = 0; i < 10000; i++) many.push(row(`j${i}`, i % 2 ? "a" : "b", "completed", i, i + 0.5, i + 8));
    const scene = buildScene(state(many));
    expect(scene.lanes).toBe(8);
    expect(scene.byLane.reduce((n, lane) => n + lane.length, 0)).toBe(10000);
  });
});
