// @vitest-environment jsdom
// Closing a view leaves nothing behind: no timer (link check, request timeouts, snapshot retry,
// clocks, log watch renewals), no handler on the model, nothing sent afterwards.
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget from "../src/index";
import { SNAPSHOT_TIMEOUT_MS, SyncClient } from "../src/sync";
import { FakeModel, jobsSnapshot, jobsWindow, runningRow, table } from "./wire";



beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = "";
});

describe("SyncClient.dispose", () => {
  it("stops the link timer, the pending requests' timeouts and the snapshot retry", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    client.startLink({ probeMs: 100, timeoutMs: 1000 });
    client.resync();
    const answers = [client.request("cancel", { job_id: "x" }), client.request("retry", { job_id: "y" })];
    for (const answer of answers) answer.catch(() => undefined);
    expect(vi.getTimerCount()).toBeGreaterThanOrEqual(4); // link interval + 4 request timeouts
    client.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(model.handlers).toEqual([]);
    const sent = model.sent.length;
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS * 4);
    expect(model.sent.length).toBe(sent); // no ping, no new snapshot request
    const states: string[] = [];
    client.link.subscribe(() => {
      states.push(client.link.get().state);
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(states).toEqual([]); // a closed view does not turn itself "disconnected"
  });

  it("a snapshot that failed before dispose is not asked again after it", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    client.resync();
    model.deliver({ kind: "reply", id: model.sent[0].id, ok: false, error: "not ready" });
    await vi.advanceTimersByTimeAsync(0); // the retry is now scheduled
    expect(vi.getTimerCount()).toBe(1);
    client.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(SNAPSHOT_TIMEOUT_MS * 4);
    expect(model.sent.length).toBe(1);
  });
});

describe("a view's cleanup", () => {
  for (const kind of ["job_monitor", "project_dashboard"]) {
    it(`${kind}: unmounts, and leaves no timer and no handler`, async () => {
      const model = new FakeModel({ _view_kind: kind });
      const el = document.createElement("div");
      document.body.appendChild(el);
      let cleanup: () => void = () => undefined;
      await act(() => {
        cleanup = widget.render({ model, el });
      });
      const now = Date.now() / 1000;
      const parts =
        kind === "job_monitor"
          ? { jobs: jobsSnapshot({ running: 1 }, { subjects: { s: "sub-01" }, stages: { import: "Import" } }), logs: { tails: {} } }
          : {
              project: {
                project: { id: "p", name: "P" },
                stages: [{ id: "import", label: "Import", depends_on: [] }],
                subjects: [{ id: "s", name: "sub-01", has_t1: true, has_dce: true, has_diffusion: true, statuses: { import: "running" } }],
                active: { s: 1 },
                progress: { s: { import: 40 } },
              },
              subject: {},
              logs: { tails: {} },
            };
      const snapshot = model.sent.find((m) => m.action === "snapshot");
      await act(async () => {
        model.deliver({ kind: "reply", id: snapshot.id, ok: true, result: { rev: 0, t: now, closed: false, parts } });
        await vi.advanceTimersByTimeAsync(0);
      });
      if (kind === "job_monitor") {
        const window = model.sent.find((m) => m.action === "jobs_window");
        const reply = { jobs: table([runningRow(now - 5)]), window: jobsWindow([1], { asked: window.payload.asked }) };
        await act(async () => {
          model.deliver({ kind: "reply", id: window.id, ok: true, result: reply });
          await vi.advanceTimersByTimeAsync(0);
        });
        expect(el.querySelectorAll(".pw-card").length).toBe(1);
      }
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3000); // a ping is pending, clocks tick
      });
      expect(el.textContent).not.toBe("");
      expect(el.querySelector("[data-ready='true']")).not.toBeNull(); // the snapshot was read
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      act(() => cleanup());
      expect(el.innerHTML).toBe("");
      expect(model.handlers).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
      const sent = model.sent.length;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(model.sent.length).toBe(sent);
    });
  }
});
