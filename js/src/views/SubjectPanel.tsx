// One subject's stages, each stage's latest job with its error and live log; Run / Rerun.
// Drawn by SubjectDetail and, for the subject the user opened, inside ProjectDashboard.

import { useState } from "preact/hooks";
import { Badge } from "../components/Badge";
import { STAGE_LABELS, StatusMark } from "../components/Icons";
import { LogView } from "../components/LogView";
import { Notice, useNotice } from "../components/Notice";
import { ProgressRing } from "../components/ProgressBar";
import { Fidelity, StageResults } from "../components/Results";
import { formatDateTime, formatDuration, formatPercent, jobDuration, shortId } from "../format";
import { failure } from "../errors";
import { logLoaders, useCanAct, useNow, useStore, useWatch } from "../hooks";
import type { LogsState } from "../state/logs";
import { logsReducer } from "../state/logs";
import { type QcState, qcReducer } from "../state/qc";
import { canRun, type SubjectState, stageProgress, subjectReducer } from "../state/subject";
import type { SyncClient } from "../sync";

export const subjectReducers = { subject: subjectReducer, logs: logsReducer, qc: qcReducer };
type WithSubject = typeof subjectReducers;

export function ModalityBadges({ t1, dce, dwi }: { t1: boolean; dce: boolean; dwi: boolean }) {
  return (
    <span class="pw-modalities">
      <Badge tone={t1 ? "on" : "off"} title={t1 ? "has T1 data" : "no T1 data"}>T1</Badge>
      <Badge tone={dce ? "on" : "off"} title={dce ? "has DCE data" : "no DCE data"}>DCE</Badge>
      <Badge tone={dwi ? "on" : "off"} title={dwi ? "has diffusion data" : "no diffusion data"}>DWI</Badge>
    </span>
  );
}

interface Props<R extends WithSubject> {
  client: SyncClient<R>;
  subject: SubjectState;
  logs: LogsState;
  qc: QcState;
  ready: boolean;
  clockOffset: number;
  onClose?: () => void;
  /** The stage whose latest job is shown, when the caller chooses it (a dashboard cell's click). */
  stageId?: string | null;
  onStage?: (stageId: string | null) => void;
}

export function SubjectPanel<R extends WithSubject>({ client, subject: state, logs, qc, ready, clockOffset, onClose, stageId, onStage }: Props<R>) {
  const link = useStore(client.link);
  const live = useCanAct(client);
  const now = useNow(1000, live) + clockOffset;
  const [own, setOwn] = useState<string | null>(null);
  const selected = onStage ? (stageId ?? null) : own;
  const setSelected = onStage ?? setOwn;
  const [notice, say, dismiss] = useNotice();
  const stage = state.stages.find((s) => s.id === selected) ?? null;
  const job = stage ? state.latest[stage.id] : undefined;
  useWatch(client, job ? [job.id] : [], ready);
  const subject = state.subject;
  if (!subject) return null;
  const { done, total } = stageProgress(state);
  const run = (stageId: string) =>
    client
      .request("run_stage", { stage_id: stageId })
      .then(() => say(`Queued ${state.stages.find((s) => s.id === stageId)?.label ?? stageId}`, "ok"))
      .catch((e: Error) => say(failure("run", e, link), "error"));
  const cancel = (jobId: string) =>
    client
      .request("cancel", { job_id: jobId })
      .then(() => say("Cancelled", "ok"))
      .catch((e: Error) => say(failure("cancel", e, link), "error"));
  const loaders = job ? logLoaders(client, job.id) : null;

  return (
    <section class="pw-subject" aria-label={`Subject ${subject.name}`}>
      <header class="pw-header">
        <ProgressRing done={done} total={total} />
        <div class="pw-subject-title">
          <h3 class="pw-title">{subject.name}</h3>
          <span class="pw-muted">{`${done} of ${total} stages done`}</span>
        </div>
        <ModalityBadges t1={subject.has_t1} dce={subject.has_dce} dwi={subject.has_diffusion} />
        <span class="pw-spacer" />
        {onClose && (
          <button type="button" class="pw-btn" onClick={onClose} aria-label={`Close subject ${subject.name}`}>
            Close
          </button>
        )}
      </header>
      <Notice notice={notice} onDismiss={dismiss} />
      <div class="pw-stage-cards" role="list" aria-label="Stages">
        {state.stages.map((s) => {
          const status = subject.statuses[s.id] ?? "not_run";
          const rated = qc.ratings[subject.id]?.[s.id]?.rating;
          return (
            <div role="listitem" key={s.id} data-stage-id={s.id} data-status={status} data-qc={rated ?? ""}>
              <button
                type="button"
                class={`pw-stage-card${selected === s.id ? " pw-selected" : ""}`}
                aria-pressed={selected === s.id}
                onClick={() => setSelected(selected === s.id ? null : s.id)}
              >
                <StatusMark status={status} label={`${s.label}: ${STAGE_LABELS[status]}`} />
                <span class="pw-stage-label">{s.label}</span>
                <span class="pw-muted pw-small">{STAGE_LABELS[status] + (rated ? ` · QC ${rated}` : "")}</span>
              </button>
            </div>
          );
        })}
      </div>
      {stage && (
        <div class="pw-stage-detail" role="region" aria-label={`${stage.label} details`}>
          <header class="pw-header">
            <span class="pw-strong">{stage.label}</span>
            {job && <Badge tone={job.status}>{job.status}</Badge>}
            {job && <code class="pw-muted">{shortId(job.id)}</code>}
            <span class="pw-spacer" />
            {job && (job.status === "queued" || job.status === "running") && (
              <button type="button" class="pw-btn" disabled={!live} onClick={() => cancel(job.id)}>
                Cancel
              </button>
            )}
            <button
              type="button"
              class="pw-btn pw-btn-primary"
              disabled={!live || !canRun(state, stage)}
              title={canRun(state, stage) ? "" : "Its dependencies are not done yet, or it is already queued or running"}
              onClick={() => run(stage.id)}
            >
              {subject.statuses[stage.id] === "not_run" ? "Run" : "Rerun"}
            </button>
          </header>
          {job ? (
            <>
              <p class="pw-muted pw-small">
                {`Started ${formatDateTime(job.start_time) || "—"} · ${formatDuration(jobDuration(job.start_time, job.end_time, now)) || "not started"}`}
                {job.status === "running" ? ` · ${formatPercent(job.progress)} ${job.current_step}` : ""}
              </p>
              {job.error && <p class="pw-error-text">{job.error}</p>}
              {(job.status === "completed" || job.status === "failed") && (
                <StageResults client={client} jobId={job.id} subjectId={subject.id} stageId={stage.id} stageLabel={stage.label} qc={qc} live={live} />
              )}
              {loaders && (
                <LogView window={logs[job.id]} height={220} label={`Log of ${stage.label}`} loadOlder={loaders.older} reloadTail={loaders.tail} fetchPage={loaders.page} />
              )}
            </>
          ) : (
            <p class="pw-empty">No job has run for this stage yet</p>
          )}
        </div>
      )}
      <Fidelity client={client} subjectId={subject.id} done={done} />
    </section>
  );
}
