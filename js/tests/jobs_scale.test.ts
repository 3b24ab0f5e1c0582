// The jobs reducer at cohort scale: state in place, counts kept as rows arrive, no re-sort.
import { describe, expect, it } from "vitest";
import { countJobs, type Counts, endedSince, isNewest, type JobsState, jobsReducer, listJobs, newestFirst, scanJobs } from "../src/state/jobs";
import { JOB_STATUSES, type JobRow } from "../src/types";
import { table } from "./wire";

function job(seq: number, subject: string, stage: string, status: JobRow["status"] = "queued"): JobRow {
  return {
    id: `j${seq}`, project_id: "p", subject_id: subject, stage_id: stage, status, progress: 0, current_step: "", queued_at: seq,
    start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

/** The counts recounted from scratch over the newest attempts (what the reducer must keep). */
function recount(state: JobsState, stage: string | null = null): Counts {
  const counts = { all: 0 } as Counts;
  for (const status of JOB_STATUSES) counts[status] = 0;
  for (const id of state.ascending) {
    const row = state.byId[id];
    if (!isNewest(state, id) || (stage && row.stage_id !== stage)) continue;
    counts.all += 1;
    counts[row.status] += 1;
  }
  return counts;
}

const empty = { jobs: table([]), total: 0, subjects: {}, stages: {}, queue: [] };

describe("jobs reducer at scale", () => {
  it("keeps counts over newest attempts as jobs change status and are retried", () => {
    let state = jobsReducer.init({ ...empty, jobs: table([job(1, "a", "t1"), job(2, "a", "t2"), job(3, "b", "t1")]) }, undefined);
    state = jobsReducer.patch(state, { changes: { status: [[1, "running"], [3, "failed"]] } });
    expect(countJobs(state)).toEqual(recount(state));
    state = jobsReducer.patch(state, { changes: { status: [[1, "completed"]] }, jobs: table([job(4, "b", "t1")]) }); // a retry of j3
    expect(countJobs(state)).toMatchObject({ all: 3, completed: 1, queued: 2, failed: 0 });
    expect(countJobs(state, "t1")).toEqual(recount(state, "t1"));
    state = jobsReducer.patch(state, { changes: { status: [[3, "cancelled"]] } }); // a superseded attempt counts nowhere
    expect(countJobs(state)).toEqual(recount(state));
    expect(newestFirst(state)).toEqual(["j4", "j3", "j2", "j1"]);
  });
  it("merges older jobs of a long snapshot's later parts into the order", () => {
    let state = jobsReducer.init({ ...empty, jobs: table([job(9, "a", "x"), job(8, "b", "x")]) }, undefined);
    state = jobsReducer.patch(state, { jobs: table([job(5, "c", "x"), job(10, "d", "x"), job(1, "e", "x")]) });
    expect(state.ascending).toEqual(["j1", "j5", "j8", "j9", "j10"]);
    expect(countJobs(state).all).toBe(5);
  });
  it("takes a 100,000-job patch stream in time proportional to the changes", () => {
    // 10,000 subjects x 10 stages arrive in parts of 4,000 rows, then 2,000 patches of 20 status
    // changes each. Copying the job map or re-sorting every id per patch (the reducer before)
    // costs 2,000 x 100,000 operations here: far more than the bound below on any machine.
    const N = 100_000;
    const rows = Array.from({ length: N }, (_, i) => job(i + 1, `s${Math.floor(i / 10)}`, `st${i % 10}`));
    let state = jobsReducer.init({ ...empty, total: N, jobs: table(rows.slice(0, 4000)) }, undefined);
    const start = performance.now();
    for (let i = 4000; i < N; i += 4000) state = jobsReducer.patch(state, { jobs: table(rows.slice(i, i + 4000)) });
    const statuses: JobRow["status"][] = ["running", "completed"];
    for (let p = 0; p < 2000; p++) {
      const pairs: [number, unknown][] = [];
      for (let k = 0; k < 20; k++) pairs.push([((p * 20 + k) % N) + 1, statuses[p % 2]]);
      state = jobsReducer.patch(state, { changes: { status: pairs } });
    }
    const elapsed = performance.now() - start;
    expect(state.ascending.length).toBe(N);
    expect(state.version).toBe(24 + 2000);
    expect(countJobs(state)).toEqual(recount(state));
    expect(countJobs(state, "st3")).toEqual(recount(state, "st3"));
    expect(elapsed).toBeLessThan(8000);
    expect(listJobs(state, "all")).toEqual(scanJobs(state, "all")); // after its segments were compacted
  });
  it("lists from its per-status segments exactly what a scan of every job lists", () => {
    // a seeded mix: statuses, retries (superseded attempts), stages, open cards, a queue order
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const statuses: JobRow["status"][] = ["queued", "running", "completed", "failed", "cancelled"];
    const rows = Array.from({ length: 400 }, (_, i) => job(i + 1, `s${Math.floor(random() * 60)}`, `st${Math.floor(random() * 4)}`));
    let state = jobsReducer.init({ ...empty, jobs: table(rows.slice(0, 250)) }, undefined);
    state = jobsReducer.patch(state, { jobs: table(rows.slice(250)) });
    for (let round = 0; round < 30; round++) {
      const pairs: [number, unknown][] = [];
      for (let k = 0; k < 20; k++) pairs.push([1 + Math.floor(random() * 400), statuses[Math.floor(random() * 5)]]);
      const queued = newestFirst(state).filter((id) => state.byId[id].status === "queued");
      state = jobsReducer.patch(state, { changes: { status: pairs }, queue: queued.filter(() => random() < 0.3).reverse() });
      const pinned: Record<string, JobRow["status"]> = {};
      for (let k = 0; k < 3; k++) pinned[`j${1 + Math.floor(random() * 400)}`] = statuses[Math.floor(random() * 5)];
      for (const tab of ["all", ...statuses] as const) {
        for (const stage of [null, "st1"]) {
          expect(listJobs(state, tab, { pinned, stage })).toEqual(scanJobs(state, tab, { pinned, stage }));
        }
      }
    }
  });
  it("lists 100,000 jobs without sorting them", () => {
    const N = 100_000;
    const rows = Array.from({ length: N }, (_, i) => job(i + 1, `s${Math.floor(i / 10)}`, `st${i % 10}`, i % 7 === 0 ? "completed" : "queued"));
    let state = jobsReducer.init({ ...empty, total: N, jobs: table(rows.slice(0, 4000)) }, undefined);
    for (let i = 4000; i < N; i += 4000) state = jobsReducer.patch(state, { jobs: table(rows.slice(i, i + 4000)) });
    const start = performance.now();
    for (let k = 0; k < 20; k++) listJobs(state, "all");
    const fast = (performance.now() - start) / 20;
    const scanStart = performance.now();
    const scanned = scanJobs(state, "all");
    const scan = performance.now() - scanStart;
    expect(listJobs(state, "all")).toEqual(scanned);
    // the figure is for the note; the bound only catches a sort of every job per listing
    expect(fast).toBeLessThan(scan);
  });
  it("says which jobs it held ended since a view last looked, not those it first sees ended", () => {
    let state = jobsReducer.init({ ...empty, jobs: table([job(1, "a", "x", "running"), job(2, "b", "x", "running")]) }, undefined);
    const first = endedSince(state, null);
    expect([first.completed, first.failed]).toEqual([[], []]);
    state = jobsReducer.patch(state, { changes: { status: [[1, "completed"], [2, "failed"]] }, jobs: table([job(3, "c", "x", "failed")]) });
    const next = endedSince(state, first.cursor);
    expect([next.completed, next.failed]).toEqual([["j1"], ["j2"]]);
    expect(endedSince(state, next.cursor)).toMatchObject({ completed: [], failed: [] });
  });
});
