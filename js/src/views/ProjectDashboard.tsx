// ProjectDashboard: subjects x stages grid, run controls, batch selection, the opened subject.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Badge } from "../components/Badge";
import { FocusChip } from "../components/FocusChip";
import { Icon, STAGE_LABELS, StatusMark } from "../components/Icons";
import { Notice, useNotice } from "../components/Notice";
import { VirtualList } from "../components/VirtualList";
import { useStore, useCanAct } from "../hooks";
import { focusReducer } from "../state/focus";
import { failure } from "../errors";
import { logsReducer } from "../state/logs";
import { activeTotal, planRun, planStages, projectReducer, selectRows } from "../state/project";
import { subjectReducer } from "../state/subject";
import type { SyncClient } from "../sync";
import { ModalityBadges, SubjectPanel } from "./SubjectPanel";

export const dashboardReducers = { project: projectReducer, subject: subjectReducer, logs: logsReducer, focus: focusReducer };
type Client = SyncClient<typeof dashboardReducers>;

const ROW_HEIGHT = 30;

/** A <details> popover that closes on Escape (focus back on its summary) and on a click outside. */
function useDismissable() {
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

export function ProjectDashboard({ client }: { client: Client }) {
  const state = useStore(client.store);
  const link = useStore(client.link);
  const live = useCanAct(client);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [excluded, setExcluded] = useState<Set<string>>(new Set());
  const anchor = useRef<number | null>(null);
  const [notice, say, dismiss] = useNotice();
  const [confirmRerun, setConfirmRerun] = useState(false);
  const popover = useDismissable();
  const project = state.parts.project;
  const subjects = project?.subjects ?? [];
  const ids = useMemo(() => subjects.map((s) => s.id), [subjects]);
  const sizes = useMemo(() => ids.map(() => ROW_HEIGHT), [ids]);
  if (!state.ready || !project?.project) return <div class="pw-root pw-loading" data-ready="false">Loading project...</div>;
  const stages = project.stages;
  const chosen = stages.filter((s) => !excluded.has(s.id)).map((s) => s.id);
  const focus = state.parts.focus;
  // the stage in focus in a PipelineGraph is the only column shown
  const columnStages = stages.filter((s) => !focus.stage_id || s.id === focus.stage_id);
  const columns = `28px minmax(120px, 1.5fr) 120px repeat(${columnStages.length}, 30px) 36px`;
  const active = activeTotal(project);
  const allSelected = ids.length > 0 && ids.every((id) => selected.has(id));
  const selectedPlan = planRun(project, selected, chosen);
  const allPlan = planRun(project, null, chosen);
  const rerunPlan = selected.size ? selectedPlan : allPlan;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

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
  const open = (subjectId: string | null) =>
    client.request("open_subject", { subject_id: subjectId }).catch((e: Error) => say(failure(subjectId ? "open the subject" : "close the subject", e, link), "error"));
  const toggleStage = (id: string) =>
    setExcluded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section class="pw-root pw-dashboard" data-ready="true" aria-label={`Project ${project.project.name}`}>
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
        <button
          type="button"
          class="pw-btn"
          disabled={!live || !selectedPlan.missing}
          title="Queue the chosen stages of the selected subjects that are not done; done stages keep their results"
          onClick={() => run([...selected], "Run selected")}
        >
          {`Run selected · ${selectedPlan.missing} missing`}
        </button>
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
          disabled={!live || !rerunPlan.done}
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
            {`Redo ${plural(rerunPlan.done, "done stage")} of ${plural(rerunPlan.doneSubjects, selected.size ? "selected subject" : "subject")}? Their results are computed again${rerunPlan.missing ? `, and ${rerunPlan.missing} missing stages run` : ""}.`}
          </span>
          <button
            type="button"
            class="pw-btn pw-btn-danger"
            disabled={!live}
            onClick={() => run(selected.size ? [...selected] : null, "Rerun", true)}
          >
            {`Redo ${plural(rerunPlan.done, "stage")}`}
          </button>
          <button type="button" class="pw-btn" onClick={() => setConfirmRerun(false)}>
            Keep results
          </button>
        </div>
      )}
      <Notice notice={notice} onDismiss={dismiss} />
      {subjects.length === 0 ? (
        <p class="pw-empty">No subjects in this project yet</p>
      ) : (
        <div class="pw-grid" role="grid" aria-label="Subjects by stage" aria-rowcount={subjects.length + 1}>
          <div class="pw-grid-row pw-grid-head" role="row" style={{ gridTemplateColumns: columns }}>
            <span role="columnheader">
              <input
                type="checkbox"
                aria-label="Select all subjects"
                checked={allSelected}
                ref={(el) => {
                  if (el) el.indeterminate = selected.size > 0 && !allSelected;
                }}
                onChange={() => setSelected(allSelected ? new Set() : new Set(ids))}
              />
            </span>
            <span role="columnheader">Subject</span>
            <span role="columnheader">Data</span>
            {columnStages.map((s) => (
              <span role="columnheader" class="pw-stage-head" key={s.id} title={s.label}>
                {s.label}
              </span>
            ))}
            <span role="columnheader" class="pw-sr">
              Run
            </span>
          </div>
          <VirtualList
            sizes={sizes}
            height={420}
            role="rowgroup"
            label="Subjects"
            renderRow={(i) => {
              const s = subjects[i];
              const busy = (project.active[s.id] ?? 0) > 0;
              const missing = planStages(stages, s.statuses, chosen).missing.length;
              return (
                <div class="pw-grid-row" role="row" key={s.id} style={{ gridTemplateColumns: columns, height: `${ROW_HEIGHT}px` }}>
                  <span role="gridcell">
                    <input
                      type="checkbox"
                      aria-label={`Select ${s.name}`}
                      checked={selected.has(s.id)}
                      onClick={(e) => {
                        setSelected(selectRows(ids, selected, i, anchor.current, e.shiftKey));
                        anchor.current = i;
                      }}
                    />
                  </span>
                  <span role="gridcell">
                    <button type="button" class="pw-link" onClick={() => open(s.id)} title={`Open ${s.name}`}>
                      {s.name}
                    </button>
                  </span>
                  <span role="gridcell">
                    <ModalityBadges t1={s.has_t1} dce={s.has_dce} dwi={s.has_diffusion} />
                  </span>
                  {columnStages.map((st) => {
                    const status = s.statuses[st.id] ?? "not_run";
                    return (
                      <span role="gridcell" key={st.id} class="pw-cell" data-subject-id={s.id} data-stage-id={st.id} data-status={status}>
                        <StatusMark status={status} label={`${s.name}, ${st.label}: ${STAGE_LABELS[status]}`} />
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
                      <Icon name={busy ? "spinner" : "play"} className={busy ? "pw-spin" : ""} />
                    </button>
                  </span>
                </div>
              );
            }}
          />
        </div>
      )}
      {state.parts.subject.subject && (
        <SubjectPanel
          client={client}
          subject={state.parts.subject}
          logs={state.parts.logs}
          ready={state.ready}
          clockOffset={state.clockOffset}
          onClose={() => open(null)}
        />
      )}
    </section>
  );
}
