// The jobs state at cohort scale: a view holds its window, so a patch costs what the window holds.
import { describe, expect, it } from "vitest";
import type { JobsPatch } from "../src/protocol";
import { applyReply, type JobsState, jobsReducer } from "../src/state/jobs";
import type { JobRow } from "../src/types";
import { jobsSnapshot, jobsWindow, table } from "./wire";

function job(seq: number, status: JobRow["status"] = "running"): JobRow {
  return {
    id: `j${seq}`, project_id: "p", subject_id: `s${Math.floor(seq / 10)}`, stage_id: `st${seq % 10}`, status, progress: 0, current_step: "",
    queued_at: seq, start_time: seq, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

const VIEW = "v";
const reducer = jobsReducer(VIEW);
const WINDOW = 60;

/** A view of a `total`-job scope holding a window of 60 rows from `offset`. */
function scope(total: number, offset: number): JobsState {
  const counts = { running: WINDOW, queued: total - WINDOW };
  const stage_counts = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`st${i}`, { running: 6, queued: (total - WINDOW) / 10 }]));
  const state = reducer.init(jobsSnapshot(counts, { stage_counts, queue: Array.from({ length: 500 }, (_, i) => WINDOW + i + 1) }), undefined);
  const rows = Array.from({ length: WINDOW }, (_, i) => job(offset + i + 1));
  return applyReply(state, { jobs: table(rows), window: jobsWindow(rows.map((r) => r.seq), { offset, listed: total }) });
}

/** 20 progress changes of held rows, counts, a stage's counts and (every 10th) the window again. */
function patches(offset: number, total: number): JobsPatch[] {
  return Array.from({ length: 2000 }, (_, p) => {
    const changes = { progress: Array.from({ length: 20 }, (_, k): [number, unknown] => [offset + ((p + k) % WINDOW) + 1, p % 100]) };
    const patch: JobsPatch = { changes, counts: { running: WINDOW, queued: total - WINDOW - p, completed: p }, stage_counts: { [`st${p % 10}`]: { running: 6, completed: p } } };
    if (p % 10 === 0) patch.windows = { [VIEW]: jobsWindow(Array.from({ length: WINDOW }, (_, i) => offset + i + 1), { offset, listed: total }) };
    return patch;
  });
}

function timed(state: JobsState, stream: JobsPatch[]): [JobsState, number] {
  const start = performance.now();
  for (const patch of stream) state = reducer.patch(state, patch);
  return [state, performance.now() - start];
}

describe("jobs state at scale", () => {
  it("holds a 60-row window of a 100,000-job scope and the scope's counts", () => {
    const state = scope(100_000, 50_000);
    expect(Object.keys(state.byId).length).toBe(WINDOW);
    expect(state.window).toMatchObject({ offset: 50_000, listed: 100_000 });
    expect(state.counts.all).toBe(100_000);
    expect(state.stageCounts.st3.all).toBe(6 + (100_000 - WINDOW) / 10);
  });
  it("takes a patch in time independent of the scope's size", () => {
    // 2,000 patches for a 1,000-job scope and for a 100,000-job one, each view holding 60 rows:
    // a state that held or scanned every job would take about 100 times longer for the second
    timed(scope(1000, 0), patches(0, 1000)); // warm up
    const [small, smallMs] = timed(scope(1000, 0), patches(0, 1000));
    const [large, largeMs] = timed(scope(100_000, 50_000), patches(50_000, 100_000));
    expect(Object.keys(large.byId).length).toBe(WINDOW);
    expect(large.byId.j50001.progress).toBe(small.byId.j1.progress);
    expect(large.counts.completed).toBe(1999);
    expect(largeMs).toBeLessThan(5 * smallMs + 50);
  });
  it("scrolling through the listing keeps no more rows than the window names", () => {
    let state = scope(100_000, 0);
    for (let offset = 0; offset < 100_000; offset += 10_000) {
      const rows = Array.from({ length: WINDOW }, (_, i) => job(offset + i + 1));
      const window = jobsWindow(rows.map((r) => r.seq), { asked: 2 + offset, offset, listed: 100_000, held: [1] });
      state = reducer.patch(state, { jobs: table(rows), windows: { [VIEW]: window } });
      expect(Object.keys(state.byId).length).toBe(offset ? WINDOW + 1 : WINDOW); // j1 held (an open card)
    }
  });
});
