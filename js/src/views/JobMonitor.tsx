// JobMonitor: stats, filter tabs with live counts (newest attempts only), a virtualised list of
// job cards (running first; earlier attempts folded under the newest), all attempts on demand, Kill all.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { FocusChip } from "../components/FocusChip";
import { Notice, useNotice } from "../components/Notice";
import { VirtualList } from "../components/VirtualList";
import { failure } from "../errors";
import { logLoaders, useCanAct, useNow, useStore, useWatch } from "../hooks";
import { focusReducer } from "../state/focus";
import { countJobs, earlierAttempts, isNewest, type JobsState, jobsReducer, listJobs, type Sort, type SortKey, sortJobs } from "../state/jobs";
import { logsReducer } from "../state/logs";
import { chime, newlyEnded } from "../sounds";
import type { ModelLike, SyncClient } from "../sync";
import type { JobRow, JobStatus } from "../types";
import { expandedHeight, JobCard, ROW_HEIGHT } from "./JobCard";

export const jobMonitorReducers = { jobs: jobsReducer, logs: logsReducer, focus: focusReducer };
type Client = SyncClient<typeof jobMonitorReducers>;

/** At most this many cards open at once (each one watches its job's log). */
const MAX_EXPANDED = 8;

const TABS: { key: JobStatus | "all"; label: string; empty: string }[] = [
  { key: "all", label: "All", empty: "No jobs yet. Run a pipeline to see its jobs here." },
  { key: "running", label: "Running", empty: "No running jobs" },
  { key: "queued", label: "Queued", empty: "No queued jobs" },
  { key: "completed", label: "Completed", empty: "No completed jobs" },
  { key: "failed", label: "Failed", empty: "No failed jobs" },
  { key: "cancelled", label: "Cancelled", empty: "No cancelled jobs" },
];

/** Play a tone when a job completes or fails, if the widget's `sounds` trait is on. */
function useSounds(model: ModelLike, jobs: JobsState | undefined): void {
  const seen = useRef<Map<string, JobStatus> | null>(null);
  useEffect(() => {
    if (!jobs) return;
    const now = new Map(jobs.order.map((id) => [id, jobs.byId[id].status] as [string, JobStatus]));
    if (seen.current && model.get("sounds")) {
      const ended = newlyEnded(seen.current, now);
      if (ended.failed) chime("failed");
      else if (ended.completed) chime("completed");
    }
    seen.current = now;
  }, [jobs, model]);
}

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "stage", label: "Stage" },
  { key: "subject", label: "Subject" },
  { key: "status", label: "Status" },
  { key: "progress", label: "Progress" },
  { key: "elapsed", label: "Elapsed" },
  { key: "eta", label: "ETA" },
];

/** The job table's column headers; a click sorts by a column, again reverses, a third time
 * goes back to the default order. */
function SortHeader({ sort, onSort }: { sort: Sort | null; onSort: (sort: Sort | null) => void }) {
  const next = (key: SortKey): Sort | null =>
    sort?.key !== key ? { key, descending: false } : sort.descending ? null : { key, descending: true };
  return (
    <div class="pw-job-head">
      <span />
      {COLUMNS.map((c) => {
        const on = sort?.key === c.key;
        const state = on ? (sort.descending ? ", sorted descending" : ", sorted ascending") : "";
        return (
          <button
            type="button"
            key={c.key}
            class={`pw-sort${c.key === "elapsed" || c.key === "eta" ? " pw-num" : ""}`}
            aria-pressed={on}
            aria-label={`Sort by ${c.label.toLowerCase()}${state}`}
            onClick={() => onSort(next(c.key))}
          >
            {c.label}
            {on ? (sort.descending ? " ▼" : " ▲") : ""}
          </button>
        );
      })}
      <span />
    </div>
  );
}

/** `o` with the key `from` replaced by `to` (dropped when `to` is null), keeping its place. */
function renameKey(o: Record<string, JobStatus>, from: string, to: string | null, status: JobStatus): Record<string, JobStatus> {
  return Object.fromEntries(
    Object.entries(o).flatMap(([k, v]): [string, JobStatus][] => (k !== from ? [[k, v]] : to ? [[to, status]] : [])),
  );
}

export function JobMonitor({ client, model }: { client: Client; model: ModelLike }) {
  const state = useStore(client.store);
  const link = useStore(client.link);
  const live = useCanAct(client);
  const now = useNow(1000, live) + state.clockOffset;
  const [tab, setTab] = useState<JobStatus | "all">("all");
  /** Open cards, in the order they were opened, with the status each job had then. */
  const [open, setOpen] = useState<Record<string, JobStatus>>({});
  const [history, setHistory] = useState(false);
  /** A column the user sorted by; null: the default order (running, failed, queued, done). */
  const [sort, setSort] = useState<Sort | null>(null);
  const [confirmKill, setConfirmKill] = useState(false);
  const [query, setQuery] = useState("");
  const [notice, say, dismiss] = useNotice();
  const expanded = Object.keys(open);
  useWatch(client, expanded, state.ready);
  const jobs = state.parts.jobs;
  useSounds(model, state.ready ? jobs : undefined);
  const stage = state.parts.focus?.stage_id ?? null;
  const listed = useMemo(
    () => (state.ready ? listJobs(jobs, tab, { query, history, pinned: open, stage }) : []),
    [jobs, tab, query, history, open, stage, state.ready],
  );
  const ids = useMemo(() => (sort && state.ready ? sortJobs(jobs, listed, sort, now) : listed), [listed, sort, jobs, state.ready, now]);
  const logs = state.parts.logs;
  const sizes = useMemo(() => ids.map((id) => (id in open ? expandedHeight(logs?.[id]?.lines.length ?? 0) : ROW_HEIGHT)), [ids, open, logs]);
  if (!state.ready) return <div class="pw-root pw-loading" data-ready="false">Loading jobs...</div>;
  const everything = countJobs(jobs);
  const active = everything.running + everything.queued; // Kill all acts on every job
  const counts = stage ? countJobs(jobs, stage) : everything; // the tabs follow the focus
  const label = (id: string) => {
    const job = jobs.byId[id];
    return `${jobs.stages[job.stage_id] ?? job.stage_id} for ${jobs.subjects[job.subject_id] ?? job.subject_id}`;
  };

  const act = (action: "cancel" | "retry", id: string) =>
    client
      .request(action, { job_id: id })
      .then((row: JobRow) => {
        say(`${action === "cancel" ? "Cancelled" : "Retrying"} ${label(id)}`, "ok");
        // an open card follows its job to the new attempt
        if (action === "retry" && id in open) setOpen((o) => renameKey(o, id, row.id, row.status));
      })
      .catch((e: Error) => say(failure(action, e, link), "error"));
  const killAll = () => {
    setConfirmKill(false);
    client
      .request("cancel_all")
      .then((r: { cancelled: number }) => say(`Cancelled ${r.cancelled} job${r.cancelled === 1 ? "" : "s"}`, "ok"))
      .catch((e: Error) => say(failure("cancel the jobs", e, link), "error"));
  };
  const toggle = (id: string) =>
    setOpen((o) => {
      if (id in o) return renameKey(o, id, null, "queued");
      return Object.fromEntries([...Object.entries(o), [id, jobs.byId[id].status]].slice(-MAX_EXPANDED));
    });

  const onTabKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.key === tab);
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = TABS[(i + step + TABS.length) % TABS.length].key;
    setTab(next);
    const target = (e.currentTarget as HTMLElement).querySelector<HTMLElement>(`[data-tab="${next}"]`);
    target?.focus();
  };
  const current = TABS.find((t) => t.key === tab) ?? TABS[0];

  return (
    <section class="pw-root pw-monitor" data-ready="true" aria-label="Job monitor">
      <header class="pw-header">
        <h3 class="pw-title">Jobs</h3>
        <span class="pw-muted">{active ? `${active} active` : "idle"}</span>
        <FocusChip focus={state.parts.focus} client={client} />
        <span class="pw-spacer" />
        {confirmKill ? (
          <span class="pw-confirm" role="alertdialog" aria-label="Confirm kill all">
            <span>{`Cancel all ${active} queued and running jobs?`}</span>
            <button type="button" class="pw-btn pw-btn-danger" disabled={!live} onClick={killAll}>
              Kill all
            </button>
            <button type="button" class="pw-btn" onClick={() => setConfirmKill(false)}>
              Keep running
            </button>
          </span>
        ) : (
          <button type="button" class="pw-btn pw-btn-danger" disabled={!active || !live} onClick={() => setConfirmKill(true)}>
            Kill all
          </button>
        )}
      </header>
      <div class="pw-stats">
        {TABS.slice(1).map((t) => (
          <div class={`pw-stat pw-tone-${t.key}`} key={t.key}>
            <span class="pw-stat-value">{counts[t.key]}</span>
            <span class="pw-stat-label">{t.label}</span>
          </div>
        ))}
      </div>
      <div class="pw-tabs" role="tablist" aria-label="Filter jobs by status" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            type="button"
            role="tab"
            key={t.key}
            data-tab={t.key}
            class="pw-tab"
            aria-selected={tab === t.key}
            tabIndex={tab === t.key ? 0 : -1}
            onClick={() => setTab(t.key)}
          >
            {t.label} <span class="pw-count">{counts[t.key]}</span>
          </button>
        ))}
      </div>
      <input
        type="search"
        class="pw-search"
        placeholder="Filter by subject, stage or job id"
        aria-label="Filter jobs by subject, stage or job id"
        value={query}
        onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
      />
      <button
        type="button"
        class="pw-btn pw-btn-small pw-history-toggle"
        aria-pressed={history}
        title="Show every attempt of each subject x stage, not only the newest"
        onClick={() => setHistory((h) => !h)}
      >
        All attempts
      </button>
      <Notice notice={notice} onDismiss={dismiss} />
      <div role="tabpanel" aria-label={`${current.label} jobs`}>
        {ids.length > 0 && <SortHeader sort={sort} onSort={setSort} />}
        {ids.length === 0 ? (
          <p class="pw-empty">{query.trim() ? `No ${tab === "all" ? "" : `${current.label.toLowerCase()} `}jobs match “${query.trim()}”` : current.empty}</p>
        ) : (
          <VirtualList
            sizes={sizes}
            height={520}
            label={`${current.label} jobs`}
            renderRow={(i) => {
              const job = jobs.byId[ids[i]];
              const loaders = logLoaders(client, job.id);
              return (
                <JobCard
                  key={job.id}
                  job={job}
                  stage={jobs.stages[job.stage_id] ?? job.stage_id}
                  subject={jobs.subjects[job.subject_id] ?? job.subject_id}
                  now={now}
                  live={live}
                  expanded={job.id in open}
                  earlier={earlierAttempts(jobs, job.id)}
                  superseded={!isNewest(jobs, job.id)}
                  log={state.parts.logs[job.id]}
                  onToggle={() => toggle(job.id)}
                  onAction={(action) => act(action, job.id)}
                  loadOlder={loaders.older}
                  reloadTail={loaders.tail}
                  fetchPage={loaders.page}
                />
              );
            }}
          />
        )}
      </div>
    </section>
  );
}
