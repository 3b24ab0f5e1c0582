// ProjectDashboard: subjects x stages grid, run controls, batch selection, the opened subject.

import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { Badge } from "../components/Badge";
import { FocusChip } from "../components/FocusChip";
import { Icon, QcMark, STAGE_ICONS, STAGE_LABELS, StatusMark } from "../components/Icons";
import { Notice, useNotice } from "../components/Notice";
import { VirtualList } from "../components/VirtualList";
import { useStore, useCanAct } from "../hooks";
import { focusReducer } from "../state/focus";
import { failure } from "../errors";
import { logsReducer } from "../state/logs";
import { OverviewTally, planStages, projectReducer, type SubjectFilter, subjectMatches } from "../state/project";
import { cellKey, cellPairs, coverage, EMPTY_SELECTION, planCells, selectionReducer } from "../state/selection";
import { MAX_BATCH_CELLS, type CellsDone, type CellsPayload } from "../protocol";
import { qcReducer } from "../state/qc";
import { subjectReducer } from "../state/subject";
import type { SyncClient } from "../sync";
import type { StageStatus } from "../types";
import { ModalityBadges, SubjectPanel } from "./SubjectPanel";
import { TemplatesControl } from "./Templates";

export const dashboardReducers = { project: projectReducer, subject: subjectReducer, logs: logsReducer, focus: focusReducer, qc: qcReducer };
type Client = SyncClient<typeof dashboardReducers>;

const ROW_HEIGHT = 28;
const CHECK_WIDTH = 28;
const DATA_WIDTH = 106;
const STAGE_MIN_WIDTH = 62;
const RUN_WIDTH = 32;

/** A <details> popover that closes on Escape (focus back on its summary) and on a click outside. */
export function useDismissable() {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const onPointer = (e: Event) => {
      const el = ref.current;
      if (el?.open && !el.contains(e.target as Node)) el.open = false;
    };
    document.addEventListener("pointerdown", onPointer, true);
    return () => document.removeEventListener("pointerdown", onPointer, true);
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    const el = ref.current;
    if (e.key === "Escape" && el?.open) {
      e.preventDefault();
      e.stopPropagation(); // JupyterLab would leave edit mode
      el.open = false;
      el.querySelector("summary")?.focus();
    }
  };
  return { ref, onKeyDown };
}

/** The cell states, in the order the legend lists them. */
const LEGEND: StageStatus[] = ["done", "running", "queued", "failed", "waiting", "stale", "not_run"];

const FILTERS: { key: SubjectFilter; label: string; title: string }[] = [
  { key: "all", label: "All", title: "Every subject" },
  { key: "failed", label: "Failed", title: "Subjects with a failed stage" },
  { key: "incomplete", label: "Incomplete", title: "Subjects with a stage that is not done" },
];

/** Whether a scroller has more to show to its left and right (the grid's horizontal scroll cue). */
/** Whether the grid scrolls sideways, and which edges hide columns: measured when `content`
 * (what sets the grid's width) changes, on a resize and on a scroll; never on every render (a
 * measure forces a layout of the whole grid). */
function useOverflow(content: string) {
  const ref = useRef<HTMLDivElement>(null);
  const [edges, setEdges] = useState({ left: false, right: false });
  const measure = () => {
    const el = ref.current;
    if (!el) return;
    const left = el.scrollLeft > 1;
    const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
    setEdges((prev) => (prev.left === left && prev.right === right ? prev : { left, right }));
  };
  useLayoutEffect(measure, [content]);
  const mounted = ref.current !== null;
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [mounted]);
  return { ref, edges, measure };
}

export function ProjectDashboard({ client }: { client: Client }) {
  const state = useStore(client.store);
  const link = useStore(client.link);
  const live = useCanAct(client);
  const [selection, select] = useReducer(selectionReducer, EMPTY_SELECTION);
  const [batchConfirm, setBatchConfirm] = useState<"rerun" | "cancel" | null>(null);
  const [excluded, setExcluded] = useState<Set<string>>(new Set());
  const anchor = useRef<number | null>(null);
  const [notice, say, dismiss] = useNotice();
  const [confirmRerun, setConfirmRerun] = useState(false);
  const popover = useDismissable();
  const [filter, setFilter] = useState<SubjectFilter>("all");
  const [openStage, setOpenStage] = useState<string | null>(null);
  const detailRef = useRef<HTMLDivElement>(null);
  const barRef = useRef<HTMLDivElement>(null);
  const barFocused = useRef(false);
  useEffect(() => {
    // the focused Run / Rerun / Cancel became disabled when the cells changed: stay on the bar
    const bar = barRef.current;
    const at = document.activeElement as HTMLButtonElement | null;
    if (!bar || !barFocused.current || (at && at !== document.body && !(bar.contains(at) && at.disabled))) return;
    bar.querySelector<HTMLElement>("button:not(:disabled)")?.focus();
  });
  const templatesPopover = useDismissable();
  const project = state.parts.project;
  const focus = state.parts.focus;
  const stages = project?.stages ?? [];
  // the stage in focus in a PipelineGraph is the only column shown
  const columnStages = stages.filter((s) => !focus?.stage_id || s.id === focus.stage_id);
  const columnIds = columnStages.map((s) => s.id);
  const overflow = useOverflow(`${project ? "grid" : ""}:${columnIds.join(",")}`);
  const allSubjects = project?.subjects ?? [];
  const subjects = useMemo(
    () => (filter === "all" ? allSubjects : allSubjects.filter((s) => subjectMatches(s, filter, columnIds))),
    [allSubjects, filter, columnIds.join(",")],
  );
  // every subject's id lists the same until one is added (a new `positions`), whatever its cells
  const ids = useMemo(() => subjects.map((s) => s.id), [filter === "all" ? project?.positions : subjects]);
  const openSubject = state.parts.subject?.subject?.id ?? null;
  const stageKey = stages.map((s) => s.id).join(",");
  useEffect(() => {
    // a changed pipeline drops the selected cells of stages that are gone
    select({ type: "keep", subjects: allSubjects.map((s) => s.id), stages: stages.map((s) => s.id) });
  }, [stageKey, allSubjects.length]);
  useEffect(() => {
    // a cell's job and log appear under the grid: bring them into view
    if (openStage && openSubject) detailRef.current?.querySelector(".pw-stage-detail")?.scrollIntoView?.({ block: "nearest" });
  }, [openStage, openSubject]);
  const chosen = stages.filter((s) => !excluded.has(s.id)).map((s) => s.id);
  // the header's sums over every subject, at the cost of the subjects a patch changed
  const columnKey = columnIds.join(",");
  const tally = useMemo(() => new OverviewTally(stages, columnIds, chosen), [stages, columnKey, chosen.join(",")]);
  const overview = project && tally.read(project.subjects);
  if (!state.ready || !project?.project || !overview) return <div class="pw-root pw-loading" data-ready="false">Loading project...</div>;
  const { totals, counts, allPlan, longest } = overview;
  const nameWidth = Math.round(Math.min(200, Math.max(72, 14 + longest * 7.2)));
  const columns = `${CHECK_WIDTH}px ${nameWidth}px ${DATA_WIDTH}px repeat(${columnStages.length}, minmax(${STAGE_MIN_WIDTH}px, 1fr)) ${RUN_WIDTH}px`;
  const rowStyle = {
    gridTemplateColumns: columns,
    minWidth: `${CHECK_WIDTH + nameWidth + DATA_WIDTH + columnStages.length * STAGE_MIN_WIDTH + RUN_WIDTH}px`,
  };
  const active = project.activeTotal;
  const picked = selection.cells;
  const rowKeys = (subjectId: string) => columnIds.map((st) => cellKey(subjectId, st));
  const allCoverage = coverage(picked, () => ids.flatMap(rowKeys));
  const cellPlan = planCells(allSubjects, stages, picked);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const were = (n: number) => `${n} ${n === 1 ? "was" : "were"}`;
  const tooMany = picked.size > MAX_BATCH_CELLS;
  const rerunnable = cellPlan.missing + cellPlan.done;

  /** Run, rerun or cancel the selected cells; the kernel says what it did. */
  const act = (action: CellsPayload["action"]) => {
    setBatchConfirm(null);
    keepFocus();
    client
      .request("cells", { action, cells: cellPairs(picked) })
      .then((r: CellsDone) => {
        keepFocus();
        const outside = r.jobs - r.acted;
        if (action === "cancel") {
          say(
            `Cancel: ${plural(r.jobs, "job")} cancelled for ${r.acted} of the ${plural(r.cells, "selected cell")}` +
              (outside > 0 ? ` (${outside} queued ${outside === 1 ? "job depends" : "jobs depend"} on them)` : "") +
              `; ${were(r.cells - r.acted)} not queued or running`,
            "ok",
          );
        } else {
          say(
            `${action === "run" ? "Run" : "Rerun"}: ${plural(r.jobs, "job")} queued for ${r.acted} of the ${plural(r.cells, "selected cell")}` +
              (outside > 0 ? ` (${outside} for dependencies outside the selection)` : "") +
              `; ${were(r.cells - r.acted)} ${action === "run" ? "done, queued or running" : "queued or running"}`,
            "ok",
          );
        }
      })
      .catch((e: Error) => say(failure(action === "cancel" ? "cancel the selected cells" : "run the selected cells", e, link), "error"));
  };
  /** A pressed button that goes away or is disabled drops the keyboard's focus on the page's
   * body: put it back on the selection's bar (or Clear). */
  const keepFocus = () =>
    setTimeout(() => {
      if (document.activeElement && document.activeElement !== document.body) return;
      barRef.current?.querySelector<HTMLElement>("button:not(:disabled)")?.focus();
    });
  const closeConfirm = () => {
    setBatchConfirm(null);
    keepFocus();
  };
  const pickCell = (e: MouseEvent | KeyboardEvent, subjectId: string, stageId: string) => {
    if (e.shiftKey) select({ type: "range", subject: subjectId, stage: stageId, subjects: ids, stages: columnIds });
    else select({ type: "toggle", subject: subjectId, stage: stageId });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape" && picked.size) {
      e.preventDefault();
      e.stopPropagation(); // JupyterLab would leave edit mode
      setBatchConfirm(null);
      select({ type: "clear" });
    }
  };

  /** Queue the chosen stages that are not done (done ones too with `rerunDone`). */
  const run = (subjectIds: string[] | null, what: string, rerunDone = false) => {
    setConfirmRerun(false);
    if (!chosen.length) {
      say("Choose at least one stage to run", "error");
      return;
    }
    client
      .request("run_pipeline", { subject_ids: subjectIds, stage_ids: chosen, rerun_done: rerunDone })
      .then((r: { jobs: number }) => say(`${what}: ${plural(r.jobs, "job")} queued or already active`, "ok"))
      .catch((e: Error) => say(failure("run", e, link), "error"));
  };
  const open = (subjectId: string | null, stageId: string | null = null) => {
    setOpenStage(stageId);
    if (subjectId === openSubject && subjectId !== null) return;
    client.request("open_subject", { subject_id: subjectId }).catch((e: Error) => say(failure(subjectId ? "open the subject" : "close the subject", e, link), "error"));
  };
  const toggleStage = (id: string) =>
    setExcluded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section class="pw-root pw-dashboard" data-ready="true" aria-label={`Project ${project.project.name}`} onKeyDown={onKeyDown}>
      <header class="pw-header">
        <h3 class="pw-title">{project.project.name}</h3>
        <span data-testid="active-jobs" data-count={active}>
          <Badge tone={active ? "running" : "off"} title="running + queued jobs of this project">
            {`${active} active job${active === 1 ? "" : "s"}`}
          </Badge>
        </span>
        <span class="pw-muted">{`${subjects.length} subjects`}</span>
        <FocusChip focus={focus} client={client} />
        <span class="pw-spacer" />
        <details class="pw-stage-choice" ref={popover.ref} onKeyDown={popover.onKeyDown}>
          <summary class="pw-btn">{`Stages (${chosen.length}/${stages.length})`}</summary>
          <fieldset class="pw-popover">
            <legend>Stages to run</legend>
            {stages.map((s) => (
              <label key={s.id} class="pw-check">
                <input type="checkbox" checked={!excluded.has(s.id)} onChange={() => toggleStage(s.id)} />
                {s.label}
              </label>
            ))}
          </fieldset>
        </details>
        <TemplatesControl
          client={client}
          link={link}
          live={live}
          stageIds={chosen}
          subjectIds={cellPlan.subjects}
          labels={Object.fromEntries(stages.map((s) => [s.id, s.label]))}
          say={say}
          popover={templatesPopover}
        />
        <button
          type="button"
          class="pw-btn pw-btn-primary"
          disabled={!live || !allPlan.missing}
          title="Queue the chosen stages of every subject that are not done; done stages keep their results"
          onClick={() => run(null, "Run all")}
        >
          {`Run all · ${allPlan.missing} missing`}
        </button>
        <button
          type="button"
          class="pw-btn"
          disabled={!live || !allPlan.done}
          aria-expanded={confirmRerun}
          title="Compute done stages again (asks first)"
          onClick={() => setConfirmRerun((c) => !c)}
        >
          Rerun done…
        </button>
      </header>
      {confirmRerun && (
        <div class="pw-confirm pw-confirm-bar" role="alertdialog" aria-label="Confirm rerun of done stages">
          <span>
            {`Redo ${plural(allPlan.done, "done stage")} of ${plural(allPlan.doneSubjects, "subject")}? Their results are computed again${allPlan.missing ? `, and ${allPlan.missing} missing stages run` : ""}.`}
          </span>
          <button
            type="button"
            class="pw-btn pw-btn-danger"
            disabled={!live}
            onClick={() => run(null, "Rerun", true)}
          >
            {`Redo ${plural(allPlan.done, "stage")}`}
          </button>
          <button type="button" class="pw-btn" onClick={() => setConfirmRerun(false)}>
            Keep results
          </button>
        </div>
      )}
      {picked.size > 0 && (
        <div
          class="pw-batch pw-cell-batch"
          role="toolbar"
          aria-label="Selected cells"
          ref={barRef}
          onFocusIn={() => (barFocused.current = true)}
          onFocusOut={(e) => {
            // leaving for elsewhere, not a button of the bar that was disabled under the focus
            const to = e.relatedTarget as Node | null;
            if (to ? !barRef.current?.contains(to) : !(e.target as HTMLButtonElement).disabled) barFocused.current = false;
          }}
        >
          <span data-testid="cells-selected" data-count={picked.size}>
            <strong>{plural(picked.size, "cell")} selected</strong>
          </span>
          <button type="button" class="pw-link" onClick={() => select({ type: "clear" })} title="Clear the selection (Escape)">
            Clear
          </button>
          <span class="pw-muted pw-small" id={`${client.viewId}-cells-plan`}>
            {tooMany
              ? `more than ${MAX_BATCH_CELLS} cells: use Run all or the engine from Python`
              : `${cellPlan.missing} to run · ${cellPlan.done} done · ${cellPlan.active} queued or running`}
          </span>
          <span class="pw-spacer" />
          <button
            type="button"
            class="pw-btn pw-btn-primary"
            disabled={!live || tooMany || !cellPlan.missing}
            aria-describedby={`${client.viewId}-cells-plan`}
            title={cellPlan.missing ? "Queue the selected cells that are not done, with their dependencies that are not done" : "Nothing to run: every selected cell is done, queued or running (Rerun redoes done ones)"}
            onClick={() => act("run")}
          >
            {`Run · ${cellPlan.missing}`}
          </button>
          <button
            type="button"
            class="pw-btn"
            disabled={!live || tooMany || !rerunnable}
            aria-expanded={batchConfirm === "rerun"}
            aria-describedby={`${client.viewId}-cells-plan`}
            title={rerunnable ? "Run the selected cells again, done ones too (asks first)" : "Nothing to rerun: every selected cell is queued or running"}
            onClick={() => setBatchConfirm((c) => (c === "rerun" ? null : "rerun"))}
          >
            {`Rerun · ${rerunnable}…`}
          </button>
          <button
            type="button"
            class="pw-btn"
            disabled={!live || tooMany || !cellPlan.active}
            aria-expanded={batchConfirm === "cancel"}
            aria-describedby={`${client.viewId}-cells-plan`}
            title={cellPlan.active ? "Cancel the jobs of the selected cells that are queued or running (asks first)" : "Nothing to cancel: no selected cell is queued or running"}
            onClick={() => setBatchConfirm((c) => (c === "cancel" ? null : "cancel"))}
          >
            {`Cancel · ${cellPlan.active}…`}
          </button>
          {batchConfirm === "rerun" && (
            <span class="pw-confirm pw-batch-confirm" role="alertdialog" aria-label="Confirm rerun of the selected cells">
              <span>
                {`Rerun ${rerunnable} of the ${plural(cellPlan.total, "selected cell")}? ${plural(cellPlan.done, "done result")} will be redone and ${plural(cellPlan.staleDownstream, "done result")} downstream ${cellPlan.staleDownstream === 1 ? "becomes" : "become"} stale.` +
                  (cellPlan.active ? ` ${cellPlan.active} queued or running are left as they are.` : "")}
              </span>
              <button type="button" class="pw-btn pw-btn-danger" disabled={!live} onClick={() => act("rerun")}>
                {`Rerun ${plural(rerunnable, "cell")}`}
              </button>
              <button type="button" class="pw-btn" onClick={closeConfirm}>
                Keep results
              </button>
            </span>
          )}
          {batchConfirm === "cancel" && (
            <span class="pw-confirm pw-batch-confirm" role="alertdialog" aria-label="Confirm cancel of the selected cells">
              <span>{`Cancel ${plural(cellPlan.active, "job")} of the ${plural(cellPlan.total, "selected cell")}? ${cellPlan.total - cellPlan.active} ${cellPlan.total - cellPlan.active === 1 ? "is" : "are"} not queued or running.`}</span>
              <button type="button" class="pw-btn pw-btn-danger" disabled={!live} onClick={() => act("cancel")}>
                {`Cancel ${plural(cellPlan.active, "job")}`}
              </button>
              <button type="button" class="pw-btn" onClick={closeConfirm}>
                Keep them
              </button>
            </span>
          )}
        </div>
      )}
      <Notice notice={notice} onDismiss={dismiss} />
      {allSubjects.length === 0 ? (
        <p class="pw-empty">No subjects in this project yet</p>
      ) : (
        <>
          <div class="pw-grid-tools">
            <div class="pw-filters" role="radiogroup" aria-label="Show subjects">
              {FILTERS.map((f) => (
                <button
                  type="button"
                  role="radio"
                  key={f.key}
                  class={`pw-chip${filter === f.key ? " pw-chip-on" : ""}`}
                  aria-checked={filter === f.key}
                  data-filter={f.key}
                  title={f.title}
                  onClick={() => setFilter(f.key)}
                >
                  {f.label} <span class="pw-count">{counts[f.key]}</span>
                </button>
              ))}
            </div>
            {project.subjects.length < project.total && (
              <span class="pw-muted pw-small" role="status" data-testid="dashboard-loading">
                {`Loading subjects: ${project.subjects.length.toLocaleString()} of ${project.total.toLocaleString()}...`}
              </span>
            )}
            <ul class="pw-legend" aria-label="Cell states">
              {LEGEND.map((status) => (
                <li key={status}>
                  <span class={`pw-mark pw-mark-${status} pw-mark-small`} aria-hidden="true">
                    <Icon name={STAGE_ICONS[status]} />
                  </span>
                  {status === "waiting" ? "waiting" : status === "stale" ? "stale" : STAGE_LABELS[status]}
                </li>
              ))}
            </ul>
          </div>
          <div
            class={`pw-grid-wrap${overflow.edges.left ? " pw-more-left" : ""}${overflow.edges.right ? " pw-more-right" : ""}`}
            style={{ "--pw-sticky-width": `${CHECK_WIDTH + nameWidth + 1}px` }}
          >
            <VirtualList
              count={subjects.length}
              rowHeight={ROW_HEIGHT}
              height={480}
              role="grid"
              label="Subjects by stage"
              className="pw-grid"
              scrollRef={overflow.ref}
              onScroll={overflow.measure}
              attrs={{ "aria-rowcount": subjects.length + 2, "aria-colcount": columnStages.length + 4 }}
              header={
                <div class="pw-grid-top" role="rowgroup">
                  <div class="pw-grid-row pw-grid-head" role="row" style={rowStyle}>
                    <span role="columnheader" class="pw-sticky-0">
                      <input
                        type="checkbox"
                        aria-label="Select every cell shown"
                        checked={allCoverage === "all"}
                        ref={(el) => {
                          if (el) el.indeterminate = allCoverage === "some";
                        }}
                        onChange={() => select({ type: "rows", subjects: ids, stages: columnIds, on: allCoverage !== "all" })}
                      />
                    </span>
                    <span role="columnheader" class="pw-sticky-1">
                      Subject
                    </span>
                    <span role="columnheader">Data</span>
                    {columnStages.map((s) => {
                      const col = coverage(picked, () => ids.map((id) => cellKey(id, s.id)));
                      return (
                        <span role="columnheader" class="pw-stage-head" key={s.id} title={s.label} data-stage-id={s.id}>
                          <input
                            type="checkbox"
                            class="pw-col-check"
                            aria-label={`Select stage ${s.label}`}
                            checked={col === "all"}
                            ref={(el) => {
                              if (el) el.indeterminate = col === "some";
                            }}
                            onChange={() => select({ type: "column", stage: s.id, subjects: ids })}
                          />
                          <span class="pw-stage-name">{s.label}</span>
                        </span>
                      );
                    })}
                    <span role="columnheader" class="pw-sr">
                      Run
                    </span>
                  </div>
                  <div class="pw-grid-row pw-grid-totals" role="row" style={rowStyle}>
                    <span class="pw-sticky-0" aria-hidden="true" />
                    <span role="rowheader" class="pw-sticky-1 pw-totals-label" title="Subjects per stage: done, running, failed">
                      Totals
                    </span>
                    <span aria-hidden="true" />
                    {columnStages.map((s) => {
                      const t = totals[s.id];
                      return (
                        <span
                          role="gridcell"
                          key={s.id}
                          class="pw-stage-total"
                          data-stage-id={s.id}
                          data-done={t.done}
                          data-running={t.running}
                          data-failed={t.failed}
                          aria-label={`${s.label}: ${t.done} done, ${t.running} running, ${t.failed} failed`}
                          title={`${s.label}: ${t.done} done, ${t.running} running, ${t.failed} failed of ${allSubjects.length}`}
                        >
                          <span class="pw-total pw-fg-completed">
                            <Icon name="check" />
                            {t.done}
                          </span>
                          {t.running > 0 && (
                            <span class="pw-total pw-fg-running">
                              <Icon name="spinner" />
                              {t.running}
                            </span>
                          )}
                          {t.failed > 0 && (
                            <span class="pw-total pw-fg-failed">
                              <Icon name="x" />
                              {t.failed}
                            </span>
                          )}
                        </span>
                      );
                    })}
                    <span aria-hidden="true" />
                  </div>
                </div>
              }
              empty={
                subjects.length === 0 ? (
                  <p class="pw-empty pw-sticky-0">{filter === "failed" ? "No subject has a failed stage" : "Every subject has every stage done"}</p>
                ) : null
              }
              renderRow={(i) => {
                const s = subjects[i];
                const busy = s.active > 0;
                const missing = planStages(stages, s.statuses, chosen).missing.length;
                const percents = s.progress;
                const row = coverage(picked, () => rowKeys(s.id));
                return (
                  <div class="pw-grid-row" role="row" key={s.id} aria-rowindex={i + 3} style={{ ...rowStyle, height: `${ROW_HEIGHT}px` }}>
                    <span role="gridcell" class="pw-sticky-0">
                      <input
                        type="checkbox"
                        aria-label={`Select ${s.name}`}
                        checked={row === "all"}
                        ref={(el) => {
                          if (el) el.indeterminate = row === "some";
                        }}
                        onClick={(e) => {
                          const from = e.shiftKey && anchor.current != null ? Math.min(anchor.current, i) : i;
                          const to = e.shiftKey && anchor.current != null ? Math.max(anchor.current, i) : i;
                          select({ type: "rows", subjects: ids.slice(from, to + 1), stages: columnIds, on: row !== "all" });
                          anchor.current = i;
                        }}
                      />
                    </span>
                    <span role="rowheader" class="pw-sticky-1">
                      <button type="button" class="pw-link" onClick={() => open(s.id)} title={`Open ${s.name}`}>
                        {s.name}
                      </button>
                    </span>
                    <span role="gridcell">
                      <ModalityBadges t1={s.has_t1} dce={s.has_dce} dwi={s.has_diffusion} />
                    </span>
                    {columnStages.map((st) => {
                      const status = s.statuses[st.id] ?? "not_run";
                      const percent = status === "running" ? percents[st.id] : undefined;
                      const here = openSubject === s.id && openStage === st.id;
                      const rated = state.parts.qc.ratings[s.id]?.[st.id]?.rating;
                      const said = `${s.name}, ${st.label}: ${STAGE_LABELS[status]}${rated ? `, QC ${rated}` : ""}`;
                      const on = picked.has(cellKey(s.id, st.id));
                      return (
                        <span role="gridcell" key={st.id} class="pw-cell" data-subject-id={s.id} data-stage-id={st.id} data-status={status} data-qc={rated ?? ""} aria-selected={on}>
                          <button
                            type="button"
                            class={`pw-cell-btn${here ? " pw-selected" : ""}${on ? " pw-picked" : ""}`}
                            aria-current={here ? "true" : undefined}
                            aria-keyshortcuts="Space Control+Enter"
                            title={`${said}${percent !== undefined ? ` (${percent}%)` : ""}${on ? ", selected" : ""} — open its latest job and log; Ctrl/⌘-click or Space selects it, Shift-click a range`}
                            onClick={(e) => {
                              if (e.ctrlKey || e.metaKey || e.shiftKey) pickCell(e, s.id, st.id);
                              else open(s.id, st.id);
                            }}
                            onKeyDown={(e) => {
                              if (e.key === " " || (e.key === "Enter" && (e.ctrlKey || e.metaKey))) {
                                e.preventDefault(); // a button would click on Space's keyup
                                pickCell(e, s.id, st.id);
                              }
                            }}
                          >
                            <StatusMark status={status} label={said} />
                            {rated && <QcMark rating={rated} />}
                            {percent !== undefined && <span class="pw-cell-pct">{`${percent}%`}</span>}
                          </button>
                        </span>
                      );
                    })}
                    <span role="gridcell">
                      <button
                        type="button"
                        class="pw-icon-btn"
                        disabled={busy || !live || !missing}
                        aria-label={busy ? `${s.name} is running` : `Run ${plural(missing, "missing stage")} of ${s.name}`}
                        title={busy || missing ? undefined : `Every chosen stage of ${s.name} is done`}
                        onClick={() => run([s.id], `Run ${s.name}`)}
                      >
                        <Icon name={busy ? "spinner" : "play"} />
                      </button>
                    </span>
                  </div>
                );
              }}
            />
            {overflow.edges.right && (
              <button
                type="button"
                class="pw-scroll-cue"
                aria-label="Scroll right to more stages"
                title="More stages to the right"
                onClick={() => overflow.ref.current?.scrollBy({ left: overflow.ref.current.clientWidth * 0.7, behavior: "smooth" })}
              >
                <Icon name="chevron" />
              </button>
            )}
          </div>
          {overflow.edges.right && (
            <p class="pw-muted pw-small pw-scroll-hint" aria-hidden="true">
              Scroll sideways for more stages →
            </p>
          )}
        </>
      )}
      {state.parts.subject.subject && (
        <div ref={detailRef}>
        <SubjectPanel
          client={client}
          stageId={openStage}
          onStage={setOpenStage}
          subject={state.parts.subject}
          logs={state.parts.logs}
          qc={state.parts.qc}
          ready={state.ready}
          clockOffset={state.clockOffset}
          onClose={() => open(null)}
        />
        </div>
      )}
    </section>
  );
}
