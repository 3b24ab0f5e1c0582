// @vitest-environment jsdom
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../src/index";
import type { JobRow, LogLine } from "../src/types";
import { FakeModel, mount, table, unmountAll } from "./wire";


const EVIL = '<img src=x onerror="window.__pwned=1">';

function job(i: number, status: JobRow["status"] = "completed"): JobRow {
  return {
    id: `job${String(i).padStart(12, "0")}`, project_id: "p", subject_id: "s", stage_id: `stage-${i}`, status,
    progress: 100, current_step: EVIL, queued_at: i, start_time: i, end_time: i + 1, error: status === "failed" ? EVIL : null,
    log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null, blocked_by: null, cpu_percent: null,
    memory_rss: null, peak_memory_rss: null, seq: i,
  };
}

afterEach(unmountAll);

describe("views in a DOM", () => {
  it("a view that throws while drawing says so as text instead of staying on Loading", async () => {
    const { model, el } = await mount({ _view_kind: "subject_detail" });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      // a subject whose stage list is not a list: SubjectPanel cannot draw it
      await model.reply("snapshot", { rev: 0, t: Date.now() / 1000, parts: { subject: { subject: { id: "s", name: EVIL, statuses: {} }, stages: 7, latest: {} }, logs: { tails: {} } } });
    } finally {
      console.error = original;
    }
    const alert = el.querySelector(".pw-view-error");
    expect(alert?.getAttribute("role")).toBe("alert");
    expect(alert?.textContent).toContain("This monitor failed to draw");
    expect(el.textContent).not.toContain("Loading subject");
    expect(errors.length).toBeGreaterThan(0);
  });
  it("a snapshot that comes before the view subscribed (its effects not run yet) is drawn", async () => {
    const model = new FakeModel({ _view_kind: "pipeline_graph" });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const close = widget.render({ model, el }); // no act(): the view's effects wait for the next frame
    const request = model.sent.find((m) => m.action === "snapshot");
    model.deliver({ kind: "beat", busy: false, store_error: null, closed: false, t: 0 }); // live already
    const none = { done: 0, stale: 0, running: 0, queued: 0, waiting: 0, failed: 0, not_run: 1 };
    const graph = {
      project: { id: "p", name: "early" },
      stages: [{ id: "a", label: "Stage A", depends_on: [] }],
      counts: { a: none },
      median: { a: null },
      blocked: [],
      subjects: 1,
    };
    model.deliver({ kind: "reply", id: request.id, ok: true, result: { rev: 0, t: 0, parts: { graph, focus: { stage_id: null, label: null } } } });
    await act(async () => {
      await new Promise((r) => setTimeout(r, 100)); // the reply's promise, then the effects
    });
    expect(el.textContent).not.toContain("Loading");
    expect(el.querySelector(".pw-graph-label")?.textContent).toBe("Stage A");
    close();
  });
  it("JobMonitor keeps the DOM small with 2,000 jobs and renders data as text", async () => {
    const { model, el } = await mount({ _view_kind: "job_monitor" });
    const jobs = Array.from({ length: 2000 }, (_, i) => job(i + 1, i % 10 === 0 ? "failed" : "completed"));
    await model.reply("snapshot", { rev: 0, t: Date.now() / 1000, parts: { jobs: { jobs: table(jobs), subjects: { s: EVIL }, stages: { import: "Import" } }, logs: { tails: {} } } });
    const cards = el.querySelectorAll(".pw-card");
    expect(cards.length).toBeGreaterThan(0);
    expect(cards.length).toBeLessThan(30);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain(EVIL);
    expect(el.querySelector('[role="tab"][aria-selected="true"]')?.textContent).toContain("2000");
    expect((window as any).__pwned).toBeUndefined();
  });

  it("JobMonitor applies patches after its snapshot", async () => {
    const { model, el } = await mount({ _view_kind: "job_monitor" });
    await model.reply("snapshot", { rev: 3, t: 0, parts: { jobs: { jobs: table([]), subjects: {}, stages: {} }, logs: { tails: {} } } });
    expect(el.textContent).toContain("No jobs yet");
    await act(() => model.channel.patch(4, { jobs: { jobs: table([job(1, "running")]) } }));
    expect(el.querySelectorAll(".pw-card").length).toBe(1);
    expect(el.querySelector(".pw-card")?.textContent).toContain("Cancel");
  });

  it("JobMonitor rows take the height the stylesheet gives them, again when the view is resized", async () => {
    // a container query changes --pw-job-row-height; the view reads it when its list resizes
    const style = document.createElement("style");
    style.textContent = ".pw-jobs { --pw-job-row-height: 40px; }";
    document.head.appendChild(style);
    const resized: (() => void)[] = [];
    vi.stubGlobal("ResizeObserver", class {
      constructor(private cb: () => void) {}
      observe() {
        resized.push(this.cb);
      }
      disconnect() {}
    });
    try {
      const { model, el } = await mount({ _view_kind: "job_monitor" });
      await model.reply("snapshot", { rev: 0, t: 0, parts: { jobs: { jobs: table([job(1, "running"), job(2, "queued"), job(3)]), subjects: {}, stages: {} }, logs: { tails: {} } } });
      const heights = () => Array.from(el.querySelectorAll<HTMLElement>(".pw-card"), (c) => c.style.height);
      expect(heights()).toEqual(["40px", "40px", "40px"]);
      expect(resized.length).toBe(1);
      style.textContent = ".pw-jobs { --pw-job-row-height: 28px; }";
      await act(() => resized[0]());
      expect(heights()).toEqual(["28px", "28px", "28px"]);
    } finally {
      vi.unstubAllGlobals();
      style.remove();
    }
  });

  it("LogStream shows its tail as text and waits politely when empty", async () => {
    const { model, el } = await mount({ _view_kind: "log_stream", job_id: "j1" });
    const lines: LogLine[] = [[1, 0, "ERROR", EVIL]];
    await model.reply("snapshot", { rev: 0, t: 0, parts: { job: { job: job(1, "running"), subject: "s", stage: "Import" }, logs: { tails: { j1: lines } } } });
    expect(el.querySelector(".pw-lvl-ERROR")?.textContent).toContain(EVIL);
    expect(el.querySelector("img")).toBeNull();
    const other = await mount({ _view_kind: "log_stream", job_id: "j2" });
    await other.model.reply("snapshot", { rev: 0, t: 0, parts: { job: { job: null, subject: "", stage: "" }, logs: { tails: { j2: [] } } } });
    expect(other.el.textContent).toContain("Waiting for logs...");
  });

  it("ConnectionStatus turns Connected on an answer", async () => {
    const { model, el } = await mount({ _view_kind: "connection_status", interval_ms: 1000, timeout_ms: 3000 });
    expect(el.textContent).toContain("Connecting");
    await model.reply("ping", { t: 0 });
    await act(() => new Promise((r) => setTimeout(r, 300)));
    expect(el.textContent).toContain("Connected");
  });

  it("an unknown view kind says so", async () => {
    const { el } = await mount({ _view_kind: "nope" });
    expect(el.textContent).toContain("unknown view");
  });
});

describe("QcReview with a cohort", () => {
  it("a key press or a rating draws only the tiles it changed, not all 200", async () => {
    const { TileView } = await import("../src/views/QcReview");
    const { model, el } = await mount({ _view_kind: "qc_review" });
    const tiles = Array.from({ length: 200 }, (_, i) => ({ subject_id: `s${i}`, name: `sub-${i}`, job_id: null, index: null }));
    const review = { project: "p", stage: { id: "fit", label: "Fit" }, label: null, labels: [], tiles };
    await model.reply("snapshot", { rev: 0, t: 0, parts: { review, qc: { ratings: {} } } });
    const grid = el.querySelector<HTMLElement>("[role=listbox]");
    expect(grid?.querySelectorAll("[role=option]").length).toBe(200);
    Element.prototype.scrollIntoView ??= () => undefined; // jsdom has no layout
    const drawn = vi.spyOn(TileView.prototype, "render");
    await act(() => {
      grid?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    });
    expect(grid?.querySelector("[aria-selected=true]")?.getAttribute("aria-label")).toBe("sub-1: not rated");
    expect(drawn).toHaveBeenCalledTimes(2); // the tile left and the tile reached
    drawn.mockClear();
    await act(() => model.channel.patch(1, { qc: { ratings: { s7: { fit: { rating: "fail", note: EVIL, time: 1 } } } } }));
    expect(drawn).toHaveBeenCalledTimes(1);
    expect(grid?.querySelector("[data-subject-id=s7]")?.getAttribute("aria-label")).toBe(`sub-7: failed, note: ${EVIL}`);
    expect((window as any).__pwned).toBeUndefined();
    drawn.mockRestore();
  });
});
