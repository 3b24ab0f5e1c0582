// JobMonitor: stats, filter tabs with live counts (newest attempts only), a virtualised list of
// job cards (running first; earlier attempts folded under the newest; queued jobs in start
// order), all attempts on demand, Kill all, batch selection (cancel, retry, priority, logs) and
// notifications when runs finish and jobs fail. The kernel lists and sorts; the view asks for
// the window of rows around what it shows (jobs_window) and holds only those.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { FocusChip } from "../components/FocusChip";
import { Notice, type NoticeValue, useNotice } from "../components/Notice";
import { VirtualList } from "../components/VirtualList";
import { saveText } from "../download";
import { failure } from "../errors";
import { logLoaders, useCanAct, useCssPixels, useDebounced, useNow, useStore, useWatch, WATCH_RENEW_MS } from "../hooks";
import { type Alert, type AlertEvent, desktopOptIn, desktopPermission, labNotificationsReachable, notifyDesktop, notifyLab, RateLimiter, setDesktopOptIn } from "../notify";
import { type JobsEnded, type JobsWindowPayload, MAX_KEPT, MAX_WATCHED, WINDOW_MAX_ROWS } from "../protocol";
import { focusReducer } from "../state/focus";
import { applyReply, countJobs, type JobsState, jobsReducer } from "../state/jobs";
import { logsReducer } from "../state/logs";
import { selectRows } from "../state/project";
import { chime } from "../sounds";
import type { ModelLike, SyncClient } from "../sync";
import type { JobRow, JobStatus, RunRow } from "../types";
import { expandedHeight, JobCard, type PriorityMove, ROW_HEIGHT } from "./JobCard";

export const jobMonitorReducers = (viewId: string) => ({ jobs: jobsReducer(viewId), logs: logsReducer, focus: focusReducer });
type Client = SyncClient<ReturnType<typeof jobMonitorReducers>>;

/** At most this many cards open at once (each one watches its job's log, and stays listed). */
const MAX_EXPANDED = MAX_WATCHED;
/** The rows a view holds, in screens: `WINDOW_PAGES` from `WINDOW_PAGES_ABOVE` above the first
 * one visible, or, while the list scrolls, `WINDOW_PAGES_BEHIND` behind it and the rest ahead;
 * asked again when the screen has moved a screen from where the window would be made now. A
 * wheel or a jump of a few screens finds its rows here, and the next jump finds them while the
 * kernel's reply to the last one is on its way. */
const WINDOW_PAGES = 8;
const WINDOW_PAGES_ABOVE = 3;
const WINDOW_PAGES_BEHIND = 1;
/** The pause in typing after which the filter is sent. */
const QUERY_DEBOUNCE_MS = 150;
const LIST_HEIGHT = 520;

type SortKey = NonNullable<JobsWindowPayload["sort"]>;
interface Sort {
  key: SortKey;
  descending: boolean;
}

/** Jobs a batch action acts on: these ids, or (`listed_by` a view id) that view's whole listing. */
type Targets = { job_ids: string[]; listed_by?: string };

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
export function jobNews(ended: JobsEnded | null, runs: RunRow[], label: (job: { stage_id: string; subject_id: string }) => string): AlertEvent[] {
  const events: AlertEvent[] = (ended?.failed ?? []).map((job) => ({ kind: "failed", text: `${label(job)} failed`, ok: false }));
  const last = events[events.length - 1];
  if (last && ended?.more_failed) last.jobs = 1 + ended.more_failed; // the failures not named
  for (const run of runs) events.push({ kind: "run", text: `Run finished: ${run.message}`, ok: run.failed === 0 });
  return events;
}

/**
 * When jobs complete or fail and runs finish: a tone (if the widget's `sounds` trait is on), and
 * a rate-limited notification in the widget's toast, in JupyterLab's notification centre where
 * its labextension takes it (`notify.ts`), and on the desktop if the user opted in.
 */
function useJobNews(model: ModelLike, jobs: JobsState | undefined, label: (job: { stage_id: string; subject_id: string }) => string, toast: (alert: Alert) => void, desktop: boolean): void {
  /** The news last seen (nothing is news at the first look). */
  const seen = useRef<{ ended: JobsEnded | null; finished: RunRow[] } | null>(null);
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
    const last = seen.current;
    seen.current = { ended: jobs.ended, finished: jobs.finished };
    if (!last) return;
    const ended = jobs.ended !== last.ended ? jobs.ended : null;
    if (ended && model.get("sounds")) {
      if (ended.failed.length || ended.more_failed) chime("failed");
      else if (ended.completed) chime("completed");
    }
    limiter.current?.push(jobNews(ended, jobs.finished !== last.finished ? jobs.finished : [], label));
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
  const q = useDebounced(query.trim(), QUERY_DEBOUNCE_MS);
  const [notice, say, dismiss] = useNotice();
  const [alert, tell, dismissAlert] = useNotice();
  /** The jobs picked one by one (their rows are kept current: `keep`). */
  const [selected, setSelected] = useState<Set<string>>(new Set());
  /** "Select all": the whole listing, however long, acted on by the kernel (`listed_by`). */
  const [allListed, setAllListed] = useState(false);
  const anchor = useRef<number | null>(null);
  const [confirmBatch, setConfirmBatch] = useState<"cancel_many" | "retry_many" | null>(null);
  const [desktop, setDesktop] = useState(desktopOptIn);
  // asked once: the labextension's plugin starts with the app, before any widget renders
  const [centre] = useState(labNotificationsReachable);
  const expanded = Object.keys(open);
  useWatch(client, expanded, state.ready);
  const jobs = state.parts.jobs as JobsState | undefined;
  const label = (job: { stage_id: string; subject_id: string }) =>
    `${jobs?.stages[job.stage_id] ?? job.stage_id} for ${jobs?.subjects[job.subject_id] ?? job.subject_id}`;
  const describe = (id: string) => (jobs?.byId[id] ? label(jobs.byId[id]) : id);
  useJobNews(model, state.ready ? jobs : undefined, label, (news: NoticeValue) => tell(news.text, news.tone), desktop);
  const stage = state.parts.focus?.stage_id ?? null;
  const logs = state.parts.logs;
  const panel = useRef<HTMLDivElement>(null);
  const rowHeight = useCssPixels(panel, "--pw-job-row-height", ROW_HEIGHT, state.ready);
  const win = jobs?.window;

  // The window asked for (see WINDOW_PAGES).
  const page = Math.max(1, Math.ceil(LIST_HEIGHT / rowHeight));
  /** The window's offset for the first visible row, scrolling down (1), up (-1) or neither (0). */
  const around = (first: number, direction = 0) => {
    const above = direction > 0 ? WINDOW_PAGES_BEHIND : direction < 0 ? WINDOW_PAGES - 1 - WINDOW_PAGES_BEHIND : WINDOW_PAGES_ABOVE;
    return Math.max(0, first - above * page);
  };
  /** The first row in the viewport, and the last request's asked, offset and count. */
  const firstShown = useRef(0);
  const asked = useRef({ asked: 0, offset: 0, count: 0 });
  const payload = (offset: number, count: number): JobsWindowPayload => {
    asked.current = { asked: asked.current.asked + 1, offset, count };
    return {
      view: client.viewId,
      asked: asked.current.asked,
      tab,
      query: q || null,
      history,
      stage_id: stage,
      sort: sort?.key ?? null,
      descending: sort?.descending ?? false,
      offset,
      count,
      pinned: Object.entries(open),
      keep: [...selected].slice(0, MAX_KEPT),
    };
  };
  const refresh = (offset: number) =>
    client
      .request("jobs_window", payload(offset, Math.min(WINDOW_MAX_ROWS, WINDOW_PAGES * page)))
      .then((reply) => client.local((parts) => ({ ...parts, jobs: applyReply(parts.jobs, reply) })))
      .catch(() => undefined);
  /** This render's requests, for the timer and the cleanup. */
  const latest = useRef({ refresh, payload });
  latest.current = { refresh, payload };
  const listing = JSON.stringify([tab, q, history, stage, sort]);
  const listingAsked = useRef(listing);
  useEffect(() => {
    if (!state.ready) return;
    if (listingAsked.current !== listing) {
      // a new listing starts at its top (the list is drawn anew) and ends the selection: an
      // action never reaches jobs the list no longer shows
      listingAsked.current = listing;
      firstShown.current = 0;
      setAllListed(false);
      setSelected((picked) => (picked.size ? new Set() : picked));
    }
    refresh(around(firstShown.current));
  }, [state.ready, jobs?.generation, listing, JSON.stringify(open), selected]);
  useEffect(() => {
    if (!state.ready) return undefined;
    // the window is a lease (30 s): renewed while the view shows it
    const timer = setInterval(() => latest.current.refresh(asked.current.offset), WATCH_RENEW_MS);
    return () => clearInterval(timer);
  }, [state.ready]);
  // the view goes away: end the lease (a reload skips this; the lease then lapses)
  useEffect(() => () => void client.request("jobs_window", { ...latest.current.payload(0, 0), pinned: [], keep: [] }).catch(() => undefined), []);
  const onRange = (first: number) => {
    const direction = Math.sign(first - firstShown.current);
    firstShown.current = first;
    if (!direction) return; // the top row stayed (a card opened): the window still holds it
    const wanted = Math.min(around(first, direction), Math.max(0, (win?.listed ?? 0) - asked.current.count));
    if (Math.abs(wanted - asked.current.offset) >= page) refresh(wanted);
  };

  /** Job ids of the window's rows, "" for one whose row is not here yet. */
  const windowIds = useMemo(() => (win && jobs ? win.seqs.map((seq) => jobs.bySeq[seq] ?? "") : []), [win, jobs?.bySeq]);
  // the expanded cards of the window, by their index in the listing (the rest are one row high)
  const tall = useMemo(() => {
    const out = new Map<number, number>();
    windowIds.forEach((id, k) => {
      if (id in open) out.set((win?.offset ?? 0) + k, expandedHeight(logs?.[id]?.lines.length ?? 0, rowHeight));
    });
    return out;
  }, [win?.offset, windowIds, open, logs, rowHeight]);
  if (!state.ready || !jobs || !win) return <div class="pw-root pw-loading" data-ready="false">Loading jobs...</div>;
  const everything = countJobs(jobs);
  const active = everything.running + everything.queued; // Kill all acts on every job
  const counts = countJobs(jobs, stage); // the tabs follow the focus
  const chosen = allListed ? [] : [...selected].filter((id) => jobs.byId[id]);
  const cancellable = chosen.filter((id) => jobs.byId[id].status === "queued" || jobs.byId[id].status === "running");
  const retryable = chosen.filter((id) => (jobs.byId[id].status === "failed" || jobs.byId[id].status === "cancelled") && !win.superseded.has(id));
  const queuedChosen = chosen.filter((id) => jobs.byId[id].status === "queued");
  const listedBy: Targets = { job_ids: [], listed_by: client.viewId };
  const pick = (ids: string[]): Targets => (allListed ? listedBy : { job_ids: ids });
  const n = allListed
    ? { selected: win.listed, ...win.actionable }
    : { selected: chosen.length, cancel: cancellable.length, retry: retryable.length, queued: queuedChosen.length };
  const allChosen = allListed || (win.listed > 0 && windowIds.length === win.listed && windowIds.every((id) => selected.has(id)));
  const plural = (k: number) => `${k} job${k === 1 ? "" : "s"}`;
  const isAre = (k: number) => `${k} ${k === 1 ? "is" : "are"}`;
  const clearSelection = () => {
    setSelected(new Set());
    setAllListed(false);
  };
  const select = (index: number, e: MouseEvent) => {
    // a row's box under "select all" starts a selection of the rows here, that one toggled
    const from = allListed || anchor.current === null ? null : anchor.current - win.offset;
    const base = allListed ? new Set(windowIds.filter(Boolean)) : selected;
    const next = selectRows(windowIds, base, index - win.offset, from !== null && from >= 0 && from < windowIds.length ? from : null, e.shiftKey);
    next.delete("");
    if (next.size > MAX_KEPT) {
      say(`At most ${MAX_KEPT} jobs can be picked one by one: select all ${win.listed} shown instead`, "error");
      return;
    }
    setAllListed(false);
    setSelected(next);
    anchor.current = index;
  };
  const batch = (action: "cancel_many" | "retry_many", targets: Targets) => {
    setConfirmBatch(null);
    client
      .request(action, targets)
      .then((r: { done: number; skipped: number; reasons: string[] }) => {
        say(batchOutcome(action === "cancel_many" ? "Cancelled" : "Retrying", r), "ok");
        clearSelection();
      })
      .catch((e: Error) => say(failure(action === "cancel_many" ? "cancel the selection" : "retry the selection", e, link), "error"));
  };
  const prioritize = (targets: Targets, move: PriorityMove) =>
    client
      .request("prioritize", { ...targets, move })
      .then((r: { changed: number }) => say(`${move === "next" ? "Runs next" : move === "raise" ? "Raised" : "Lowered"}: ${plural(r.changed)}`, "ok"))
      .catch((e: Error) => say(failure("change the priority", e, link), "error"));
  const downloadLogs = (targets: Targets) =>
    client
      .request("export_logs", targets, 120000)
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
        say(`${action === "cancel" ? "Cancelled" : "Retrying"} ${describe(id)}`, "ok");
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
      {n.selected > 0 && (
        <div class="pw-batch" role="toolbar" aria-label="Selected jobs">
          {confirmBatch ? (
            <span class="pw-confirm" role="alertdialog" aria-label="Confirm the batch action">
              {confirmBatch === "cancel_many" ? (
                <>
                  <span>{`Cancel ${plural(n.cancel)} of the ${n.selected} selected?${n.selected > n.cancel ? ` ${isAre(n.selected - n.cancel)} not queued or running.` : ""}`}</span>
                  <button type="button" class="pw-btn pw-btn-danger" disabled={!live} onClick={() => batch("cancel_many", pick(cancellable))}>
                    {`Cancel ${plural(n.cancel)}`}
                  </button>
                </>
              ) : (
                <>
                  <span>{`Retry ${plural(n.retry)} of the ${n.selected} selected?${n.selected > n.retry ? ` ${isAre(n.selected - n.retry)} not failed or cancelled (or already retried).` : ""}`}</span>
                  <button type="button" class="pw-btn pw-btn-primary" disabled={!live} onClick={() => batch("retry_many", pick(retryable))}>
                    {`Retry ${plural(n.retry)}`}
                  </button>
                </>
              )}
              <button type="button" class="pw-btn" onClick={() => setConfirmBatch(null)}>
                Back
              </button>
            </span>
          ) : (
            <>
              <span class="pw-strong" data-testid="selected-count">{`${n.selected} selected`}</span>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !n.cancel} onClick={() => setConfirmBatch("cancel_many")}>
                {`Cancel ${n.cancel}…`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !n.retry} onClick={() => setConfirmBatch("retry_many")}>
                {`Retry ${n.retry}…`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !n.queued} title="Start these queued jobs before every other queued job" onClick={() => prioritize(pick(queuedChosen), "next")}>
                {`Run next ${n.queued}`}
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !n.queued} aria-label={`Raise the priority of ${plural(n.queued)}`} onClick={() => prioritize(pick(queuedChosen), "raise")}>
                ▲
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live || !n.queued} aria-label={`Lower the priority of ${plural(n.queued)}`} onClick={() => prioritize(pick(queuedChosen), "lower")}>
                ▼
              </button>
              <button type="button" class="pw-btn pw-btn-small" disabled={!live} title="Save the whole log of each selected job in one text file" onClick={() => downloadLogs(pick(chosen))}>
                Download logs
              </button>
              <button type="button" class="pw-btn pw-btn-small" onClick={clearSelection}>
                Clear
              </button>
            </>
          )}
        </div>
      )}
      <div role="tabpanel" class="pw-jobs" ref={panel} aria-label={`${current.label} jobs`}>
        {win.listed > 0 && (
          <SortHeader
            sort={sort}
            onSort={setSort}
            all={allChosen}
            some={n.selected > 0}
            shown={win.listed}
            onSelectAll={() => {
              if (allChosen) clearSelection();
              else {
                setSelected(new Set());
                setAllListed(true);
              }
              anchor.current = null;
            }}
          />
        )}
        {win.listed === 0 ? (
          win.asked < 0 && counts.all > 0 ? (
            <p class="pw-empty" aria-busy="true">
              Listing jobs…
            </p>
          ) : (
            <p class="pw-empty">{q ? `No ${tab === "all" ? "" : `${current.label.toLowerCase()} `}jobs match “${q}”` : current.empty}</p>
          )
        ) : (
          <VirtualList
            key={listing}
            count={win.listed}
            rowHeight={rowHeight}
            tall={tall}
            height={LIST_HEIGHT}
            label={`${current.label} jobs`}
            onRange={onRange}
            renderRow={(i) => {
              const k = i - win.offset;
              const job = k >= 0 && k < windowIds.length ? jobs.byId[windowIds[k]] : undefined;
              if (!job) {
                return (
                  <div key={`at${i}`} class="pw-job-placeholder" role="listitem" aria-busy="true" aria-label="Loading this job" style={{ height: `${rowHeight}px` }}>
                    …
                  </div>
                );
              }
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
                  earlier={(win.earlier[job.id] ?? []).flatMap((id) => jobs.byId[id] ?? [])}
                  superseded={win.superseded.has(job.id)}
                  log={logs[job.id]}
                  onToggle={() => toggle(job.id)}
                  onAction={(action) => act(action, job.id)}
                  selected={allListed || selected.has(job.id)}
                  onSelect={(e) => select(i, e)}
                  place={jobs.queue[job.seq]}
                  onPriority={(move) => prioritize({ job_ids: [job.id] }, move)}
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
