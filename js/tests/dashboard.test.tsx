// @vitest-environment jsdom
// ProjectDashboard: per-stage totals, filters with counts, running percent, a cell opens its job.
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/index";
import { OverviewTally, projectReducer } from "../src/state/project";
import type { ProjectPatch } from "../src/protocol";
import type { JobRow, StageStatus, SubjectRow } from "../src/types";
import { panelShown } from "../src/views/DockNote";
import { FakeModel } from "./wire";


const stages = [
  { id: "import", label: "Import & Index", depends_on: [] },
  { id: "t1_fit", label: "T1/M0 Fitting", depends_on: ["import"] },
];

function subject(id: string, statuses: Record<string, StageStatus>): SubjectRow {
  return { id, name: `sub-${id}`, has_t1: true, has_dce: true, has_diffusion: false, statuses };
}

const subjects = [
  subject("a", { import: "done", t1_fit: "done" }),
  subject("b", { import: "done", t1_fit: "running" }),
  subject("c", { import: "failed", t1_fit: "failed" }),
  subject("d", { import: "running", t1_fit: "not_run" }),
];

function job(stage: string, status: JobRow["status"]): JobRow {
  return {
    id: "job0000000000c1", project_id: "p", subject_id: "c", stage_id: stage, status, progress: 10,
    current_step: "", queued_at: 1, start_time: 1, end_time: 2, error: "sub-c: disk full", log_path: null,
    eta_seconds: null, attempt: 2, priority: 0, retry_of: null, blocked_by: null, cpu_percent: null, memory_rss: null,
    peak_memory_rss: null, seq: 3,
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  document.body.innerHTML = "";
});

async function dashboard() {
  const model = new FakeModel({ _view_kind: "project_dashboard" });
  const el = document.createElement("div");
  document.body.appendChild(el);
  await act(() => {
    cleanup = widget.render({ model, el });
  });
  const project = { project: { id: "p", name: "P" }, stages, subjects, active: { b: 1, d: 1 }, active_total: 2, progress: { b: { t1_fit: 42 }, d: { import: 7 } } };
  await model.reply("snapshot", { rev: 0, t: Date.now() / 1000, closed: false, parts: { project, subject: {}, logs: { tails: {} }, focus: {} } });
  return { model, el };
}

const names = (el: HTMLElement) => [...el.querySelectorAll(".pw-grid-row[aria-rowindex] [role='rowheader']")].map((n) => n.textContent);

describe("dashboard state", () => {
  const both = ["import", "t1_fit"];
  const init = () => projectReducer.init({ project: { id: "p", name: "P" }, stages, subjects, total: subjects.length, active: {}, active_total: 0, progress: {} }, undefined);

  it("counts done, running and failed per stage, the subjects each filter lists and what a run would do", () => {
    const state = init();
    const all = new OverviewTally(stages, both, both).read(state.subjects);
    expect(all.totals).toEqual({ import: { done: 2, running: 1, failed: 1 }, t1_fit: { done: 1, running: 1, failed: 1 } });
    expect(all.counts).toEqual({ all: 4, failed: 1, incomplete: 3 });
    // missing: c's two failed stages and d's t1_fit (its import is running); done: a's two, b's one
    expect(all.allPlan).toEqual({ missing: 3, done: 3, doneSubjects: 2 });
    expect(all.longest).toBe(7);
    const one = new OverviewTally(stages, ["import"], both).read(state.subjects);
    expect([one.counts, Object.keys(one.totals)]).toEqual([{ all: 4, failed: 1, incomplete: 2 }, ["import"]]);
    expect(state.subjects.map((s) => s.progress)).toEqual([{}, {}, {}, {}]);
    const next = projectReducer.patch(state, { progress: { d: { import: 50 } } });
    expect(projectReducer.patch(next, { progress: { d: {} } }).subjects[3].progress).toEqual({});
  });

  it("keeps its sums through patches as a full count would make them", () => {
    const tally = new OverviewTally(stages, both, both);
    let state = init();
    const first = tally.read(state.subjects);
    expect(tally.read(state.subjects)).toBe(first); // the same subjects: nothing worked out again
    const patches: ProjectPatch[] = [
      { cells: { c: { import: "running", t1_fit: "queued" } } },
      { cells: { d: { import: "done" } }, subjects: [subject("e-with-a-long-name", { import: "failed" })] },
      { cells: { b: { t1_fit: "done" }, c: { import: "done" } } },
      { cells: { e: { import: "done" } }, active: { e: 1 } },
    ];
    for (const patch of patches) {
      state = projectReducer.patch(state, patch);
      expect(tally.read(state.subjects)).toEqual(new OverviewTally(stages, both, both).read(state.subjects));
    }
    expect(tally.read(state.subjects).counts).toEqual({ all: 5, failed: 1, incomplete: 3 });
    expect(tally.read(state.subjects).longest).toBe("sub-e-with-a-long-name".length);
  });
});

describe("ProjectDashboard", () => {
  it("shows the totals, the running percent and a legend that names every state", async () => {
    const { el } = await dashboard();
    const total = el.querySelector<HTMLElement>(".pw-stage-total[data-stage-id='import']");
    expect(total?.getAttribute("aria-label")).toBe("Import & Index: 2 done, 1 running, 1 failed");
    const pct = (s: string, st: string) => el.querySelector(`.pw-cell[data-subject-id='${s}'][data-stage-id='${st}'] .pw-cell-pct`)?.textContent;
    expect(pct("b", "t1_fit")).toBe("42%");
    expect(pct("d", "import")).toBe("7%");
    expect(pct("a", "import")).toBeUndefined();
    const legend = [...el.querySelectorAll(".pw-legend li")].map((li) => li.textContent);
    expect(legend).toEqual(["done", "running", "queued", "failed", "waiting", "stale", "not run"]);
  });

  it("filters: failed only and incomplete, with their counts", async () => {
    const { el } = await dashboard();
    const radio = (key: string) => el.querySelector<HTMLButtonElement>(`[role='radio'][data-filter='${key}']`);
    expect(radio("failed")?.textContent).toBe("Failed 1");
    expect(radio("incomplete")?.textContent).toBe("Incomplete 3");
    expect(names(el)).toEqual(["sub-a", "sub-b", "sub-c", "sub-d"]);
    await act(() => radio("failed")?.click());
    expect(radio("failed")?.getAttribute("aria-checked")).toBe("true");
    expect(names(el)).toEqual(["sub-c"]);
    await act(() => radio("incomplete")?.click());
    expect(names(el)).toEqual(["sub-b", "sub-c", "sub-d"]);
  });

  it("a click on a cell opens its subject and shows that stage's latest job", async () => {
    const { model, el } = await dashboard();
    const cell = el.querySelector<HTMLButtonElement>(".pw-cell[data-subject-id='c'][data-stage-id='t1_fit'] button");
    await act(() => cell?.click());
    const open = model.sent.filter((m) => m.action === "open_subject");
    expect(open.map((m) => m.payload)).toEqual([{ subject_id: "c" }]);
    await model.reply("open_subject", { subject_id: "c" });
    const reset = { subject: subjects[2], stages, latest: { t1_fit: job("t1_fit", "failed") } };
    await act(async () => {
      model.channel.patch(1, { subject: { reset } }, Date.now() / 1000);
      await new Promise((r) => setTimeout(r, 0));
    });
    const detail = el.querySelector("[role='region'][aria-label='T1/M0 Fitting details']");
    expect(detail?.textContent).toContain("sub-c: disk full");
    expect(detail?.textContent).toContain("job00000");
    expect(cell?.classList.contains("pw-selected")).toBe(true);
    expect(model.sent.some((m) => m.action === "watch" && m.payload.job_ids[0] === "job0000000000c1")).toBe(true);
    // another stage of the open subject: no new request, the panel switches stage
    await act(() => el.querySelector<HTMLButtonElement>(".pw-cell[data-subject-id='c'][data-stage-id='import'] button")?.click());
    expect(model.sent.filter((m) => m.action === "open_subject").length).toBe(1);
    const regions = [...el.querySelectorAll("[role='region']")];
    expect(regions.find((r) => r.getAttribute("aria-label") === "Import & Index details")?.textContent).toContain("No job has run");
  });

  it("ctrl-click and Space select cells, a header box its column; the bar's Run sends them; Escape clears", async () => {
    const { model, el } = await dashboard();
    const cell = (s: string, st: string) => el.querySelector<HTMLElement>(`.pw-cell[data-subject-id='${s}'][data-stage-id='${st}']`) as HTMLElement;
    const bar = () => el.querySelector("[role='toolbar'][aria-label='Selected cells']");
    await act(() => { cell("c", "import").querySelector("button")?.dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true })); });
    expect(model.sent.some((m) => m.action === "open_subject")).toBe(false); // selects, does not open
    expect(cell("c", "import").getAttribute("aria-selected")).toBe("true");
    await act(() => { cell("d", "t1_fit").querySelector("button")?.dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true })); });
    expect(bar()?.textContent).toContain("2 cells selected");
    expect(bar()?.textContent).toContain("2 to run · 0 done · 0 queued or running");
    const column = el.querySelector<HTMLInputElement>("input[aria-label='Select stage T1/M0 Fitting']");
    await act(() => column?.click());
    // t1_fit of a (done), b (running), c (failed), d (already selected) and c's import
    expect(bar()?.textContent).toContain("5 cells selected");
    expect(bar()?.textContent).toContain("3 to run · 1 done · 1 queued or running");
    const button = (name: string) => [...(bar()?.querySelectorAll("button") ?? [])].find((b) => b.textContent === name) as HTMLButtonElement;
    await act(() => button("Cancel · 1…").click());
    expect(bar()?.querySelector("[role='alertdialog']")?.textContent).toContain("Cancel 1 job of the 5 selected cells? 4 are not queued or running.");
    await act(() => button("Run · 3").click());
    const sent = model.sent.filter((m) => m.action === "cells");
    expect(sent.map((m) => m.payload.action)).toEqual(["run"]);
    expect(sent[0].payload.cells.map((c: string[]) => c.join(":")).sort()).toEqual(["a:t1_fit", "b:t1_fit", "c:import", "c:t1_fit", "d:t1_fit"]);
    await model.reply("cells", { action: "run", cells: 5, acted: 3, jobs: 4 });
    expect(el.textContent).toContain("Run: 4 jobs queued for 3 of the 5 selected cells (1 for dependencies outside the selection); 2 were done, queued or running");
    await act(() => { el.querySelector("section")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })); });
    expect(bar()).toBeNull();
    expect(el.querySelectorAll(".pw-cell[aria-selected='true']").length).toBe(0);
  });
});

describe("DockNote", () => {
  it("finds the sidecar panel by its tab's title, only in JupyterLab", () => {
    document.body.innerHTML = `<div class="jp-LabShell"><div class="lm-TabBar-tabLabel">Jobs</div><div class="jupyterlab-sidecar"></div></div>`;
    expect(panelShown(document, "Jobs")).toBe(true);
    expect(panelShown(document, "Other")).toBe(false);
    document.body.innerHTML = `<div class="lm-TabBar-tabLabel">Jobs</div><div class="jupyterlab-sidecar"></div>`;
    expect(panelShown(document, "Jobs")).toBe(false);
  });
});
