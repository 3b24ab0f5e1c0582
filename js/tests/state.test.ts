import { describe, expect, it } from "vitest";
import { OverviewTally, planStages, projectReducer, selectRows } from "../src/state/project";
import { canRun, stageProgress, subjectReducer } from "../src/state/subject";
import type { SubjectRow } from "../src/types";
import { jobRow as job } from "./wire";

const ids = ["a", "b", "c", "d", "e"];

describe("batch selection", () => {
  it("a click toggles one row", () => {
    expect([...selectRows(ids, new Set(), 1, null, false)]).toEqual(["b"]);
    expect([...selectRows(ids, new Set(["b"]), 1, 1, false)]).toEqual([]);
  });
  it("a shift-click selects the range from the previous click", () => {
    expect([...selectRows(ids, new Set(["b"]), 3, 1, true)].sort()).toEqual(["b", "c", "d"]);
    expect([...selectRows(ids, new Set(["e"]), 1, 4, true)].sort()).toEqual(["b", "c", "d", "e"]);
  });
  it("a shift-click on a selected row clears the range", () => {
    expect([...selectRows(ids, new Set(["a", "b", "c", "d"]), 3, 0, true)]).toEqual([]);
  });
});

describe("project and subject state", () => {
  const stages = [
    { id: "import", label: "Import", depends_on: [] },
    { id: "t1_fit", label: "T1", depends_on: ["import"] },
  ];
  const subject: SubjectRow = { id: "s", name: "sub", has_t1: true, has_dce: false, has_diffusion: false, statuses: { import: "done", t1_fit: "not_run" } };
  it("knows it holds fewer subjects than the project has until a long snapshot's rest arrived", () => {
    const other = (id: string): SubjectRow => ({ ...subject, id, name: id });
    const first = projectReducer.init({ project: { id: "p", name: "P" }, stages, subjects: [subject], total: 3, active: {}, active_total: 0, progress: {} }, undefined);
    expect([first.subjects.length, first.total]).toEqual([1, 3]);
    const all = projectReducer.patch(first, { subjects: [other("b"), other("c")] });
    expect([all.subjects.map((s) => s.id), all.total]).toEqual([["s", "b", "c"], 3]);
    expect(projectReducer.patch(all, { subjects: [other("d")] }).total).toBe(4); // a new subject
  });
  it("updates subjects, changed cells and active counts from patches", () => {
    const state = projectReducer.init({ project: { id: "p", name: "P" }, stages, subjects: [subject], total: 1, active: {}, active_total: 0, progress: {} }, undefined);
    const next = projectReducer.patch(state, {
      cells: { s: { t1_fit: "running" } },
      subjects: [{ ...subject, id: "s2", name: "new" }],
      active: { s: 1 },
      active_total: 1,
    });
    expect(next.subjects.map((s) => s.statuses.t1_fit)).toEqual(["running", "not_run"]);
    expect(next.subjects[0].statuses.import).toBe("done");
    expect(state.subjects[0].statuses.t1_fit).toBe("not_run");
    expect([next.subjects.map((s) => s.active), next.activeTotal]).toEqual([[1, 0], 1]);
    // a whole row (changed details) keeps the subject's active count and percents
    const renamed = projectReducer.patch(next, { subjects: [{ ...subject, name: "renamed" }], progress: { s2: { import: 5 } } });
    expect(renamed.subjects.map((s) => [s.name, s.active, s.progress])).toEqual([["renamed", 1, {}], ["new", 0, { import: 5 }]]);
    // a patch replaces the objects of the subjects it changed, and only those
    const later = projectReducer.patch(renamed, { cells: { s2: { import: "running" } } });
    expect([later.subjects[0] === renamed.subjects[0], later.subjects[1] === renamed.subjects[1]]).toEqual([true, false]);
    expect(projectReducer.patch(later, { active_total: 3 }).subjects).toBe(later.subjects);
  });
  it("applies changes to a stage's newest job by its seq, and takes a newer attempt whole", () => {
    const row = { ...job("j", 5), stage_id: "import" };
    const state = subjectReducer.init({ subject, stages, latest: { import: row } }, undefined);
    const moved = subjectReducer.patch(state, { changes: { progress: [[5, 40]], eta_seconds: [[5, 12], [4, 1]] } });
    expect(moved.latest.import).toMatchObject({ id: "j", progress: 40, eta_seconds: 12 });
    const retried = subjectReducer.patch(moved, { latest: { import: { ...row, id: "j2", seq: 6 } } });
    expect(retried.latest.import.id).toBe("j2");
    expect(subjectReducer.patch(retried, { changes: { progress: [[5, 99]] } }).latest.import.progress).toBe(0);
  });
  it("enables Run only when the dependencies are done", () => {
    const state = subjectReducer.init({ subject, stages, latest: {} }, undefined);
    expect(canRun(state, stages[1])).toBe(true);
    const blocked = subjectReducer.patch(state, { subject: { ...subject, statuses: { import: "failed", t1_fit: "not_run" } } });
    expect(canRun(blocked, stages[1])).toBe(false);
    expect(stageProgress(state)).toEqual({ done: 1, total: 2 });
  });
  it("a reset replaces the subject", () => {
    const state = subjectReducer.init({ subject, stages, latest: {} }, undefined);
    expect(subjectReducer.patch(state, { reset: { subject: null, stages: [], latest: {} } }).subject).toBeNull();
  });
});

describe("job state", () => {
  it("applies a change to the followed job", async () => {
    const { jobReducer } = await import("../src/state/job");
    const state = jobReducer.init({ job: { ...job("j", 3), progress: 1, status: "running" }, subject: "s", stage: "Import" }, undefined);
    expect(jobReducer.patch(state, { changes: { progress: [[3, 50]] } }).job).toMatchObject({ progress: 50, status: "running" });
    expect(jobReducer.patch(state, { changes: { progress: [[4, 50]] } })).toBe(state);
    expect(jobReducer.patch(state, {})).toBe(state);
  });
});

describe("safe runs", () => {
  const stages = [
    { id: "import", label: "Import", depends_on: [] },
    { id: "t1", label: "T1", depends_on: ["import"] },
    { id: "fit", label: "Fit", depends_on: ["t1"] },
    { id: "dwi", label: "DWI", depends_on: ["import"] },
  ];
  it("plans the chosen stages that are not done, with their dependencies that are not either", () => {
    expect(planStages(stages, { import: "done", t1: "failed", fit: "not_run", dwi: "done" }, ["import", "t1", "fit", "dwi"])).toEqual({
      missing: ["t1", "fit"],
      done: ["import", "dwi"],
    });
    expect(planStages(stages, { import: "not_run" }, ["fit"])).toEqual({ missing: ["import", "t1", "fit"], done: [] });
    expect(planStages(stages, { import: "running", t1: "queued", fit: "stale" }, ["fit"]).missing).toEqual(["fit"]);
  });
  it("adds up over the subjects of the run", () => {
    const subject = (id: string, statuses: Record<string, any>) => ({ id, name: id, has_t1: true, has_dce: true, has_diffusion: true, statuses });
    const state = projectReducer.init(
      { project: { id: "p", name: "P" }, stages, subjects: [subject("a", { import: "done", t1: "done" }), subject("b", {})], total: 2, active: {}, active_total: 0, progress: {} },
      undefined,
    );
    const all = stages.map((s) => s.id);
    const plan = (chosen: string[], of = state) => new OverviewTally(stages, all, chosen).read(of.subjects).allPlan;
    expect(plan(all)).toEqual({ missing: 6, done: 2, doneSubjects: 1 });
    // a patch's changed cells change the plan (a tally follows them: it reads the changed subjects)
    const later = projectReducer.patch(state, { cells: { b: { import: "done", t1: "done", fit: "done" } } });
    const tally = new OverviewTally(stages, all, all);
    expect(tally.read(state.subjects).allPlan).toEqual({ missing: 6, done: 2, doneSubjects: 1 });
    expect(tally.read(later.subjects).allPlan).toEqual({ missing: 3, done: 5, doneSubjects: 2 });
    expect(plan(["import"], later)).toEqual({ missing: 0, done: 2, doneSubjects: 2 });
  });
});
