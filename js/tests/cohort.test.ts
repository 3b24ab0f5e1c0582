import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Alert, RateLimiter, summarize } from "../src/notify";
import { axisDuration, niceTicks, pageLabel } from "../src/state/history";
import { applyReply, jobsReducer } from "../src/state/jobs";
import { jobNews } from "../src/views/JobMonitor";
import { queueNote } from "../src/views/JobCard";
import type { JobRow } from "../src/types";
import { jobsSnapshot, jobsWindow, table } from "./wire";

const failed = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: "failed" as const, text: `stage for s${i} failed`, ok: false }));

describe("summarize", () => {
  it("says one event as it is", () => {
    expect(summarize([{ kind: "run", text: "Run finished: ok", ok: true }])).toEqual({ text: "Run finished: ok", tone: "ok" });
  });
  it("names two failures and counts the rest; any failure makes it an error", () => {
    const alert = summarize([...failed(100), { kind: "run", text: "Run finished: x", ok: false }]);
    expect(alert.tone).toBe("error");
    expect(alert.text).toBe("Run finished: x · 100 jobs failed: stage for s0 failed; stage for s1 failed and 98 more");
  });
});

describe("RateLimiter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it("sends the first events at once and a burst within the window as one summary after it", () => {
    const sent: Alert[] = [];
    const limiter = new RateLimiter((a) => sent.push(a), 5000);
    limiter.push(failed(1));
    expect(sent).toHaveLength(1);
    for (let i = 0; i < 100; i++) limiter.push(failed(1));
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(2);
    expect(sent[1].text).toContain("100 jobs failed");
    vi.advanceTimersByTime(60000);
    expect(sent).toHaveLength(2);
  });
});

function row(id: string, seq: number, priority = 0): JobRow {
  return {
    id, project_id: "p", subject_id: `s${seq}`, stage_id: "import", status: "queued", progress: 0, current_step: "Queued",
    queued_at: 0, start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority,
    retry_of: null, blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

describe("the start order", () => {
  const reducer = jobsReducer("v");
  it("places queued jobs by seq in the kernel's start order; the ones not in it (waiting) have none", () => {
    let state = reducer.init(jobsSnapshot({ queued: 3 }, { queue: [1, 2] }), undefined);
    state = applyReply(state, { jobs: table([row("a", 1), row("b", 2), row("c", 3)]), window: jobsWindow([1, 2, 3]) });
    state = reducer.patch(state, { queue: [2, 1], changes: { priority: [[2, 1]] }, windows: { v: jobsWindow([2, 1, 3]) } });
    expect(state.window.seqs).toEqual([2, 1, 3]);
    expect(queueNote(state.byId.b, state.queue[state.byId.b.seq])).toBe("#1 in queue · priority +1");
    expect(queueNote(state.byId.c, state.queue[state.byId.c.seq])).toBe("Queued");
  });
  it("keeps the finished runs of the last patch that had some", () => {
    let state = reducer.init(jobsSnapshot(), undefined);
    const before = state.finished;
    state = reducer.patch(state, { finished: [{ run_id: 1, action: "run_pipeline", message: "m", ok: true, jobs: 1, completed: 1, failed: 0, cancelled: 0, root_failed_ids: [] }] });
    expect(state.finished).not.toBe(before);
    const after = state.finished;
    expect(reducer.patch(state, { changes: {} }).finished).toBe(after);
  });
  it("tells failures by stage and subject, those the patch did not name as a count, and finished runs", () => {
    const ended = { completed: 3, failed: [{ id: "j1", subject_id: "s1", stage_id: "fit" }], more_failed: 0 };
    const runs = [{ run_id: 1, action: "run_pipeline", message: "2 of 3 done", ok: false, jobs: 3, completed: 2, failed: 1, cancelled: 0, root_failed_ids: ["j1"] }];
    const label = (job: { stage_id: string; subject_id: string }) => `${job.stage_id} for ${job.subject_id}`;
    expect(jobNews(ended, runs, label)).toEqual([
      { kind: "failed", text: "fit for s1 failed", ok: false },
      { kind: "run", text: "Run finished: 2 of 3 done", ok: false },
    ]);
    expect(jobNews(null, [], label)).toEqual([]);
    const many = jobNews({ completed: 0, failed: [ended.failed[0], { id: "j2", subject_id: "s2", stage_id: "fit" }], more_failed: 38 }, [], label);
    expect(summarize(many).text).toBe("40 jobs failed: fit for s1 failed; fit for s2 failed and 38 more");
    expect(summarize(jobNews({ ...ended, more_failed: 4 }, [], label)).text).toBe("5 jobs failed: fit for s1 failed and 4 more");
  });
});

describe("history helpers", () => {
  it("picks round ticks that cover the maximum", () => {
    expect(niceTicks(9)).toEqual([0, 5, 10]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0)).toEqual([0]);
    expect(niceTicks(0.034)).toEqual([0, 0.01, 0.02, 0.03, 0.04]);
  });
  it("labels small durations in ms or s, long ones as durations", () => {
    expect(axisDuration(0.02, 0.04, String)).toBe("20 ms");
    expect(axisDuration(2, 8, String)).toBe("2 s");
    expect(axisDuration(120, 600, (s) => `${s / 60} min`)).toBe("2 min");
  });
  it("says which rows a page shows", () => {
    expect(pageLabel(50, 50, 1234)).toBe("51–100 of 1,234");
    expect(pageLabel(0, 0, 0)).toBe("no jobs");
  });
});
