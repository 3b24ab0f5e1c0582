import { describe, expect, it, vi } from "vitest";
import { countJobs, earlierAttempts, isNewest, jobsReducer, listJobs, newestFirst, sortJobs } from "../src/state/jobs";
import { CHANNEL_RETRY_MS, Revisions, SNAPSHOT_RETRY_MS, SNAPSHOT_TIMEOUT_MS, SyncClient } from "../src/sync";
import type { JobRow } from "../src/types";
import { FakeModel, table } from "./wire";

function job(id: string, seq: number, status: JobRow["status"] = "queued", progress = 0): JobRow {
  return {
    id, project_id: "p", subject_id: "s", stage_id: "import", status, progress, current_step: "", queued_at: seq,
    start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

const snap = (jobs: JobRow[]) => ({ jobs: { jobs: table(jobs), total: jobs.length, subjects: { s: "sub-01", s2: "sub-02" }, stages: { import: "Import", t1: "T1" }, queue: [] } });
/** A job of its own subject x stage (`stage` defaults to the job id), so that it is nobody's attempt. */
const own = (row: JobRow, stage = row.id): JobRow => ({ ...row, stage_id: stage });

describe("Revisions", () => {
  it("buffers patches until the snapshot, then drops those it covers", () => {
    const r = new Revisions({ jobs: jobsReducer });
    expect(r.patch({ rev: 4, t: 0, parts: { jobs: { jobs: table([job("a", 1, "running", 10)]) } } })).toBe("buffered");
    expect(r.patch({ rev: 5, t: 0, parts: { jobs: { jobs: table([job("a", 1, "running", 50)]) } } })).toBe("buffered");
    expect(r.snapshot(4, 0, snap([job("a", 1, "running", 20)]))).toBe(true);
    expect(r.state.rev).toBe(5);
    expect(r.state.parts.jobs.byId.a.progress).toBe(50);
  });
  it("ignores stale patches and applies in order", () => {
    const r = new Revisions({ jobs: jobsReducer });
    r.snapshot(2, 0, snap([job("a", 1)]));
    expect(r.patch({ rev: 2, t: 0, parts: { jobs: { jobs: table([job("a", 1, "failed")]) } } })).toBe("stale");
    expect(r.state.parts.jobs.byId.a.status).toBe("queued");
    expect(r.patch({ rev: 3, t: 0, parts: { jobs: { jobs: table([job("b", 2)]) } } })).toBe("applied");
    expect(newestFirst(r.state.parts.jobs)).toEqual(["b", "a"]);
  });
  it("reports a gap and waits for a new snapshot", () => {
    const r = new Revisions({ jobs: jobsReducer });
    r.snapshot(1, 0, snap([]));
    expect(r.patch({ rev: 3, t: 0, parts: {} })).toBe("gap");
    expect(r.state.ready).toBe(false);
    expect(r.patch({ rev: 4, t: 0, parts: { jobs: { jobs: table([job("c", 3)]) } } })).toBe("buffered");
    expect(r.snapshot(3, 0, snap([job("b", 2)]))).toBe(true);
    expect(newestFirst(r.state.parts.jobs)).toEqual(["c", "b"]);
  });
  it("measures the kernel's clock offset", () => {
    const r = new Revisions({ jobs: jobsReducer });
    r.snapshot(0, 1000, snap([]), 990);
    expect(r.state.clockOffset).toBe(10);
  });
});

describe("jobs state", () => {
  it("counts and filters by status", () => {
    const state = jobsReducer.init(snap([own(job("a", 1, "running")), own(job("b", 2, "failed")), own(job("c", 3, "failed"))]).jobs, undefined);
    const counts = countJobs(state);
    expect(counts).toMatchObject({ all: 3, running: 1, failed: 2, queued: 0, completed: 0, cancelled: 0 });
    expect(listJobs(state, "failed")).toEqual(["c", "b"]);
  });
  it("filters by subject, stage or id text", () => {
    const state = jobsReducer.init(snap([own(job("abc123", 1, "failed"), "import"), own(job("def456", 2, "running"), "t1")]).jobs, undefined);
    expect(listJobs(state, "all", { query: "SUB-01" })).toEqual(["def456", "abc123"]);
    expect(listJobs(state, "all", { query: "def4" })).toEqual(["def456"]);
    expect(listJobs(state, "failed", { query: "import" })).toEqual(["abc123"]);
    expect(listJobs(state, "all", { query: "nothing" })).toEqual([]);
  });
  it("counts only the stage in focus when one is given", () => {
    const state = jobsReducer.init(snap([own(job("a", 1, "failed"), "import"), own(job("b", 2, "running"), "t1"), { ...own(job("c", 3, "failed"), "t1"), subject_id: "s2" }]).jobs, undefined);
    expect(countJobs(state, "t1")).toMatchObject({ all: 2, running: 1, failed: 1 });
    expect(countJobs(state, "import")).toMatchObject({ all: 1, running: 0, failed: 1 });
    expect(countJobs(state)).toMatchObject({ all: 3, failed: 2 });
  });
  it("counts only the newest attempt of each subject x stage and folds the others under it", () => {
    const first = { ...job("a1", 1, "failed"), attempt: 1 };
    const second = { ...job("a2", 2, "completed"), attempt: 2, retry_of: "a1" };
    const other = own(job("b", 3, "failed"));
    let state = jobsReducer.init(snap([first, other]).jobs, undefined);
    expect(countJobs(state)).toMatchObject({ all: 2, failed: 2 });
    state = jobsReducer.patch(state, { jobs: table([second]) });
    expect(countJobs(state)).toMatchObject({ all: 2, failed: 1, completed: 1 });
    expect(isNewest(state, "a2") && !isNewest(state, "a1")).toBe(true);
    expect(earlierAttempts(state, "a2").map((j) => j.id)).toEqual(["a1"]);
    expect(earlierAttempts(state, "a1")).toEqual([]);
    expect(listJobs(state, "failed")).toEqual(["b"]);
    expect(listJobs(state, "all")).toEqual(["b", "a2"]);
    expect(listJobs(state, "all", { history: true })).toEqual(["b", "a1", "a2"]);
  });
  it("lists running first, then failed, queued, completed, cancelled; an open job keeps its place", () => {
    const statuses: JobRow["status"][] = ["completed", "queued", "cancelled", "running", "failed", "queued", "running"];
    const jobs = statuses.map((status, i) => own(job(`j${i}`, i, status)));
    const state = jobsReducer.init(snap(jobs).jobs, undefined);
    expect(listJobs(state, "all")).toEqual(["j6", "j3", "j4", "j5", "j1", "j0", "j2"]);
    const done = jobsReducer.patch(state, { changes: { status: [[3, "completed"]] } });
    expect(listJobs(done, "all")).toEqual(["j6", "j4", "j5", "j1", "j3", "j0", "j2"]);
    expect(listJobs(done, "all", { pinned: { j3: "running" } })).toEqual(["j6", "j3", "j4", "j5", "j1", "j0", "j2"]);
    expect(listJobs(done, "running", { pinned: { j3: "running" } })).toEqual(["j6", "j3"]);
  });
  it("applies changed fields on top of a known row, naming the job by its seq", () => {
    const state = jobsReducer.init(snap([job("a", 1, "running", 10), job("b", 2, "running", 20)]).jobs, undefined);
    const before = state.byId.a;
    const next = jobsReducer.patch(state, { changes: { progress: [[1, 60], [99, 1]], current_step: [[1, "Fitting"]] } });
    expect(next.byId.a).toMatchObject({ status: "running", progress: 60, current_step: "Fitting" });
    expect(next.byId.b).toBe(state.byId.b);
    expect(Object.keys(next.byId)).toEqual(["a", "b"]);
    expect(before.progress).toBe(10); // a changed job gets a new row: its card sees the change
    expect(next.version).toBe(state.version + 1);
  });
  it("reads every column form of a table: values, fill, codes", () => {
    const rows = [job("a", 1, "running", 10), job("b", 2, "queued"), job("c", 3, "queued"), job("d", 4, "queued")];
    const t = table(rows);
    expect(t.columns.project_id).toEqual({ fill: "p" });
    expect(t.columns.status).toEqual({ values: ["running", "queued"], codes: [0, 1, 1, 1] });
    expect(Array.isArray(t.columns.id)).toBe(true);
    const state = jobsReducer.init({ jobs: t, total: 4, subjects: {}, stages: {}, queue: [] }, undefined);
    expect(rows.every((r) => JSON.stringify(state.byId[r.id]) === JSON.stringify(r))).toBe(true);
    expect(state.bySeq).toEqual({ 1: "a", 2: "b", 3: "c", 4: "d" });
  });
  it("updates its maps in place and counts a new version per patch", () => {
    const state = jobsReducer.init(snap([job("a", 1)]).jobs, undefined);
    const next = jobsReducer.patch(state, { jobs: table([job("a", 1, "running"), job("b", 2)]) });
    expect(next.ascending).toBe(state.ascending);
    expect(next.byId).toBe(state.byId);
    expect(next.ascending).toEqual(["a", "b"]);
    expect(next.version).toBe(1);
  });
});


describe("SyncClient", () => {
  it("matches replies by its own id prefix and ignores other views' replies", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, { jobs: jobsReducer });
    const answer = client.request("ping");
    const { id } = model.sent[0];
    expect(id.startsWith(`${client.viewId}:`)).toBe(true);
    model.deliver({ kind: "reply", id: "someone-else:1", ok: true, result: "not mine" });
    model.deliver({ kind: "reply", id, ok: true, result: { t: 1 } });
    await expect(answer).resolves.toEqual({ t: 1 });
  });
  it("resolves a binary request with the reply's buffers", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    const answer = client.requestBinary("picture", { job_id: "j", index: 0, size: "thumb" });
    const png = new DataView(new Uint8Array([137, 80, 78, 71]).buffer);
    model.deliver({ kind: "reply", id: model.sent[0].id, ok: true, result: { width: 2, height: 1 } }, [png]);
    await expect(answer).resolves.toEqual({ result: { width: 2, height: 1 }, buffers: [png] });
  });
  it("rejects on an error reply", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    const answer = client.request("cancel", { job_id: "x" });
    model.deliver({ kind: "reply", id: model.sent[0].id, ok: false, error: "unknown job id 'x'" });
    await expect(answer).rejects.toThrow("unknown job id");
  });
  it("rebuilds from a snapshot, then follows patches, and resyncs after a gap", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, { jobs: jobsReducer });
    const seen = vi.fn();
    client.store.subscribe(seen);
    client.resync();
    await Promise.resolve(); // the channel's model is found
    model.channel.patch(8, { jobs: { jobs: table([job("a", 1, "running")]) } });
    model.channel.patch(8, { jobs: { jobs: table([job("a", 1, "failed")]) } }, 0, "2"); // another widget's
    model.deliver({ kind: "reply", id: model.sent[0].id, ok: true, result: { rev: 7, t: 0, parts: snap([job("a", 1)]) } });
    await Promise.resolve();
    expect(client.store.get().rev).toBe(8);
    expect(client.store.get().parts.jobs.byId.a.status).toBe("running");
    model.channel.patch(10, {});
    expect(model.sent.length).toBe(2);
    expect(model.sent[1].action).toBe("snapshot");
    expect(seen).toHaveBeenCalled();
    client.dispose();
    expect(model.handlers.length).toBe(0);
    expect(model.channel.handlers.length).toBe(0);
  });
  it("looks again for a channel model not registered yet, then resyncs on the gap it left", async () => {
    vi.useFakeTimers();
    try {
      const model = new FakeModel();
      let registered = false;
      model.widget_manager = { get_model: async () => (registered ? model.channel : Promise.reject(new Error("not yet"))) };
      const client = new SyncClient(model, { jobs: jobsReducer });
      client.resync();
      model.deliver({ kind: "reply", id: model.sent[0].id, ok: true, result: { rev: 2, t: 0, parts: snap([job("a", 1)]) } });
      await vi.advanceTimersByTimeAsync(0);
      expect(model.channel.handlers.length).toBe(0);
      registered = true;
      await vi.advanceTimersByTimeAsync(CHANNEL_RETRY_MS);
      expect(model.channel.handlers.length).toBe(1);
      model.channel.patch(5, {}); // revisions 3 and 4 went out before the view listened
      expect(model.sent.map((m) => m.action)).toEqual(["snapshot", "snapshot"]);
      client.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
  it("asks again for a snapshot that got no answer or an error, until disposed", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const client = new SyncClient(model, { jobs: jobsReducer });
    client.resync();
    expect(model.sent.length).toBe(1);
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS + SNAPSHOT_RETRY_MS + 1);
    expect(model.sent.map((m) => m.action)).toEqual(["snapshot", "snapshot"]);
    model.deliver({ kind: "reply", id: model.sent[1].id, ok: false, error: "not ready" });
    await vi.advanceTimersByTimeAsync(SNAPSHOT_RETRY_MS + 1);
    expect(model.sent.length).toBe(3);
    model.deliver({ kind: "reply", id: model.sent[2].id, ok: true, result: { rev: 1, t: 0, parts: snap([job("a", 1)]) } });
    await vi.advanceTimersByTimeAsync(0);
    expect(client.store.get().ready).toBe(true);
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS * 3);
    expect(model.sent.length).toBe(3);
    const other = new SyncClient(new FakeModel(), {});
    other.resync();
    other.dispose();
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS * 3);
    vi.useRealTimers();
  });
  it("times out when the kernel does not answer", async () => {
    vi.useFakeTimers();
    const client = new SyncClient(new FakeModel(), {});
    const answer = client.request("ping", {}, 3000);
    vi.advanceTimersByTime(3001);
    await expect(answer).rejects.toThrow("no answer");
    vi.useRealTimers();
  });
});

describe("job table sorting", () => {
  it("sorts by a column, stable, either way", () => {
    const rows = [own(job("a", 1, "running", 50)), own(job("b", 2, "completed", 100)), own(job("c", 3, "running", 10))];
    const state = jobsReducer.init(snap(rows).jobs, undefined);
    const ids = listJobs(state, "all");
    expect(ids).toEqual(["c", "a", "b"]);
    expect(sortJobs(state, ids, { key: "progress", descending: false }, 0)).toEqual(["c", "a", "b"]);
    expect(sortJobs(state, ids, { key: "progress", descending: true }, 0)).toEqual(["b", "a", "c"]);
    expect(sortJobs(state, ids, { key: "status", descending: true }, 0)).toEqual(["b", "c", "a"]);
  });
});
