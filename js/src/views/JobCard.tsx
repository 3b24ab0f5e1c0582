// One job in the JobMonitor: a dense, aligned row (selection, stage, subject, status, progress
// or place in the queue, elapsed, ETA, actions) that opens into a card with the job's details,
// its attempts and its live log.

import { Badge } from "../components/Badge";
import { Icon, JobStatusIcon } from "../components/Icons";
import { LOG_TOOLS_HEIGHT, LogView, logBoxHeight } from "../components/LogView";
import { ProgressBar } from "../components/ProgressBar";
import { formatBytes, formatClock, formatDateTime, formatDuration, formatEta, formatPercent, jobDuration, shortId } from "../format";
import type { LogWindow } from "../state/logs";
import type { JobRow, LogLine } from "../types";

/** A row's height where the stylesheet cannot be read (a test DOM); styles.css sets the one
 * drawn (`--pw-job-row-height`: one line wide, two lines in a narrow output). */
export const ROW_HEIGHT = 28;

/** How a view changes a queued job's priority (the kernel's `prioritize` moves). */
export type PriorityMove = "raise" | "lower" | "next";
const DETAILS_HEIGHT = 150;
const LOG_MAX_HEIGHT = 260;

/** The height of an open card whose log has `lines` lines (its log box grows with them). */
export function expandedHeight(lines: number, rowHeight = ROW_HEIGHT): number {
  return rowHeight + DETAILS_HEIGHT + LOG_TOOLS_HEIGHT + logBoxHeight(lines, LOG_MAX_HEIGHT) + 14;
}

interface Props {
  job: JobRow;
  stage: string;
  subject: string;
  now: number;
  /** The height of a closed row (two lines in a narrow output). */
  rowHeight: number;
  /** The kernel acts: actions enabled, ETA shown (a stale ETA is worse than none). */
  live: boolean;
  expanded: boolean;
  /** The attempts this job superseded, newest first. */
  earlier: JobRow[];
  /** A newer attempt of the same subject x stage exists: this one is history (no Retry). */
  superseded: boolean;
  log: LogWindow | undefined;
  onToggle: () => void;
  onAction: (action: "cancel" | "retry") => void;
  /** Whether the job is in the batch selection; a click (shift: a range) changes it. */
  selected: boolean;
  onSelect: (e: MouseEvent) => void;
  /** Its place in the order queued jobs will start (ready queued jobs only). */
  place: number | undefined;
  onPriority: (move: PriorityMove) => void;
  loadOlder: (before: number) => Promise<void>;
  reloadTail: () => Promise<void>;
  fetchPage: (before: number | null, limit: number) => Promise<LogLine[]>;
}

/** `attempt 2 — retried after failure`, or nothing for a first attempt. */
export function attemptNote(job: JobRow, earlier: JobRow[]): string {
  if (job.attempt <= 1 && !earlier.length) return "";
  const previous = earlier[0]?.status;
  const why = previous === "failed" ? "retried after failure" : previous === "cancelled" ? "retried after cancel" : previous ? "run again" : "";
  return why ? `attempt ${job.attempt} — ${why}` : `attempt ${job.attempt}`;
}

/** `#3 in queue`, with the priority when it is not the default; why a job waits otherwise. */
export function queueNote(job: JobRow, place: number | undefined): string {
  const where = place != null ? `#${place} in queue` : job.current_step || "Queued";
  return job.priority ? `${where} · priority ${job.priority > 0 ? "+" : ""}${job.priority}` : where;
}

/** A queued job's place in the start order and the buttons that move it. */
function QueueCell({ job, place, label, live, onPriority }: { job: JobRow; place: number | undefined; label: string; live: boolean; onPriority: (move: PriorityMove) => void }) {
  const note = queueNote(job, place);
  const moves: [PriorityMove, string, string][] = [
    ["next", "⤒", `Run ${label} next`],
    ["raise", "▲", `Raise the priority of ${label}`],
    ["lower", "▼", `Lower the priority of ${label}`],
  ];
  return (
    <span class="pw-col-progress pw-queue-cell" title={note}>
      <span class="pw-ellipsis pw-muted" data-place={place ?? ""}>
        {note}
      </span>
      {moves.map(([move, glyph, name]) => (
        <button type="button" key={move} class={`pw-icon-btn pw-prio pw-prio-${move}`} disabled={!live} aria-label={name} title={name} onClick={() => onPriority(move)}>
          {glyph}
        </button>
      ))}
    </span>
  );
}

/** What the progress column says: a bar while running, else the error or the step as text. */
function Progress({ job, label }: { job: JobRow; label: string }) {
  if (job.status === "running") {
    return (
      <span class="pw-col-progress pw-progress-cell" title={job.current_step}>
        <ProgressBar value={job.progress} label={label} />
        <span class="pw-pct">{formatPercent(job.progress)}</span>
        <span class="pw-step pw-muted">{job.current_step}</span>
      </span>
    );
  }
  const text = job.error ?? (job.status === "completed" ? "" : job.current_step);
  // a cancelled job (or one skipped because a dependency failed or was cancelled) is not an error
  return (
    <span class={`pw-col-progress ${job.status === "failed" ? "pw-error-text" : "pw-muted"}`} title={text}>
      {text}
    </span>
  );
}

export function JobCard({ job, stage, subject, now, rowHeight, live, expanded, earlier, superseded, log, onToggle, onAction, selected, onSelect, place, onPriority, loadOlder, reloadTail, fetchPage }: Props) {
  const active = job.status === "queued" || job.status === "running";
  const retryable = (job.status === "failed" || job.status === "cancelled") && !superseded;
  const note = attemptNote(job, earlier);
  const duration = jobDuration(job.start_time, job.end_time, now);
  const detailsId = `pw-job-${job.id}`;
  const what = `${stage} for ${subject}`;
  const lines = log?.lines.length ?? 0;
  return (
    <div
      class={`pw-card pw-card-${job.status}${superseded ? " pw-superseded" : ""}${expanded ? " pw-expanded" : ""}${now - job.queued_at < 1.5 ? " pw-new" : ""}`}
      role="listitem"
      data-job-id={job.id}
      data-status={job.status}
      data-attempt={job.attempt}
      style={{ height: `${expanded ? expandedHeight(lines, rowHeight) : rowHeight}px` }}
    >
      <div class="pw-job-row">
        <span class="pw-row-lead">
          <input type="checkbox" aria-label={`Select ${what}`} checked={selected} onClick={(e) => onSelect(e as unknown as MouseEvent)} />
          <button
            type="button"
            class="pw-card-toggle"
            aria-expanded={expanded}
            aria-controls={detailsId}
            aria-label={`Details of ${what}`}
            title={expanded ? "Hide details" : "Show details and log"}
            onClick={onToggle}
          >
            <Icon name="chevron" className={expanded ? "pw-rot" : ""} />
            <JobStatusIcon status={job.status} />
          </button>
        </span>
        <span class="pw-col-stage pw-card-title" title={note ? `${stage} · ${note}` : stage}>
          <span class="pw-strong pw-stage-name">{stage}</span>
          {note && <span class="pw-muted pw-attempt-note">{`· ${note}`}</span>}
        </span>
        <span class="pw-col-subject pw-ellipsis" title={subject}>
          {subject}
        </span>
        <span class="pw-col-status pw-ellipsis">
          {superseded && (
            <Badge tone="off" title="A newer attempt of this stage for this subject replaced it">
              superseded
            </Badge>
          )}
          <Badge tone={job.status}>{job.status}</Badge>
        </span>
        {job.status === "queued" ? <QueueCell job={job} place={place} label={what} live={live} onPriority={onPriority} /> : <Progress job={job} label={what} />}
        <span class="pw-col-elapsed pw-num" title={job.start_time ? `started ${formatDateTime(job.start_time)}` : `queued ${formatDateTime(job.queued_at)}`}>
          {formatDuration(duration)}
        </span>
        <span class="pw-col-eta pw-num" title="time left (estimate)">
          {live && job.status === "running" ? formatEta(job.eta_seconds) : ""}
        </span>
        <span class="pw-col-actions pw-card-actions">
          {active && (
            <button type="button" class="pw-btn pw-btn-small" disabled={!live} onClick={() => onAction("cancel")} aria-label={`Cancel ${what}`}>
              Cancel
            </button>
          )}
          {retryable && (
            <button type="button" class="pw-btn pw-btn-small" disabled={!live} onClick={() => onAction("retry")} aria-label={`Retry ${what}`}>
              Retry
            </button>
          )}
        </span>
      </div>
      {expanded && (
        <div class="pw-card-details" id={detailsId}>
          <dl class="pw-details">
            <dt>Job</dt>
            <dd>
              <code>{job.id}</code>
            </dd>
            <dt>Stage</dt>
            <dd>{`${stage} (${job.stage_id})`}</dd>
            <dt>Subject</dt>
            <dd>{subject}</dd>
            <dt>Queued</dt>
            <dd>{formatDateTime(job.queued_at)}</dd>
            <dt>Started</dt>
            <dd>{formatDateTime(job.start_time) || "—"}</dd>
            <dt>Ended</dt>
            <dd>{formatDateTime(job.end_time) || "—"}</dd>
            {job.status === "queued" && (
              <>
                <dt>Queue</dt>
                <dd>{queueNote(job, place)}</dd>
              </>
            )}
            <dt>Attempt</dt>
            <dd>{job.retry_of ? `${job.attempt} (retry of ${shortId(job.retry_of)})` : String(job.attempt)}</dd>
            <dt>Resources</dt>
            <dd>
              {job.cpu_percent != null
                ? `CPU ${Math.round(job.cpu_percent)}% · RSS ${formatBytes(job.memory_rss)} · peak ${formatBytes(job.peak_memory_rss)}`
                : job.peak_memory_rss != null
                  ? `peak RSS ${formatBytes(job.peak_memory_rss)}`
                  : "—"}
            </dd>
            {job.status === "running" && (
              <>
                <dt>Step</dt>
                <dd class="pw-wide">{job.current_step || "—"}</dd>
              </>
            )}
            {job.error && (
              <>
                <dt>{job.status === "failed" ? "Error" : "Why"}</dt>
                <dd class={`pw-wide ${job.status === "failed" ? "pw-error-text" : ""}`}>{job.error}</dd>
              </>
            )}
            {earlier.length > 0 && (
              <>
                <dt>History</dt>
                <dd class="pw-wide">
                  <ul class="pw-earlier" aria-label="Earlier attempts">
                    {earlier.map((e) => (
                      <li key={e.id} data-job-id={e.id}>
                        {`${e.attempt}: ${e.status} ${formatClock(e.end_time ?? e.queued_at)} `}
                        <code>{shortId(e.id)}</code>
                        {e.error ? ` — ${e.error}` : ""}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
            <dt>Log file</dt>
            <dd class="pw-wide">
              <code>{job.log_path ?? "—"}</code>
            </dd>
          </dl>
          <LogView window={log} height={LOG_MAX_HEIGHT} label={`Log of ${what}`} loadOlder={loadOlder} reloadTail={reloadTail} fetchPage={fetchPage} />
        </div>
      )}
    </div>
  );
}
