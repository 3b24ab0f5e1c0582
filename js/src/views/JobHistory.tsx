// JobHistory: per-stage run-time distribution and failures over time (small SVG plots), the
// largest failure groups, per-stage statistics, and the table of every attempt, searched and
// paged by the kernel (a page is a request: the browser never holds the whole history).

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { Badge } from "../components/Badge";
import { Notice, useNotice } from "../components/Notice";
import { saveText } from "../download";
import { failure } from "../errors";
import { formatBytes, formatClock, formatDateTime, formatDuration } from "../format";
import { useCanAct, useStore } from "../hooks";
import { type Analytics, axisDuration, durationRows, type HistoryRow, historyReducer, niceTicks, pageLabel } from "../state/history";
import type { SyncClient } from "../sync";
import { JOB_STATUSES } from "../types";

export const historyReducers = { history: historyReducer };
type Client = SyncClient<typeof historyReducers>;

const PAGE = 50;
const SEARCH_DELAY_MS = 250;

/** The width of an element, following its resizes (plots draw in real pixels, text stays legible). */
function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const measure = () => setWidth(Math.max(160, Math.floor(el.clientWidth)));
    measure();
    if (typeof ResizeObserver === "undefined") return undefined; // a test DOM: the first width stays
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

const LABEL_W = 110;
const ROW_H = 20;
const AXIS_H = 16;

/** One box per stage: whiskers min..max, box p25..p75, a median line and a p90 mark. */
function DurationPlot({ analytics }: { analytics: Analytics }) {
  const { ref, width } = useWidth(300);
  const rows = durationRows(analytics);
  const max = Math.max(0, ...rows.map((r) => r.q[5] ?? 0));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] || 1;
  const plotW = Math.max(40, width - LABEL_W - 34); // room for the last tick label
  const x = (v: number) => LABEL_W + (v / top) * plotW;
  const height = rows.length * ROW_H + AXIS_H;
  return (
    <div class="pw-plot" ref={ref}>
      <h4>Run time per stage</h4>
      {rows.length === 0 ? (
        <p class="pw-muted pw-small">No completed jobs yet</p>
      ) : (
        <svg width={width - 12} height={height} role="group" aria-label="Run time per stage: minimum, quartiles, median, 90th percentile and maximum">
          {ticks.map((t) => (
            <g key={t}>
              <line class="pw-axis" x1={x(t)} x2={x(t)} y1={0} y2={rows.length * ROW_H} />
              <text x={x(t)} y={height - 3} text-anchor="middle">
                {axisDuration(t, top, formatDuration)}
              </text>
            </g>
          ))}
          {rows.map((r, i) => {
            const [min, p25, med, p75, p90, hi] = r.q;
            const y = i * ROW_H + ROW_H / 2;
            const text = `${r.label}: median ${formatDuration(med)}, p90 ${formatDuration(p90)}, from ${formatDuration(min)} to ${formatDuration(hi)}, ${r.n} runs`;
            return (
              <g key={r.stage_id} role="img" aria-label={text} data-stage-id={r.stage_id}>
                <title>{text}</title>
                <text x={0} y={y + 3}>
                  {r.label.length > 18 ? `${r.label.slice(0, 17)}…` : r.label}
                </text>
                <line class="pw-whisker" x1={x(min)} x2={x(hi)} y1={y} y2={y} />
                <rect class="pw-box" x={x(p25)} y={y - 5} width={Math.max(1, x(p75) - x(p25))} height={10} />
                <line class="pw-median" x1={x(med)} x2={x(med)} y1={y - 6} y2={y + 6} />
                <path class="pw-p90" d={`M${x(p90)} ${y - 8} l3 -4 h-6 z`} />
              </g>
            );
          })}
        </svg>
      )}
      <div class="pw-legend" aria-hidden="true">
        <span>
          <span class="pw-swatch pw-box-swatch" style={{ background: "var(--jp-brand-color3, #bbdefb)" }} />
          25–75 %
        </span>
        <span>│ median</span>
        <span>▾ p90</span>
        <span>— min to max</span>
      </div>
    </div>
  );
}

/** Failed jobs per time bin: root failures solid, jobs skipped because of one light. */
function FailurePlot({ analytics }: { analytics: Analytics }) {
  const { ref, width } = useWidth(300);
  const { start, width: bin, roots, skipped } = analytics.failures;
  const totals = roots.map((r, i) => r + (skipped[i] ?? 0));
  const max = Math.max(0, ...totals);
  const ticks = niceTicks(max, 3);
  const top = ticks[ticks.length - 1] || 1;
  const plotH = 90;
  const left = 28;
  const plotW = Math.max(40, width - left - 16);
  const barW = roots.length ? plotW / roots.length : 0;
  const y = (v: number) => plotH - (v / top) * plotH;
  const failedRoots = roots.reduce((a, b) => a + b, 0);
  const failedSkipped = skipped.reduce((a, b) => a + b, 0);
  const summary = `${failedRoots} root failures and ${failedSkipped} jobs skipped because of one`;
  return (
    <div class="pw-plot" ref={ref}>
      <h4>Failures over time</h4>
      {start == null || bin == null || max === 0 ? (
        <p class="pw-muted pw-small">No failures</p>
      ) : (
        <svg width={width - 12} height={plotH + AXIS_H} role="img" aria-label={`Failures over time: ${summary}`}>
          <title>{summary}</title>
          {ticks.map((t) => (
            <g key={t}>
              <line class="pw-axis" x1={left} x2={left + plotW} y1={y(t)} y2={y(t)} />
              <text x={left - 4} y={y(t) + 3} text-anchor="end">
                {t}
              </text>
            </g>
          ))}
          {roots.map((r, i) => {
            const s = skipped[i] ?? 0;
            const x = left + i * barW;
            return (
              <g key={i}>
                <title>{`${formatClock(start + i * bin)}–${formatClock(start + (i + 1) * bin)}: ${r} root failures, ${s} skipped`}</title>
                <rect class="pw-bar-root" x={x + 0.5} y={y(r)} width={Math.max(1, barW - 1)} height={plotH - y(r)} />
                <rect class="pw-bar-skipped" x={x + 0.5} y={y(r + s)} width={Math.max(1, barW - 1)} height={y(r) - y(r + s)} />
              </g>
            );
          })}
          <text x={left} y={plotH + AXIS_H - 3}>
            {formatClock(start)}
          </text>
          <text x={left + plotW} y={plotH + AXIS_H - 3} text-anchor="end">
            {formatClock(start + roots.length * bin)}
          </text>
        </svg>
      )}
      <div class="pw-legend" aria-hidden="true">
        <span>
          <span class="pw-swatch pw-bar-root" style={{ background: "var(--pw-failed)" }} />
          root failure
        </span>
        <span>
          <span class="pw-swatch" style={{ background: "var(--pw-failed)", opacity: 0.35 }} />
          skipped because of one
        </span>
      </div>
    </div>
  );
}

/** The largest problems: root failures with the same error, and the jobs they took down. */
function FailureGroups({ analytics, stages }: { analytics: Analytics; stages: Record<string, string> }) {
  return (
    <div class="pw-plot">
      <h4>Failures by root cause</h4>
      {analytics.groups.length === 0 ? (
        <p class="pw-muted pw-small">No unresolved failures</p>
      ) : (
        <ul class="pw-groups" aria-label="Failure groups, largest first">
          {analytics.groups.map((g) => (
            <li key={`${g.stage_id}:${g.signature}`}>
              <Badge tone="failed" title={`${g.roots} root failures, ${g.skipped} jobs skipped because of them`}>
                {g.count}
              </Badge>
              <span>
                <span class="pw-strong">{stages[g.stage_id] ?? g.stage_id}</span>
                <span class="pw-muted">{` · ${g.subjects} subject${g.subjects === 1 ? "" : "s"}, ${g.skipped} skipped`}</span>
                <span class="pw-error-text" title={g.example_error}>
                  {g.example_error}
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function percent(v: number | null): string {
  return v == null ? "—" : `${Math.round(v * 100)}%`;
}

function StatsTable({ analytics }: { analytics: Analytics }) {
  return (
    <div class="pw-hist-table-wrap">
      <table class="pw-hist-table" aria-label="Statistics per stage">
        <thead>
          <tr>
            <th>Stage</th>
            <th class="pw-num">Runs</th>
            <th class="pw-num">Success</th>
            <th class="pw-num">Median</th>
            <th class="pw-num">p90</th>
            <th class="pw-num">Median wait</th>
            <th class="pw-num">p90 wait</th>
          </tr>
        </thead>
        <tbody>
          {analytics.stats.map((s) => (
            <tr key={s.stage_id} data-stage-id={s.stage_id}>
              <td>{s.label}</td>
              <td class="pw-num">{s.runs}</td>
              <td class="pw-num">{percent(s.success_rate)}</td>
              <td class="pw-num">{formatDuration(s.median_run_time) || "—"}</td>
              <td class="pw-num">{formatDuration(s.p90_run_time) || "—"}</td>
              <td class="pw-num">{formatDuration(s.median_queue_wait) || "—"}</td>
              <td class="pw-num">{formatDuration(s.p90_queue_wait) || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface Page {
  total: number;
  offset: number;
  rows: HistoryRow[];
}

export function JobHistory({ client }: { client: Client }) {
  const state = useStore(client.store);
  const link = useStore(client.link);
  const live = useCanAct(client);
  const [notice, say, dismiss] = useNotice();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [stage, setStage] = useState("");
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  const [loading, setLoading] = useState(false);
  const latest = useRef(0);
  const history = state.parts.history;
  const analytics = history?.analytics;
  // the search waits for a pause in typing
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const filters = { text: query || null, stage_id: stage || null, status: status ? [status] : null };
  const key = JSON.stringify(filters);
  useEffect(() => setOffset(0), [key]);
  useEffect(() => {
    if (!state.ready) return;
    const n = ++latest.current;
    setLoading(true);
    client
      .request("history_page", { ...filters, offset, limit: PAGE })
      .then((p: Page) => {
        if (n === latest.current) setPage(p);
      })
      .catch((e: Error) => {
        if (n === latest.current) say(failure("search the history", e, link), "error");
      })
      .finally(() => {
        if (n === latest.current) setLoading(false);
      });
    // a new page when the filters or the offset change, and when jobs ended (new analytics)
  }, [key, offset, state.ready, analytics]);
  if (!state.ready || !history) return <div class="pw-root pw-loading" data-ready="false">Loading history...</div>;
  const a = history.analytics;
  const download = (action: "export_history_logs" | "export_csv", what: string) =>
    client
      .request(action, filters, 120000)
      .then((r: { file_name: string; text: string; jobs: number }) => {
        saveText(r.file_name, r.text, action === "export_csv" ? "text/csv" : "text/plain");
        say(`Downloaded ${what} of ${r.jobs} job${r.jobs === 1 ? "" : "s"}`, "ok");
      })
      .catch((e: Error) => say(failure(`download ${what}`, e, link), "error"));
  const total = page?.total ?? 0;
  return (
    <section class="pw-root pw-history" data-ready="true" aria-label="Job history">
      <header class="pw-header">
        <h3 class="pw-title">History</h3>
        <span class="pw-muted">{`${a.runs} runs ended`}</span>
      </header>
      <Notice notice={notice} onDismiss={dismiss} />
      <div class="pw-history-plots">
        <DurationPlot analytics={a} />
        <FailurePlot analytics={a} />
        <FailureGroups analytics={a} stages={history.stages} />
      </div>
      <StatsTable analytics={a} />
      <div class="pw-history-filters" role="search">
        <input
          type="search"
          class="pw-search"
          placeholder="Search errors and logs"
          aria-label="Search the history in errors and logs"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <select aria-label="Stage" value={stage} onChange={(e) => setStage((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">All stages</option>
          {Object.entries(history.stages).map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
        <select aria-label="Status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">All statuses</option>
          {JOB_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <button type="button" class="pw-btn pw-btn-small" disabled={!live || !total} title="The whole log of every matching job, in one text file" onClick={() => download("export_history_logs", "the logs")}>
          Download logs
        </button>
        <button type="button" class="pw-btn pw-btn-small" disabled={!live || !total} title="Every matching job as a row of a CSV file" onClick={() => download("export_csv", "the history")}>
          CSV
        </button>
      </div>
      <div class="pw-hist-table-wrap" aria-busy={loading}>
        <table class="pw-hist-table" aria-label="Jobs in the history">
          <thead>
            <tr>
              <th>Subject</th>
              <th>Stage</th>
              <th>Status</th>
              <th class="pw-num">Attempt</th>
              <th>Queued</th>
              <th class="pw-num">Wait</th>
              <th class="pw-num">Run time</th>
              <th class="pw-num">Peak memory</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {(page?.rows ?? []).map((r) => (
              <tr key={r.job_id} data-job-id={r.job_id}>
                <td>{r.subject ?? "—"}</td>
                <td>{r.stage}</td>
                <td>
                  <Badge tone={r.status}>{r.status}</Badge>
                </td>
                <td class="pw-num">{r.attempt}</td>
                <td>{formatDateTime(r.queued_time)}</td>
                <td class="pw-num">{formatDuration(r.queue_wait)}</td>
                <td class="pw-num">{formatDuration(r.run_time)}</td>
                <td class="pw-num">{formatBytes(r.peak_memory_rss)}</td>
                <td class={r.status === "failed" ? "pw-error-text" : "pw-muted"} title={r.error ?? ""}>
                  {r.error ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.rows.length === 0 && <p class="pw-empty">{query ? `No job's error or log holds “${query}”` : "No jobs match"}</p>}
      </div>
      <div class="pw-pager">
        <span class="pw-muted" data-testid="history-range">
          {page ? pageLabel(page.offset, page.rows.length, total) : ""}
        </span>
        <button type="button" class="pw-btn pw-btn-small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Previous
        </button>
        <button type="button" class="pw-btn pw-btn-small" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
          Next
        </button>
      </div>
    </section>
  );
}
