// @vitest-environment jsdom
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../src/index";
import type { JobRow, LogLine } from "../src/types";
import { FakeModel, jobsSnapshot, jobsWindow, mount, table, unmountAll } from "./wire";


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
    const jobs = Array.from({ length: 60 }, (_, i) => job(i + 1, i % 10 === 0 ? "failed" : "completed"));
    await model.reply("snapshot", { rev: 0, t: Date.now() / 1000, parts: { jobs: jobsSnapshot({ completed: 1800, failed: 200 }, { subjects: { s: EVIL }, stages: { import: "Import" } }), logs: { tails: {} } } });
    await model.replyWindow(jobs, { listed: 2000 });
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
    await model.reply("snapshot", { rev: 3, t: 0, parts: { jobs: jobsSnapshot(), logs: { tails: {} } } });
    expect(el.textContent).toContain("No jobs yet");
    const { view, asked } = model.last("jobs_window").payload;
    await act(() => model.channel.patch(4, { jobs: { jobs: table([job(1, "running")]), windows: { [view]: jobsWindow([1], { asked }) }, counts: { running: 1 } } }));
    expect(el.querySelectorAll(".pw-card").length).toBe(1);
    expect(el.querySelector(".pw-card")?.textContent).toContain("Cancel");
    expect(el.querySelector('[data-tab="running"] .pw-count')?.textContent).toBe("1");
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
      await model.reply("snapshot", { rev: 0, t: 0, parts: { jobs: jobsSnapshot({ running: 1, queued: 1, completed: 1 }), logs: { tails: {} } } });
      await model.replyWindow([job(1, "running"), job(2, "queued"), job(3)]);
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

describe("JobMonitor's window", () => {
  async function monitor(listed = 2000) {
    const { model, el } = await mount({ _view_kind: "job_monitor" });
    const counts = { running: 10, failed: 40, queued: listed - 100, completed: 50 };
    await model.reply("snapshot", { rev: 0, t: 0, parts: { jobs: jobsSnapshot(counts, { subjects: { s: "sub-01" } }), logs: { tails: {} } } });
    return { model, el };
  }
  const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => job(from + i + 1, "queued"));
  const scroller = (el: HTMLElement) => el.querySelector<HTMLElement>(".pw-scroll") as HTMLElement;
  async function scrollTo(el: HTMLElement, top: number) {
    const list = scroller(el);
    Object.defineProperty(list, "scrollTop", { configurable: true, value: top });
    await act(() => {
      list.dispatchEvent(new Event("scroll"));
    });
  }

  it("asks for the rows around the top of its listing once it has its state", async () => {
    const { model } = await monitor();
    const request = model.last("jobs_window");
    expect(request.payload).toEqual({
      view: request.payload.view, asked: 1, tab: "all", query: null, history: false, stage_id: null, sort: null, descending: false,
      offset: 0, count: 8 * Math.ceil(520 / 28), pinned: [], keep: [],
    });
    expect(request.payload.view).toMatch(/^\w{8}$/);
  });

  it("asks again from the top on a tab change, a sort and (after a pause) a filter", async () => {
    const { model, el } = await monitor();
    await model.replyWindow(rows(0, 152), { listed: 2000 });
    await act(() => el.querySelector<HTMLElement>('[data-tab="failed"]')?.click());
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 2, tab: "failed", offset: 0 });
    await model.replyWindow(rows(0, 40).map((r) => ({ ...r, status: "failed" as const })), { listed: 40 });
    expect(el.querySelector('[data-tab="failed"] .pw-count')?.textContent).toBe("40");
    await act(() => el.querySelector<HTMLElement>('button[aria-label="Sort by progress"]')?.click());
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 3, sort: "progress", descending: false });
    const search = el.querySelector<HTMLInputElement>('input[type="search"]') as HTMLInputElement;
    await act(() => {
      search.value = " sub-0 ";
      search.dispatchEvent(new Event("input"));
    });
    expect(model.last("jobs_window").payload.asked).toBe(3); // not at every key
    await act(() => new Promise((r) => setTimeout(r, 200)));
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 4, query: "sub-0", tab: "failed" });
  });

  it("draws rows outside its window as placeholders and asks for them as they near the viewport", async () => {
    const { model, el } = await monitor();
    await model.replyWindow(rows(0, 152), { listed: 2000 });
    expect(el.querySelectorAll(".pw-job-placeholder").length).toBe(0);
    await scrollTo(el, 28 * 10); // rows 10..28 shown: less than a screen from where the window is
    expect(model.last("jobs_window").payload.asked).toBe(1);
    await scrollTo(el, 28 * 1000);
    expect(el.querySelectorAll(".pw-card").length).toBe(0);
    const placeholders = el.querySelectorAll(".pw-job-placeholder");
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders[0].getAttribute("aria-busy")).toBe("true");
    // scrolling down: the window reaches a screen (19 rows) behind and seven ahead
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 2, offset: 1000 - 19, count: 152 });
    await model.replyWindow(rows(981, 152), { listed: 2000 });
    expect(el.querySelectorAll(".pw-job-placeholder").length).toBe(0);
    expect(el.querySelector(".pw-card")?.getAttribute("data-job-id")).toBe(job(997).id); // overscan of 4 above row 1000
    // a jump of three screens lands on rows held, and asks for the next ones before they are needed
    await scrollTo(el, 28 * 1057);
    expect(el.querySelectorAll(".pw-job-placeholder").length).toBe(0);
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 3, offset: 1057 - 19 });
    // scrolling up: the window reaches six screens above and a screen below
    await scrollTo(el, 28 * 1020);
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 4, offset: 1020 - 6 * 19 });
    // near the end: the window ends at the listing's end
    await scrollTo(el, 28 * 1990);
    expect(model.last("jobs_window").payload).toMatchObject({ asked: 5, offset: 2000 - 152 });
  });

  it("an open card is pinned and a picked job kept in the window it asks for", async () => {
    const { model, el } = await monitor();
    await model.replyWindow(rows(0, 152), { listed: 2000 });
    await act(() => el.querySelector<HTMLElement>(".pw-card-toggle")?.click());
    expect(model.last("jobs_window").payload.pinned).toEqual([[job(1).id, "queued"]]);
    await act(() => el.querySelectorAll<HTMLInputElement>('.pw-card input[type="checkbox"]')[1].click());
    expect(model.last("jobs_window").payload.keep).toEqual([job(2).id]);
    expect(el.querySelector('[data-testid="selected-count"]')?.textContent).toBe("1 selected");
    expect(el.querySelector(".pw-batch")?.textContent).toContain("Run next 1");
  });

  it("renews its window every 10 s, and asks again after a new snapshot (a resync)", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const { model, el } = await monitor();
      await model.replyWindow(rows(0, 152), { listed: 2000 });
      await act(() => {
        vi.advanceTimersByTime(10_000);
      });
      expect(model.last("jobs_window").payload).toMatchObject({ asked: 2, offset: 0 });
      await act(() => model.channel.patch(5, {})); // a gap: the view asks for its state again
      await model.reply("snapshot", { rev: 5, t: 0, parts: { jobs: jobsSnapshot({ queued: 2000 }), logs: { tails: {} } } });
      expect(model.last("jobs_window").payload.asked).toBe(3);
      expect(el.querySelectorAll(".pw-card").length).toBeGreaterThan(0); // drawn until the window comes
    } finally {
      vi.useRealTimers();
    }
  });

  it("select all acts on the whole listing through the kernel (listed_by), until the listing changes", async () => {
    const { model, el } = await monitor();
    const actionable = { cancel: 1950, retry: 40, queued: 1900 };
    await model.replyWindow(rows(0, 152), { listed: 2000, actionable });
    const all = el.querySelector<HTMLInputElement>('input[aria-label="Select all 2000 jobs shown"]');
    await act(() => all?.click());
    expect(el.querySelector('[data-testid="selected-count"]')?.textContent).toBe("2000 selected");
    const buttons = [...el.querySelectorAll<HTMLButtonElement>(".pw-batch button")];
    expect(buttons.map((b) => b.textContent).slice(0, 3)).toEqual(["Cancel 1950…", "Retry 40…", "Run next 1900"]);
    expect([...el.querySelectorAll<HTMLInputElement>('.pw-card input[type="checkbox"]')].every((b) => b.checked)).toBe(true);
    await act(() => buttons[0].click());
    expect(el.querySelector('[role="alertdialog"]')?.textContent).toContain("Cancel 1950 jobs of the 2000 selected? 50 are not queued or running.");
    await act(() => [...el.querySelectorAll<HTMLButtonElement>('[role="alertdialog"] button')].find((b) => b.textContent === "Cancel 1950 jobs")?.click());
    const view = model.last("jobs_window").payload.view;
    expect(model.last("cancel_many").payload).toEqual({ job_ids: [], listed_by: view });
    await act(() => [...el.querySelectorAll<HTMLButtonElement>(".pw-batch button")].find((b) => b.textContent === "Run next 1900")?.click());
    expect(model.last("prioritize").payload).toEqual({ job_ids: [], listed_by: view, move: "next" });
    await act(() => el.querySelector<HTMLElement>('[data-tab="queued"]')?.click());
    expect(el.querySelector('[data-testid="selected-count"]')).toBeNull();
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
