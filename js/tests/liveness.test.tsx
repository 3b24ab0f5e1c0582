// @vitest-environment jsdom
// A closed engine and a gone kernel: the banner, disabled buttons, frozen clocks, plain errors.
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { failure } from "../src/errors";
import widget from "../src/index";
import type { Link } from "../src/link";
import { FakeModel, jobsSnapshot, runningRow } from "./wire";



let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  document.body.innerHTML = "";
});

async function monitor() {
  const model = new FakeModel({ _view_kind: "job_monitor" });
  const el = document.createElement("div");
  document.body.appendChild(el);
  await act(() => {
    cleanup = widget.render({ model, el });
  });
  const now = Date.now() / 1000;
  const jobs = jobsSnapshot({ running: 1 }, { subjects: { s: "sub-01" }, stages: { import: "Import" } });
  await model.reply("snapshot", { rev: 0, t: now, closed: false, parts: { jobs, logs: { tails: {} } } });
  await model.replyWindow([runningRow(now - 5)]);
  return { model, el };
}

describe("a closed engine", () => {
  it("a beat saying closed shows the banner, disables every action and hides the ETA", async () => {
    const { model, el } = await monitor();
    const cancel = el.querySelector<HTMLButtonElement>('button[aria-label="Cancel Import for sub-01"]');
    expect(cancel?.disabled).toBe(false);
    expect(el.textContent).toContain("~2 s");
    await act(() => model.deliver({ kind: "beat", busy: false, closed: true, t: Date.now() / 1000 }));
    expect(el.querySelector("[data-link]")?.getAttribute("data-link")).toBe("closed");
    expect(el.textContent).toContain("The engine was closed — create a new one and re-run this cell");
    expect(el.querySelector<HTMLButtonElement>('button[aria-label="Cancel Import for sub-01"]')?.disabled).toBe(true);
    expect([...el.querySelectorAll<HTMLButtonElement>(".pw-btn-danger")].every((b) => b.disabled)).toBe(true);
    expect(el.textContent).not.toContain("~2 s");
  });

  it("a snapshot saying closed does the same for a view opened late", async () => {
    const model = new FakeModel({ _view_kind: "job_monitor" });
    const el = document.createElement("div");
    document.body.appendChild(el);
    await act(() => {
      cleanup = widget.render({ model, el });
    });
    await model.reply("snapshot", { rev: 0, t: 0, closed: true, parts: { jobs: jobsSnapshot(), logs: { tails: {} } } });
    expect(el.querySelector("[data-link]")?.getAttribute("data-link")).toBe("closed");
  });
});

describe("plain-language failures", () => {
  const live: Link = { state: "live", answers: true, latencyMs: 1, storeError: null, engineClosed: false };
  it("names the action and a reason a user can act on", () => {
    expect(failure("cancel", new Error("the kernel is not running (its connection is closed)"), live)).toBe(
      "Cannot cancel: the kernel is not running",
    );
    expect(failure("cancel", new Error("anything"), { ...live, state: "disconnected" })).toBe("Cannot cancel: the kernel is not running");
    expect(failure("retry", new Error("the engine was closed; create a new one and re-run this cell"), live)).toBe(
      "Cannot retry: the engine was closed — create a new one and re-run this cell",
    );
    expect(failure("run", new Error("no answer from the kernel to run_pipeline within 15 s"), live)).toMatch(/^Cannot run: the kernel did not answer/);
    expect(failure("retry", new Error("job 'x' is completed; only failed or cancelled jobs can be retried"), live)).toBe(
      "Cannot retry: job 'x' is completed; only failed or cancelled jobs can be retried",
    );
  });
});

describe("toasts", () => {
  it("an error says what failed in plain words and stays until dismissed", async () => {
    const model = new FakeModel({ _view_kind: "project_dashboard" });
    const el = document.createElement("div");
    document.body.appendChild(el);
    await act(() => {
      cleanup = widget.render({ model, el });
    });
    const stages = [{ id: "import", label: "Import", depends_on: [] }];
    const subjects = [{ id: "s", name: "sub-01", has_t1: true, has_dce: true, has_diffusion: true, statuses: {} }];
    await model.reply("snapshot", { rev: 0, t: 0, parts: { project: { project: { id: "p", name: "P" }, stages, subjects, active: {} }, subject: {}, logs: { tails: {} } } });
    const runAll = [...el.querySelectorAll("button")].find((b) => b.textContent === "Run all · 1 missing");
    await act(() => runAll?.click());
    const request = model.sent.find((m) => m.action === "run_pipeline");
    expect(request.payload).toEqual({ subject_ids: null, stage_ids: ["import"], rerun_done: false });
    await act(async () => {
      model.deliver({ kind: "reply", id: request.id, ok: false, error: "the engine was closed; create a new one and re-run this cell" });
      await new Promise((r) => setTimeout(r, 0));
    });
    const toast = el.querySelector(".pw-toast-slot .pw-notice-error");
    expect(toast?.textContent).toContain("Cannot run: the engine was closed — create a new one and re-run this cell");
    await act(() => toast?.querySelector<HTMLButtonElement>('button[aria-label="Dismiss"]')?.click());
    expect(el.querySelector(".pw-toast-slot .pw-notice")).toBeNull();
  });
});
