// One job in the JobMonitor list: summary row, expandable details with the job's live log.

import { Badge } from "../components/Badge";
import { Icon, JobStatusIcon } from "../components/Icons";
import { LogView } from "../components/LogView";
import { ProgressBar } from "../components/ProgressBar";
import { formatBytes, formatClock, formatDateTime, formatDuration, formatEta, formatPercent, jobDuration, shortId } from "../format";
import type { LogWindow } from "../state/logs";
import type { JobRow } from "../types";

export const CARD_HEIGHT = 68;
export const EXPANDED_HEIGHT = CARD_HEIGHT + 420;

interface Props {
  job: JobRow;
  stage: string;
  subject: string;
  now: number;
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
  loadOlder: (before: number) => Promise<void>;
  reloadTail: () => Promise<void>;
}

/** `attempt 2 — retried after failure`, or nothing for a first attempt. */
export function attemptNote(job: JobRow, earlier: JobRow[]): string {
  if (job.attempt <= 1 && !earlier.length) return "";
  const previous = earlier[0]?.status;
  const why = previous === "failed" ? "retried after failure" : previous === "cancelled" ? "retried after cancel" : previous ? "run again" : "";
  return why ? `attempt ${job.attempt} — ${why}` : `attempt ${job.attempt}`;
}

export function JobCard({ job, stage, subject, now, live, expanded, earlier, superseded, log, onToggle, onAction, loadOlder, reloadTail }: Props) {
  const active = job.status === "queued" || job.status === "running";
  const retryable = (job.status === "failed" || job.status === "cancelled") && !superseded;
  const note = attemptNote(job, earlier);
  const duration = jobDuration(job.start_time, job.end_time, now);
  const detailsId = `pw-job-${job.id}`;
  return (
    <div
      class={`pw-card pw-card-${job.status}${superseded ? " pw-superseded" : ""}${expanded ? " pw-expanded" : ""}${now - job.queued_at < 1.5 ? " pw-new" : ""}`}
      role="listitem"
      data-job-id={job.id}
      data-status={job.status}
      data-attempt={job.attempt}
      style={{ height: `${(expanded ? EXPANDED_HEIGHT : CARD_HEIGHT) - 6}px` }}
    >
      <div class="pw-card-head">
        <button
          type="button"
          class="pw-card-toggle"
          aria-expanded={expanded}
          aria-controls={detailsId}
          onClick={onToggle}
          title={expanded ? "Hide details" : "Show details and log"}
        >
          <Icon name="chevron" className={expanded ? "pw-rot" : ""} />
          <JobStatusIcon status={job.status} />
          <span class="pw-card-title">
            <span class="pw-strong">{stage}</span>
            <span class="pw-muted"> · {subject} · </span>
            <code class="pw-muted">{shortId(job.id)}</code>
            {note && <span class="pw-muted">{` · ${note}`}</span>}
          </span>
          <span class="pw-card-line">
            {job.status === "running" ? (
              <>
                <span class="pw-step">{job.current_step}</span>
                <span class="pw-pct">{formatPercent(job.progress)}</span>
                <ProgressBar value={job.progress} label={`${stage} for ${subject}`} />
                <span class="pw-muted">{live ? formatEta(job.eta_seconds) : ""}</span>
              </>
            ) : job.error ? (
              <span class="pw-error-text" title={job.error}>
                {job.error}
              </span>
            ) : (
              <span class="pw-step pw-muted">{job.current_step}</span>
            )}
          </span>
        </button>
        <div class="pw-card-side">
          <span>
            {superseded && (
              <Badge tone="off" title="A newer attempt of this stage for this subject replaced it">
                superseded
              </Badge>
            )}
            <Badge tone={job.status}>{job.status}</Badge>
          </span>
          <span class="pw-muted pw-small" title={job.start_time ? `started ${formatDateTime(job.start_time)}` : "not started"}>
            {duration != null ? `${formatDuration(duration)} · ${formatClock(job.start_time)}` : `queued ${formatClock(job.queued_at)}`}
          </span>
          <span class="pw-card-actions">
            {active && (
              <button type="button" class="pw-btn pw-btn-small" disabled={!live} onClick={() => onAction("cancel")} aria-label={`Cancel ${stage} for ${subject}`}>
                Cancel
              </button>
            )}
            {retryable && (
              <button type="button" class="pw-btn pw-btn-small" disabled={!live} onClick={() => onAction("retry")} aria-label={`Retry ${stage} for ${subject}`}>
                Retry
              </button>
            )}
          </span>
        </div>
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
            <dt>Attempt</dt>
            <dd>{job.retry_of ? `${job.attempt} (retry of ${shortId(job.retry_of)})` : String(job.attempt)}</dd>
            {earlier.length > 0 && (
              <>
                <dt>History</dt>
                <dd class="pw-earlier">
                  <ul aria-label="Earlier attempts">
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
            <dt>Resources</dt>
            <dd>
              {job.cpu_percent != null
                ? `CPU ${Math.round(job.cpu_percent)}% · RSS ${formatBytes(job.memory_rss)} · peak ${formatBytes(job.peak_memory_rss)}`
                : job.peak_memory_rss != null
                  ? `peak RSS ${formatBytes(job.peak_memory_rss)}`
                  : "—"}
            </dd>
            <dt>Log file</dt>
            <dd>
              <code>{job.log_path ?? "—"}</code>
            </dd>
          </dl>
          <LogView window={log} height={250} label={`Log of ${stage} for ${subject}`} loadOlder={loadOlder} reloadTail={reloadTail} />
        </div>
      )}
    </div>
  );
}
