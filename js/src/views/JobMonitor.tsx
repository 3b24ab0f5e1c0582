// JobMonitor: stats, filter tabs with live counts (newest attempts only), a virtualised list of
// job cards (running first; earlier attempts folded under the newest; queued jobs in start
// order), all attempts on demand, Kill all, batch selection (cancel, retry, priority, logs) and
// notifications when runs finish and jobs fail.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { FocusChip } from "../components/FocusChip";
import { Notice, type NoticeValue, useNotice } from "../components/Notice";
import { VirtualList } from "../components/VirtualList";
import { saveText } from "../download";
import { failure } from "../errors";
import { logLoaders, useCanAct, useCssPixels, useNow, useStore, useThrottledMemo, useWatch } from "../hooks";
import { type Alert, type AlertEvent, desktopOptIn, desktopPermission, labNotificationsReachable, notifyDesktop, notifyLab, RateLimiter, setDesktopOptIn } from "../notify";
import { focusReducer } from "../state/focus";
import { countJobs, earlierAttempts, endedSince, isNewest, type JobsState, jobsReducer, listJobs, type Sort, type SortKey, sortJobs } from "../state/jobs";
import { logsReducer } from "../state/logs";
import { selectRows } from "../state/project";
import { chime } from "../sounds";
import type { ModelLike, SyncClient } from "../sync";
import type { JobRow, JobStatus, RunRow } from "../types";
import { expandedHeight, JobCard, type PriorityMove, ROW_HEIGHT } from "./JobCard";

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

/** What the view tells about runs that finished and jobs that failed (root failures only: the
 * jobs skipped because of one are in their run's summary). */
export function jobNews(jobs: JobsState, failed: string[], runs: RunRow[], label: (id: string) => string): AlertEvent[] {
  const events: AlertEvent[] = failed
    .filter((id) => jobs.byId[id] && !jobs.byId[id].blocked_by)
    .map((id) => ({ kind: "failed", text: `${label(id)} failed`, ok: false }));
  for (const run of runs) events.push({ kind: "run", text: `Run finished: ${run.message}`, ok: run.failed === 0 });
  return events;
}

/**
 * When jobs complete or fail and runs finish: a tone (if the widget's `sounds` trait is on), and
 * a rate-limited notification in the widget's toast, in JupyterLab's notification centre where
 * its labextension takes it (`notify.ts`), and on the desktop if the user opted in.
 */
function useJobNews(model: ModelLike, jobs: JobsState | undefined, label: (id: string) => string, toast: (alert: Alert) => void, desktop: boolean): void {
  const cursor = useRef<number | null>(null);
  const runs = useRef<RunRow[] | null>(null);
  const sink = useRef<(alert: Alert) => void>(toast);
  sink.current = (alert: Alert) => {
    toast(alert);
    notifyLab(alert);
    if (desktop) notifyDesktop(alert);
  };
  const limiter = useRef<RateLimiter | null>(null);
  useEffect(() => {
    const l = new RateLimiter((alert) => sink.current(alert));
    limiter.current = l;
    return () => l.dispose();
  }, []);
  useEffect(() => {
    if (!jobs) return;
    const first = cursor.current === null;
    const ended = endedSince(jobs, cursor.current);
    cursor.current = ended.cursor;
    if (!first) {
      if (model.get("sounds")) {
        if (ended.failed.length) chime("failed");
        else if (ended.completed.length) chime("completed");
      }
      const finished = runs.current !== null && jobs.finished !== runs.current ? jobs.finished : [];
      limiter.current?.push(jobNews(jobs, ended.failed, finished, label));
    }
    runs.current = jobs.finished;
  }, [jobs, model]);
}

/** What a batch action says it did: "Cancelled 12 jobs; 3 skipped (job is completed...)". */
function batchOutcome(verb: string, r: { done: number; skipped: number; reasons: string[] }): string {
  const done = `${verb} ${r.done} job${r.done === 1 ? "" : "s"}`;
  return r.skipped ? `${done}; ${r.skipped} skipped (${r.reasons[0] ?? "nothing to do"}${r.reasons.length > 1 ? "; …" : ""})` : done;
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
function SortHeader({ sort, onSort, all, some, onSelectAll, shown }: { sort: Sort | null; onSort: (sort: Sort | null) => void; all: boolean; some: boolean; onSelectAll: () => void; shown: number }) {
  const next = (key: SortKey): Sort | null =>
    sort?.key !== key ? { key, descending: false } : sort.descending ? null : { key, descending: true };
  return (
    <div class="pw-job-head">
      <span class="pw-row-lead">
        <input
          type="checkbox"
          aria-label={all ? "Clear the selection" : `Select all ${shown} jobs shown`}
          title={all ? "Clear the selection" : `Select all ${shown} jobs shown`}
          checked={all}
          ref={(el) => {
            if (el) el.indeterminate = some && !all;
          }}
          onChange={onSelectAll}
        />
      </span>
      {COLUMNS.map((c) => {
        const on = sort?.key === c.key;
        const state = on ? (sort.descending ? ", sorted descending" : ", sorted ascending") : "";
        return (
          <button
            type="button"
            key={c.key}
            class={`pw-sort pw-col-${c.key}${c.key === "elapsed" || c.key === "eta" ? " pw-num" : ""}`}
            aria-pressed={on}
            aria-label={`Sort by ${c.label.toLowerCase()}${state}`}
            onClick={() => onSort(next(c.key))}
          >
            {c.label}
            {on ? (sort.descending ? " ▼" : " ▲") : ""}
          </button>
        );
      })}
      <span class="pw-col-actions" />
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
  const [alert, tell, dismissAlert] = useNotice();
  /** The batch selection (acted on: the selected jobs that the list shows). */
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const anchor = useRef<number | null>(null);
  const [confirmBatch, setConfirmBatch] = useState<"cancel_many" | "retry_many" | null>(null);
  const [desktop, setDesktop] = useState(desktopOptIn);
  // asked once: the labextension's plugin starts with the app, before any widget renders
  const [centre] = useState(labNotificationsReachable);
  const expanded = Object.keys(open);
  useWatch(client, expanded, state.ready);
  const jobs = state.parts.jobs;
  const describe = (id: string) => {
    const job = jobs.byId[id];
    return `${jobs.stages[job.stage_id] ?? job.stage_id} for ${jobs.subjects[job.subject_id] ?? job.subject_id}`;
  };
  useJobNews(model, state.ready ? jobs : undefined, describe, (news: NoticeValue) => tell(news.text, news.tone), desktop);
  const stage = state.parts.focus?.stage_id ?? null;
  // rebuilt when the list may have changed, not on every patch of progress (a scan for a query or
  // every attempt, or a column sort, reads names, superseded jobs or progress: then on every
  // patch), and for a long list not more often than its cost allows (see useThrottledMemo)
  const listChanged = query.trim() || history || sort ? jobs?.version : jobs?.listVersion;
  const ids = useThrottledMemo(
    () => {
      if (!state.ready) return [];
      const listed = listJobs(jobs, tab, { query, history, pinned: open, stage });
      return sort ? sortJobs(jobs, listed, sort, now) : listed;
    },
    listChanged,
    [tab, query, history, open, stage, sort, state.ready],
  );
  const logs = state.parts.logs;
  const panel = useRef<HTMLDivElement>(null);
  const rowHeight = useCssPixels(panel, "--pw-job-row-height", ROW_HEIGHT, state.ready);
  const sizes = useMemo(() => ids.map((id) => (id in open ? expandedHeight(logs?.[id]?.lines.length ?? 0, rowHeight) : rowHeight)), [ids, open, logs, rowHeight]);
  if (!state.ready) return <div class="pw-root pw-loading" data-ready="false">Loading jobs...</div>;
  const everything = countJobs(jobs);
  const active = everything.running + everything.queued; // Kill all acts on every job
  const counts = stage ? countJobs(jobs, stage) : everything; // the tabs follow the focus
  const label = describe;
  const chosen = selected.size ? ids.filter((id) => selected.has(id)) : [];
  const cancellable = chosen.filter((id) => jobs.byId[id].status === "queued" || jobs.byId[id].status === "running");
  const retryable = chosen.filter((id) => (jobs.byId[id].status === "failed" || jobs.byId[id].status === "cancelled") && isNewest(jobs, id));
  const queuedChosen = chosen.filter((id) => jobs.byId[id].status === "queued");
  const allChosen = ids.length > 0 && chosen.length === ids.length;
  const plural = (n: number) => `${n} job${n === 1 ? "" : "s"}`;
  const isAre = (n: number) => `${n} ${n === 1 ? "is" : "are"}`;
  const select = (index: number, e: MouseEvent) => {
    setSelected(selectRows(ids, selected, index, anchor.current, e.shiftKey));
    anchor.current = index;
  };
  const batch = (action: "cancel_many" | "retry_many", targets: string[]) => {
    setConfirmBatch(null);
    client
      .request(action, { job_ids: targets })
      .then((r: { done: number; skipped: number; reasons: string[] }) => {
        say(batchOutcome(action === "cancel_many" ? "Cancelled" : "Retrying", r), "ok");
        setSelected(new Set());
      })
      .catch((e: Error) => say(failure(action === "cancel_many" ? "cancel the selection" : "retry the selection", e, link), "error"));
  };
  const prioritize = (targets: string[], move: PriorityMove) =>
    client
      .request("prioritize", { job_ids: targets, move })
      .then((r: { changed: number }) => say(`${move === "next" ? "Runs next" : move === "raise" ? "Raised" : "Lowered"}: ${plural(r.changed)}`, "ok"))
      .catch((e: Error) => say(failure("change the priority", e, link), "error"));
  const downloadLogs = (targets: string[]) =>
    client
      .request("export_logs", { job_ids: targets }, 120000)
      .then((r: { file_name: string; text: string; jobs: number }) => {
        saveText(r.file_name, r.text);
        say(`Downloaded the logs of ${plural(r.jobs)}`, "ok");
      })
      .catch((e: Error) => say(failure("download the logs", e, link), "error"));
  const toggleDesktop = () => {
    if (desktop) {
      setDesktop(false);
      setDesktopOptIn(false);
      return;
    }
    if (desktopPermission() === "unsupported") {
      say("This browser has no desktop notifications", "error");
      return;
    }
    // asked on this click, as browsers require
    Notification.requestPermission().then((permission) => {
      const on = permission === "granted";
      setDesktop(on);
      setDesktopOptIn(on);
      say(on ? "Desktop notifications on" : "The browser did not allow desktop notifications", on ? "ok" : "error");
    });
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
        <button
          type="button"
          class="pw-btn pw-btn-small"
          aria-pressed={desktop}
          title={`Desktop notifications when a run finishes or a job fails (this widget always shows them${centre ? ", and so does Jupyter's notification centre" : ""})`}
          onClick={toggleDesktop}
        >
          Desktop alerts
        </button>
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
      <Notice notice={alert} onDismiss={dismissAlert} alerts />
      {chosen.length > 0 && (
        <div class="pw-batch" role="toolbar" aria-label="Selected jobs">
          {confirmBatch ? (
            <span class="pw-confirm" role="alertdialog" aria-label="Confirm the batch action">
              {confirmBatch === "cancel_many" ? (
                <>
                  <span>{`Cancel ${plural(cancellable.length)} of the ${chosen.length} selected?${chosen.length > cancellable.length ? ` ${isAre(chosen.length - cancellable.length)} not queued or running.` : ""}`}</span>
                  <button type="button" class="pw-btn pw-btn-danger" disabled={!live} onClick={() => batch("cancel_many", cancellable)}>
                    {`Cancel ${plural(cancellable.length)}`}
                  </button>
                </>
              ) : (
                <>
                  <span>{`Retry ${plural(retryable.length)} of the ${chosen.length} selected?${chosen.length > retryable.length ? ` ${isAre(chosen.length - retryable.length)} not failed or cancelled (or already retried).` : ""}`}</span>
                  <button type="button" class="pw-btn pw-btn-primary" disabled={!live} onClick={() => batch("retry_many", retryable)}>
                    {`Retry ${plural(retryable.length)}`}
                  </button>
                </>
              )}
              <button type="button" class="pw-btn" onClick={() => setConfirmBatch(null)}>
                Back
              </button>
            </span>
          ) : (
            <>
              <span class="pw-strong" data-testid="selected-count">{`${chosen.length} selected`}</span>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !cancellable.length} onClick={() => setConfirmBatch("cancel_many")}>
                {`Cancel ${cancellable.length}…`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !retryable.length} onClick={() => setConfirmBatch("retry_many")}>
                {`Retry ${retryable.length}…`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !queuedChosen.length} title="Start these queued jobs before every other queued job" onClick={() => prioritize(queuedChosen, "next")}>
                {`Run next ${queuedChosen.length}`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !queuedChosen.length} aria-label={`Raise the priority of ${plural(queuedChosen.length)}`} onClick={() => prioritize(queuedChosen, "raise")}>
                ▲
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !queuedChosen.length} aria-label={`Lower the priority of ${plural(queuedChosen.length)}`} onClick={() => prioritize(queuedChosen, "lower")}>
                ▼
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live} title="Save the whole log of each selected job in one text file" onClick={() => downloadLogs(chosen)}>
                Download logs
              </button>
              <button type="button" class="pw-btn pw-btn-small" onClick={() => setSelected(new Set())}>
                Clear
              </button>
            </>
          )}
        </div>
      )}
      <div role="tabpanel" class="pw-jobs" ref={panel} aria-label={`${current.label} jobs`}>
        {ids.length > 0 && (
          <SortHeader
            sort={sort}
            onSort={setSort}
            all={allChosen}
            some={chosen.length > 0}
            shown={ids.length}
            onSelectAll={() => {
              setSelected(allChosen ? new Set() : new Set(ids));
              anchor.current = null;
            }}
          />
        )}
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
                  rowHeight={rowHeight}
                  live={live}
                  expanded={job.id in open}
                  earlier={earlierAttempts(jobs, job.id)}
                  superseded={!isNewest(jobs, job.id)}
                  log={state.parts.logs[job.id]}
                  onToggle={() => toggle(job.id)}
                  onAction={(action) => act(action, job.id)}
                  selected={selected.has(job.id)}
                  onSelect={(e) => select(i, e)}
                  place={jobs.queue[job.id]}
                  onPriority={(move) => prioritize([job.id], move)}
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
