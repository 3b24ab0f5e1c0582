import { describe, expect, it, vi } from "vitest";
import { applyReply, countJobs, jobsReducer } from "../src/state/jobs";
import { CHANNEL_RETRY_MS, Revisions, SNAPSHOT_RETRY_MS, SNAPSHOT_TIMEOUT_MS, SyncClient } from "../src/sync";
import type { JobRow } from "../src/types";
import { FakeModel, jobsSnapshot, jobsWindow, table } from "./wire";

function job(id: string, seq: number, status: JobRow["status"] = "queued", progress = 0): JobRow {
  return {
    id, project_id: "p", subject_id: "s", stage_id: "import", status, progress, current_step: "", queued_at: seq,
    start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

const VIEW = "view0001";
const reducer = jobsReducer(VIEW);
const snap = (counts: Record<string, number> = {}) => ({ jobs: jobsSnapshot(counts, { subjects: { s: "sub-01" }, stages: { import: "Import" } }) });
/** The state after a snapshot and the reply to the view's first window (`rows` in listing order). */
function holding(rows: JobRow[], more: Parameters<typeof jobsWindow>[1] = {}) {
  const state = reducer.init(jobsSnapshot({ queued: rows.length }), undefined);
  return applyReply(state, { jobs: table(rows), window: jobsWindow(rows.map((r) => r.seq), more) });
}

describe("Revisions", () => {
  it("buffers patches until the snapshot, then drops those it covers", () => {
    const r = new Revisions({ jobs: reducer });
    expect(r.patch({ rev: 4, t: 0, parts: { jobs: { counts: { running: 1 } } } })).toBe("buffered");
    expect(r.patch({ rev: 5, t: 0, parts: { jobs: { counts: { running: 2 } } } })).toBe("buffered");
    expect(r.snapshot(4, 0, snap({ running: 3 }))).toBe(true);
    expect(r.state.rev).toBe(5);
    expect(r.state.parts.jobs.counts.running).toBe(2);
  });
  it("ignores stale patches and applies in order", () => {
    const r = new Revisions({ jobs: reducer });
    r.snapshot(2, 0, snap({ queued: 1 }));
    expect(r.patch({ rev: 2, t: 0, parts: { jobs: { counts: { failed: 1 } } } })).toBe("stale");
    expect(r.state.parts.jobs.counts).toMatchObject({ queued: 1, failed: 0, all: 1 });
    expect(r.patch({ rev: 3, t: 0, parts: { jobs: { counts: { queued: 2 } } } })).toBe("applied");
    expect(r.state.parts.jobs.counts.all).toBe(2);
  });
  it("reports a gap and waits for a new snapshot", () => {
    const r = new Revisions({ jobs: reducer });
    r.snapshot(1, 0, snap());
    expect(r.patch({ rev: 3, t: 0, parts: {} })).toBe("gap");
    expect(r.state.ready).toBe(false);
    expect(r.patch({ rev: 4, t: 0, parts: { jobs: { total: 9 } } })).toBe("buffered");
    expect(r.snapshot(3, 0, snap({ queued: 2 }))).toBe(true);
    expect(r.state.parts.jobs.total).toBe(9);
  });
  it("measures the kernel's clock offset", () => {
    const r = new Revisions({ jobs: reducer });
    r.snapshot(0, 1000, snap(), 990);
    expect(r.state.clockOffset).toBe(10);
  });
});

describe("jobs state (one view's window)", () => {
  it("a snapshot brings counts, names and the start order, no rows", () => {
    const state = reducer.init(
      jobsSnapshot({ running: 1, failed: 2 }, { stage_counts: { t1: { failed: 2 } }, queue: [7, 3], subjects: { s: "sub-01" } }),
      undefined,
    );
    expect(state.counts).toEqual({ all: 3, running: 1, failed: 2, queued: 0, completed: 0, cancelled: 0 });
    expect(countJobs(state, "t1")).toMatchObject({ all: 2, failed: 2 });
    expect(countJobs(state, "other")).toMatchObject({ all: 0 });
    expect(state.queue).toEqual({ 7: 1, 3: 2 });
    expect(state.byId).toEqual({});
    expect(state.window.asked).toBe(-1);
  });
  it("a reply holds the window's rows and the others it names; an older one is ignored", () => {
    const a1 = { ...job("a1", 1, "failed"), attempt: 1 };
    const a2 = { ...job("a2", 2, "running"), attempt: 2, retry_of: "a1" };
    const b = job("b", 3, "failed");
    let state = reducer.init(jobsSnapshot({ running: 1, failed: 1 }), undefined);
    const window = jobsWindow([2, 3], { asked: 2, listed: 2, held: [1], earlier: [[2, [1]]], superseded: [1], actionable: { cancel: 1, retry: 1, queued: 0 } });
    state = applyReply(state, { jobs: table([a2, b, a1]), window });
    expect(Object.keys(state.byId).sort()).toEqual(["a1", "a2", "b"]);
    expect(state.window).toMatchObject({ asked: 2, offset: 0, listed: 2, seqs: [2, 3], earlier: { a2: ["a1"] }, actionable: { cancel: 1 } });
    expect([...state.window.superseded]).toEqual(["a1"]);
    const older = applyReply(state, { jobs: table([job("c", 4)]), window: jobsWindow([4], { asked: 1 }) });
    expect(older).toBe(state);
  });
  it("takes its own view's window from a patch, not another view's", () => {
    let state = holding([job("a", 1, "running"), job("b", 2)]);
    state = reducer.patch(state, { jobs: table([job("x", 9)]), windows: { other: jobsWindow([9], { asked: 5 }) } });
    expect(Object.keys(state.byId)).toEqual(["a", "b"]); // the other view's row is not kept
    expect(state.window.seqs).toEqual([1, 2]);
    state = reducer.patch(state, { jobs: table([job("c", 3, "running")]), windows: { [VIEW]: jobsWindow([3, 1], { asked: 1, listed: 3 }), other: jobsWindow([9], { asked: 6 }) } });
    expect(state.window).toMatchObject({ seqs: [3, 1], listed: 3 });
    expect(Object.keys(state.byId).sort()).toEqual(["a", "c"]); // pruned to ids and held
    expect(state.bySeq).toEqual({ 1: "a", 3: "c" });
  });
  it("ignores a patch's window older than the one applied, still updating the rows held", () => {
    let state = holding([job("a", 1, "running")], { asked: 3 });
    state = reducer.patch(state, { changes: { progress: [[1, 40]] }, windows: { [VIEW]: jobsWindow([5], { asked: 2 }) } });
    expect(state.window.seqs).toEqual([1]);
    expect(state.byId.a.progress).toBe(40);
  });
  it("applies changes to the rows held and skips the others' seqs", () => {
    const state = holding([job("a", 1, "running", 10), job("b", 2, "running", 20)]);
    const before = state.byId.a;
    const next = reducer.patch(state, { changes: { progress: [[1, 60], [99, 1]], current_step: [[1, "Fitting"]] } });
    expect(next.byId.a).toMatchObject({ status: "running", progress: 60, current_step: "Fitting" });
    expect(next.byId.b).toBe(state.byId.b);
    expect(Object.keys(next.byId)).toEqual(["a", "b"]);
    expect(before.progress).toBe(10); // a changed job gets a new row: its card sees the change
  });
  it("a row in a patch without this view's window replaces a held one, and no other comes in", () => {
    const state = reducer.patch(holding([job("a", 1)]), { jobs: table([job("a", 1, "running"), job("z", 26)]) });
    expect(state.byId.a.status).toBe("running");
    expect(state.byId.z).toBeUndefined();
  });
  it("merges counts, the changed stages' counts and new subjects; takes the start order whole", () => {
    let state = reducer.init(jobsSnapshot({ queued: 2 }, { stage_counts: { a: { queued: 1 }, b: { queued: 1 } }, subjects: { s1: "one" }, queue: [1, 2] }), undefined);
    state = reducer.patch(state, { counts: { queued: 1, running: 1 }, stage_counts: { a: { running: 1 } }, subjects: { s2: "two" }, queue: [2], total: 3 });
    expect(state.counts).toMatchObject({ all: 2, queued: 1, running: 1 });
    expect(state.stageCounts.a).toMatchObject({ all: 1, running: 1, queued: 0 });
    expect(state.stageCounts.b).toMatchObject({ all: 1, queued: 1 });
    expect(state.subjects).toEqual({ s1: "one", s2: "two" });
    expect(state.queue).toEqual({ 2: 1 });
    expect(state.total).toBe(3);
  });
  it("keeps the news of the last patch that had some, a new object each time", () => {
    let state = reducer.init(jobsSnapshot(), undefined);
    expect(state.ended).toBeNull();
    const ended = { completed: 2, failed: [], more_failed: 0 };
    state = reducer.patch(state, { ended });
    expect(state.ended).toBe(ended);
    expect(reducer.patch(state, { counts: {} }).ended).toBe(ended);
  });
  it("a new snapshot counts a new generation and keeps the rows drawn until the window comes again", () => {
    const state = holding([job("a", 1)]);
    const again = reducer.init(jobsSnapshot({ completed: 1 }), state);
    expect(again.generation).toBe(state.generation + 1);
    expect(again.byId).toBe(state.byId);
    expect(again.counts.completed).toBe(1);
  });
});

describe("SyncClient", () => {
  it("matches replies by its own id prefix and ignores other views' replies", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, { jobs: reducer });
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
    const client = new SyncClient(model, { jobs: reducer });
    const seen = vi.fn();
    client.store.subscribe(seen);
    client.resync();
    await Promise.resolve(); // the channel's model is found
    model.channel.patch(8, { jobs: { counts: { running: 1 } } });
    model.channel.patch(8, { jobs: { counts: { failed: 1 } } }, 0, "2"); // another widget's
    model.deliver({ kind: "reply", id: model.sent[0].id, ok: true, result: { rev: 7, t: 0, parts: snap({ queued: 1 }) } });
    await Promise.resolve();
    expect(client.store.get().rev).toBe(8);
    expect(client.store.get().parts.jobs.counts).toMatchObject({ running: 1, failed: 0 });
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
      const client = new SyncClient(model, { jobs: reducer });
      client.resync();
      model.deliver({ kind: "reply", id: model.sent[0].id, ok: true, result: { rev: 2, t: 0, parts: snap({ queued: 1 }) } });
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
    const client = new SyncClient(model, { jobs: reducer });
    client.resync();
    expect(model.sent.length).toBe(1);
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS + SNAPSHOT_RETRY_MS + 1);
    expect(model.sent.map((m) => m.action)).toEqual(["snapshot", "snapshot"]);
    model.deliver({ kind: "reply", id: model.sent[1].id, ok: false, error: "not ready" });
    await vi.advanceTimersByTimeAsync(SNAPSHOT_RETRY_MS + 1);
    expect(model.sent.length).toBe(3);
    model.deliver({ kind: "reply", id: model.sent[2].id, ok: true, result: { rev: 1, t: 0, parts: snap({ queued: 1 }) } });
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

describe("SyncClient's reducers for its view", () => {
  it("builds them for its own view id", () => {
    let given = "";
    const client = new SyncClient(new FakeModel(), (viewId) => {
      given = viewId;
      return { jobs: jobsReducer(viewId) };
    });
    expect(given).toBe(client.viewId);
    client.dispose();
  });
});
