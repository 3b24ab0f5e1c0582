// Timeline: one lane per execution slot (grouped by worker on a cluster), each job a bar on a
// canvas (queue wait as a thin line above it); wheel zoom, drag pan, hover tooltip, click opens
// the job; resources strip below (split by worker on a cluster).

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { LogView } from "../components/LogView";
import { formatBytes, formatClock, formatDuration, shortId } from "../format";
import { logLoaders, useNow, useStore, useWatch } from "../hooks";
import { logsReducer } from "../state/logs";
import {
  buildScene,
  fitViewport,
  hitTest,
  panViewport,
  type LaneGroup,
  type ResourceRow,
  type Scene,
  STATUS_CODES,
  stepAt,
  type TimelineState,
  timelineReducer,
  timeTicks,
  type Viewport,
  zoomViewport,
} from "../state/timeline";
import type { SyncClient } from "../sync";

export const timelineReducers = { timeline: timelineReducer, logs: logsReducer };
type Client = SyncClient<typeof timelineReducers>;

const LANE = 22;
const AXIS = 20;
const STRIP = 64;
const PALETTE_SIZE = 10;
const FAILED = STATUS_CODES.indexOf("failed");
const CANCELLED = STATUS_CODES.indexOf("cancelled");
const RUNNING = STATUS_CODES.indexOf("running");

/** A worker's address without its protocol ("tcp://10.0.0.5:4001" -> "10.0.0.5:4001"). */
export function workerName(worker: string | null): string {
  return worker === null ? "this machine" : worker.replace(/^[a-z]+:\/\//, "");
}

/** Whether any lane group is a cluster worker (then lanes and resources are shown per worker). */
function onWorkers(groups: LaneGroup[]): boolean {
  return groups.some((g) => g.worker !== null);
}

/** Colours from the theme (CSS variables on the view's root), read once per draw. */
function themeColours(el: Element) {
  const style = getComputedStyle(el);
  const v = (name: string) => style.getPropertyValue(name).trim() || "#888";
  return {
    stages: Array.from({ length: PALETTE_SIZE }, (_, i) => v(`--pw-stage-${i}`)),
    text: v("--pw-text-2"),
    grid: v("--pw-border"),
    failed: v("--pw-failed"),
    surface: v("--pw-surface"),
    ink: v("--pw-ink"),
    cpu: v("--pw-running"),
    memory: v("--pw-waiting"),
  };
}

function setupCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

function drawAxis(ctx: CanvasRenderingContext2D, view: Viewport, width: number, height: number, colours: ReturnType<typeof themeColours>) {
  const x = (t: number) => ((t - view.t0) / (view.t1 - view.t0)) * width;
  const { step, ticks } = timeTicks(view, Math.max(2, Math.floor(width / 90)));
  ctx.fillStyle = colours.text;
  ctx.strokeStyle = colours.grid;
  ctx.lineWidth = 1;
  ctx.font = "11px var(--jp-ui-font-family, sans-serif)";
  ctx.textBaseline = "middle";
  ctx.beginPath();
  for (const t of ticks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.moveTo(px, AXIS);
    ctx.lineTo(px, height);
    const label = step < 1 ? `${formatClock(t)}.${Math.round((t % 1) * 10)}` : formatClock(t);
    ctx.fillText(label, px + 3, AXIS / 2);
  }
  ctx.stroke();
}

/** Index in `indices` (a lane's jobs by start) of the first job that may show from `t0` on
 * (a job that started earlier has its queue wait out of view). */
function firstVisible(scene: Scene, indices: number[], t0: number): number {
  let lo = 0;
  let hi = indices.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (scene.start[indices[mid]] < t0) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(lo - 1, 0); // the job before may still run into view
}

/** Draw every visible bar: stage colours batched (one fill per colour), marks on top. */
function drawScene(
  canvas: HTMLCanvasElement,
  root: Element,
  scene: Scene,
  view: Viewport,
  width: number,
  now: number,
  marks: TimelineState["marks"],
  hovered: number,
) {
  const height = AXIS + Math.max(scene.lanes, 1) * LANE;
  const ctx = setupCanvas(canvas, width, height);
  const colours = themeColours(root);
  ctx.clearRect(0, 0, width, height);
  drawAxis(ctx, view, width, height, colours);
  const scale = width / (view.t1 - view.t0);
  const n = scene.ids.length;
  const x = (t: number) => (t - view.t0) * scale;
  const top = (i: number) => AXIS + scene.lane[i] * LANE + 6;
  const barH = LANE - 8;
  // Lane by lane, from the first job visible: queue waits merged where they overlap (a thin
  // line at the top of the lane), bars under 3 px merged where they touch within half a pixel
  // (one path per stage colour), so that a frame costs about one rect per pixel column, however
  // many jobs.
  const waits = new Path2D();
  const paths = Array.from({ length: PALETTE_SIZE }, () => new Path2D());
  const special: number[] = []; // failed, cancelled or running: marked on top
  const wide: number[] = []; // bars wide enough for step marks
  for (let lane = 0; lane < scene.lanes; lane++) {
    const indices = scene.byLane[lane];
    const yWait = AXIS + lane * LANE + 3.5;
    const yBar = AXIS + lane * LANE + 6;
    let k = firstVisible(scene, indices, view.t0);
    let waitFrom = NaN;
    let waitTo = NaN;
    const runFrom = new Float64Array(PALETTE_SIZE).fill(NaN);
    const runTo = new Float64Array(PALETTE_SIZE).fill(NaN);
    const flushRun = (c: number) => {
      if (!Number.isNaN(runFrom[c])) paths[c].rect(runFrom[c], yBar, Math.max(runTo[c] - runFrom[c], 1), barH);
    };
    for (; k < indices.length; k++) {
      const i = indices[k];
      const q = x(scene.queued[i]);
      const x0 = x(scene.start[i]);
      if (x0 - q >= 1 && q <= width) {
        if (!Number.isNaN(waitFrom) && q <= waitTo + 0.5) {
          waitFrom = Math.min(waitFrom, q);
          waitTo = Math.max(waitTo, x0);
        } else {
          if (!Number.isNaN(waitFrom)) {
            waits.moveTo(Math.max(waitFrom, 0), yWait);
            waits.lineTo(waitTo, yWait);
          }
          waitFrom = q;
          waitTo = x0;
        }
      }
      if (scene.start[i] > view.t1) continue;
      const x1 = x(Number.isNaN(scene.end[i]) ? now : scene.end[i]);
      const c = scene.stage[i] % PALETTE_SIZE;
      if (x1 - x0 >= 3) {
        paths[c].rect(x0, yBar, x1 - x0 - 1, barH); // a 1 px gap tells one job from the next
      } else if (!Number.isNaN(runFrom[c]) && x0 <= runTo[c] + 0.5) {
        runTo[c] = Math.max(runTo[c], x1);
      } else {
        flushRun(c);
        runFrom[c] = x0;
        runTo[c] = x1;
      }
      if (scene.status[i] === FAILED || scene.status[i] === CANCELLED || scene.status[i] === RUNNING) special.push(i);
      if (x1 - x0 >= 8) wide.push(i);
    }
    if (!Number.isNaN(waitFrom)) {
      waits.moveTo(Math.max(waitFrom, 0), yWait);
      waits.lineTo(waitTo, yWait);
    }
    for (let c = 0; c < PALETTE_SIZE; c++) flushRun(c);
  }
  ctx.strokeStyle = colours.text;
  ctx.lineWidth = 1;
  ctx.stroke(waits);
  for (let c = 0; c < PALETTE_SIZE; c++) {
    ctx.fillStyle = colours.stages[c];
    ctx.fill(paths[c]);
  }
  // failed (outline and a cross), cancelled (a slash), running (an open right edge)
  ctx.lineWidth = 1.5;
  {
    for (const i of special) {
      const status = scene.status[i];
      const end = Number.isNaN(scene.end[i]) ? now : scene.end[i];
      const x0 = x(scene.start[i]);
      const x1 = Math.max(x(end), x0 + 1);
      const y0 = top(i);
      ctx.strokeStyle = status === FAILED ? colours.failed : colours.ink;
      ctx.beginPath();
      if (status === FAILED) {
        ctx.strokeRect(x0 + 0.75, y0 + 0.75, Math.max(x1 - x0 - 1.5, 0.5), barH - 1.5);
        const cx = Math.max(x1 - 6, x0 + 1);
        ctx.moveTo(cx - 3, y0 + 3);
        ctx.lineTo(cx + 3, y0 + barH - 3);
        ctx.moveTo(cx + 3, y0 + 3);
        ctx.lineTo(cx - 3, y0 + barH - 3);
      } else if (status === CANCELLED) {
        const cx = Math.max(x1 - 5, x0 + 1);
        ctx.moveTo(cx - 3, y0 + barH - 2);
        ctx.lineTo(cx + 3, y0 + 2);
      } else {
        ctx.setLineDash([2, 2]);
        ctx.moveTo(x1 - 0.5, y0);
        ctx.lineTo(x1 - 0.5, y0 + barH);
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }
  // step marks: ticks inside bars wide enough to hold them
  ctx.strokeStyle = colours.surface;
  ctx.lineWidth = 1;
  ctx.beginPath();
  {
    for (const i of wide) {
      const list = marks[scene.ids[i]];
      if (!list || list.length < 2) continue;
      const end = Number.isNaN(scene.end[i]) ? now : scene.end[i];
      if ((x(end) - x(scene.start[i])) / list.length < 4) continue;
      for (const [t] of list.slice(1)) {
        const px = Math.round(x(t)) + 0.5;
        ctx.moveTo(px, top(i) + 2);
        ctx.lineTo(px, top(i) + barH - 2);
      }
    }
  }
  ctx.stroke();
  if (onWorkers(scene.groups)) drawGroups(ctx, scene.groups, width, colours);
  if (hovered >= 0 && hovered < n) {
    const end = Number.isNaN(scene.end[hovered]) ? now : scene.end[hovered];
    ctx.strokeStyle = colours.ink;
    ctx.lineWidth = 2;
    const x0 = x(scene.start[hovered]);
    ctx.strokeRect(x0 - 1, top(hovered) - 1, Math.max(x(end) - x0, 1) + 2, barH + 2);
  }
}

/** A rule above each worker's lanes and its name at the left, on a label background. */
function drawGroups(ctx: CanvasRenderingContext2D, groups: LaneGroup[], width: number, colours: ReturnType<typeof themeColours>) {
  ctx.font = "10px var(--jp-ui-font-family, sans-serif)";
  ctx.textBaseline = "top";
  for (const group of groups) {
    const y = AXIS + group.first * LANE;
    if (group.first > 0) {
      ctx.strokeStyle = colours.text;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, y + 0.5);
      ctx.lineTo(width, y + 0.5);
      ctx.stroke();
    }
    const label = `${workerName(group.worker)} · ${group.lanes} slot${group.lanes === 1 ? "" : "s"}`;
    const w = ctx.measureText(label).width + 6;
    ctx.globalAlpha = 0.85;
    ctx.fillStyle = colours.surface;
    ctx.fillRect(0, y + 1, w, 12);
    ctx.globalAlpha = 1;
    ctx.fillStyle = colours.text;
    ctx.fillText(label, 3, y + 2);
  }
}

/** The workers named in the resource rows, in order ("" is the kernel's machine). */
export function resourceWorkers(rows: ResourceRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row[3] ?? {})) names.add(name);
  return [...names].sort();
}

function drawResources(canvas: HTMLCanvasElement, root: Element, rows: ResourceRow[], view: Viewport, width: number) {
  const ctx = setupCanvas(canvas, width, STRIP);
  const colours = themeColours(root);
  ctx.clearRect(0, 0, width, STRIP);
  const visible = rows.filter((r) => r[0] + 1 >= view.t0 && r[0] <= view.t1);
  if (!visible.length) return;
  const maxCpu = Math.max(100, ...visible.map((r) => r[1]));
  const maxMem = Math.max(1, ...visible.map((r) => r[2]));
  const x = (t: number) => ((t - view.t0) / (view.t1 - view.t0)) * width;
  const y = (v: number, max: number) => STRIP - 2 - (v / max) * (STRIP - 6);
  // CPU: filled steps; memory: a dashed line (not told apart by colour alone)
  ctx.globalAlpha = 0.35;
  ctx.fillStyle = colours.cpu;
  ctx.beginPath();
  ctx.moveTo(x(visible[0][0]), STRIP);
  for (const [t, cpu] of visible) {
    ctx.lineTo(x(t), y(cpu, maxCpu));
    ctx.lineTo(x(t + 1), y(cpu, maxCpu));
  }
  ctx.lineTo(x(visible[visible.length - 1][0] + 1), STRIP);
  ctx.fill();
  ctx.globalAlpha = 1;
  // on a cluster: each worker's CPU stacked in order, a solid rule on top of each worker's band
  const workers = resourceWorkers(visible);
  if (workers.length > 1) {
    ctx.strokeStyle = colours.cpu;
    ctx.lineWidth = 1;
    const below = new Float64Array(visible.length);
    for (const worker of workers) {
      ctx.beginPath();
      visible.forEach((row, i) => {
        below[i] += row[3]?.[worker]?.[0] ?? 0;
        const py = y(below[i], maxCpu);
        if (i) ctx.lineTo(x(row[0]), py);
        else ctx.moveTo(x(row[0]), py);
        ctx.lineTo(x(row[0] + 1), py);
      });
      ctx.stroke();
    }
  }
  ctx.strokeStyle = colours.memory;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  visible.forEach(([t, , rss], i) => (i ? ctx.lineTo(x(t + 0.5), y(rss, maxMem)) : ctx.moveTo(x(t + 0.5), y(rss, maxMem))));
  ctx.stroke();
  ctx.setLineDash([]);
}

function sceneCounts(scene: Scene | null) {
  const counts = { started: scene?.ids.length ?? 0, running: 0, failed: 0, cancelled: 0 };
  for (const s of scene?.status ?? []) {
    if (s === RUNNING) counts.running += 1;
    else if (s === FAILED) counts.failed += 1;
    else if (s === CANCELLED) counts.cancelled += 1;
  }
  return counts;
}

interface Tip {
  index: number;
  x: number;
  y: number;
  t: number;
}

export function Timeline({ client }: { client: Client }) {
  const state = useStore(client.store);
  const mounted = useRef(performance.now());
  const painted = useRef<number | null>(null);
  const root = useRef<HTMLElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const strip = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);
  const [view, setView] = useState<Viewport | null>(null); // null: follow the whole run
  const [tip, setTip] = useState<Tip | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const drag = useRef<{ x: number; view: Viewport; moved: boolean } | null>(null);
  const timeline = state.parts.timeline;
  const scene = useMemo(() => (timeline ? buildScene(timeline) : null), [timeline?.rows, timeline?.order]);
  const running = useMemo(() => (scene ? scene.status.some((s) => s === RUNNING) : false), [scene]);
  const counts = useMemo(() => sceneCounts(scene), [scene]);
  const usedStages = useMemo(() => {
    const used = new Set(Object.values(timeline?.rows ?? {}).map((r) => r[2]));
    return (timeline?.order ?? []).filter((id) => used.has(id));
  }, [timeline?.rows, timeline?.order]);
  const now = useNow(running ? 500 : 60000) + state.clockOffset;
  const shown = scene ? (view ?? fitViewport(scene, now)) : null;
  useWatch(client, opened ? [opened] : [], state.ready);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setWidth(Math.max(200, Math.floor(el.clientWidth)));
    if (typeof ResizeObserver === "undefined") return; // only a test DOM lacks it
    const observer = new ResizeObserver(() => setWidth(Math.max(200, Math.floor(el.clientWidth))));
    observer.observe(el);
    return () => observer.disconnect();
  }, [state.ready]);

  useEffect(() => {
    if (!scene || !shown || !canvas.current || !root.current || !strip.current) return;
    const frame = requestAnimationFrame(() => {
      if (!canvas.current || !root.current || !strip.current) return;
      drawScene(canvas.current, root.current, scene, shown, width, now, timeline.marks, tip?.index ?? -1);
      drawResources(strip.current, root.current, timeline.resources, shown, width);
      if (painted.current == null && scene.ids.length) {
        painted.current = performance.now() - mounted.current;
        canvas.current.dataset.firstPaintMs = String(Math.round(painted.current));
      }
      canvas.current.dataset.drawn = String(scene.ids.length);
    });
    return () => cancelAnimationFrame(frame);
  });

  if (!state.ready || !scene || !shown) return <div class="pw-root pw-loading" data-ready="false">Loading timeline...</div>;
  const tl = timeline;
  const label = (id: string) => {
    const row = tl.rows[id];
    return `${tl.stages[row[2]] ?? row[2]} for ${tl.subjects[row[1]] ?? row[1]}`;
  };
  const at = (e: MouseEvent) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const t = shown.t0 + (px / width) * (shown.t1 - shown.t0);
    const lane = Math.floor((py - AXIS) / LANE);
    const slack = (3 / width) * (shown.t1 - shown.t0);
    return { px, py, t, index: py < AXIS ? -1 : hitTest(scene, lane, t, now, slack) };
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const anchor = (e.clientX - rect.left) / width;
    setView(zoomViewport(shown, Math.exp(e.deltaY * 0.002), anchor));
  };
  const onDown = (e: PointerEvent) => {
    drag.current = { x: e.clientX, view: shown, moved: false };
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
  };
  const onMove = (e: PointerEvent) => {
    const d = drag.current;
    if (d) {
      const dx = e.clientX - d.x;
      if (Math.abs(dx) > 2) d.moved = true;
      if (d.moved) {
        setView(panViewport(d.view, -dx / width));
        setTip(null);
        return;
      }
    }
    const hit = at(e);
    setTip(hit.index >= 0 ? { index: hit.index, x: hit.px, y: hit.py, t: hit.t } : null);
  };
  const onUp = (e: PointerEvent) => {
    const d = drag.current;
    drag.current = null;
    if (d && !d.moved) {
      const hit = at(e);
      if (hit.index >= 0) setOpened(scene.ids[hit.index]);
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const moves: Record<string, () => Viewport | null> = {
      "+": () => zoomViewport(shown, 0.8, 0.5),
      "=": () => zoomViewport(shown, 0.8, 0.5),
      "-": () => zoomViewport(shown, 1.25, 0.5),
      ArrowLeft: () => panViewport(shown, -0.1),
      ArrowRight: () => panViewport(shown, 0.1),
      "0": () => null,
    };
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    setView(move());
  };

  const clustered = onWorkers(scene.groups);
  const where = clustered
    ? `${scene.lanes} slot${scene.lanes === 1 ? "" : "s"} on ${scene.groups.length} worker${scene.groups.length === 1 ? "" : "s"}`
    : `${scene.lanes} slot${scene.lanes === 1 ? "" : "s"}`;
  const summary = `${counts.started} jobs started in ${where}: ${counts.running} running, ${counts.failed} failed, ${counts.cancelled} cancelled; ${scene.waiting} queued` + (tl.held < tl.total ? ` · loading ${tl.held.toLocaleString()} of ${tl.total.toLocaleString()} jobs...` : "");
  const tipRow = tip ? tl.rows[scene.ids[tip.index]] : null;
  const last = tl.resources.length ? tl.resources[tl.resources.length - 1] : null;
  const peakCpu = tl.resources.reduce((m, r) => Math.max(m, r[1]), 0);
  const peakMem = tl.resources.reduce((m, r) => Math.max(m, r[2]), 0);
  const openedRow = opened ? tl.rows[opened] : undefined;
  const loaders = opened ? logLoaders(client, opened) : null;

  return (
    <section class="pw-root pw-timeline" data-ready="true" aria-label="Job timeline" ref={root}>
      <header class="pw-header">
        <h3 class="pw-title">Timeline</h3>
        <span class="pw-muted" data-testid="timeline-summary">
          {summary}
        </span>
        <span class="pw-spacer" />
        <button type="button" class="pw-btn" onClick={() => setView(zoomViewport(shown, 0.5, 0.5))} aria-label="Zoom in">
          +
        </button>
        <button type="button" class="pw-btn" onClick={() => setView(zoomViewport(shown, 2, 0.5))} aria-label="Zoom out">
          −
        </button>
        <button type="button" class="pw-btn" disabled={view === null} onClick={() => setView(null)}>
          Fit all
        </button>
      </header>
      <div class="pw-timeline-box" ref={box}>
        <canvas
          ref={canvas}
          class="pw-timeline-canvas"
          tabIndex={0}
          role="img"
          aria-label={`Timeline: ${summary}. Wheel or + and - zoom, drag or arrow keys pan, 0 fits all; click a bar to open its job.`}
          data-lanes={scene.lanes}
          data-t0={shown.t0}
          data-t1={shown.t1}
          onWheel={onWheel}
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerLeave={() => setTip(null)}
          onKeyDown={onKey}
        />
        {tip && tipRow && (
          <div class="pw-tooltip" role="tooltip" style={{ left: `${Math.min(tip.x + 12, width - 260)}px`, top: `${tip.y + 14}px` }}>
            <div class="pw-strong">{label(tipRow[0])}</div>
            <div>{`${tipRow[3]} · job ${shortId(tipRow[0])}${tipRow[7] > 1 ? ` · attempt ${tipRow[7]}` : ""}${clustered ? ` · on ${workerName(tipRow[8] ?? null)}` : ""}`}</div>
            <div>{`waited ${formatDuration((tipRow[5] ?? tipRow[4]) - tipRow[4]) || "0s"} · ran ${formatDuration((tipRow[6] ?? now) - (tipRow[5] ?? now)) || "<1s"}`}</div>
            {stepAt(tl.marks[tipRow[0]], tip.t) && <div class="pw-muted">{`step: ${stepAt(tl.marks[tipRow[0]], tip.t)}`}</div>}
          </div>
        )}
      </div>
      <div class="pw-strip-head pw-muted pw-small">
        <span>{`Resources of running jobs · CPU (filled) now ${last ? Math.round(last[1]) : 0}%, peak ${Math.round(peakCpu)}%`}</span>
        <span>{`memory (dashed) now ${formatBytes(last ? last[2] : 0)}, peak ${formatBytes(peakMem)}`}</span>
        {last?.[3] && Object.keys(last[3]).length > 1 && (
          <span data-testid="timeline-workers">
            {`by worker (stacked, in this order): ${Object.entries(last[3])
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([w, [cpu, rss]]) => `${w ? workerName(w) : "this machine"} ${Math.round(cpu)}% ${formatBytes(rss)}`)
              .join(" · ")}`}
          </span>
        )}
      </div>
      <canvas ref={strip} class="pw-strip" role="img" aria-label={`Total CPU and memory of the running jobs over time; peak CPU ${Math.round(peakCpu)}%, peak memory ${formatBytes(peakMem)}`} />
      <ul class="pw-legend" aria-label="Stages">
        {usedStages.map((id) => (
          <li key={id}>
            <span class="pw-swatch" style={{ background: `var(--pw-stage-${tl.order.indexOf(id) % PALETTE_SIZE})` }} aria-hidden="true" />
            {tl.stages[id] ?? id}
          </li>
        ))}
        <li>thin line above a bar: queue wait · outlined with ✕: failed · slash: cancelled · dashed end: running</li>
      </ul>
      {openedRow && loaders && (
        <section class="pw-stage-detail" aria-label={`Job ${label(openedRow[0])}`}>
          <header class="pw-header">
            <span class="pw-strong">{label(openedRow[0])}</span>
            <code class="pw-muted">{shortId(openedRow[0])}</code>
            <span class={`pw-badge pw-tone-${openedRow[3]}`}>{openedRow[3]}</span>
            <span class="pw-spacer" />
            <button type="button" class="pw-btn" onClick={() => setOpened(null)} aria-label={`Close job ${label(openedRow[0])}`}>
              Close
            </button>
          </header>
          <p class="pw-muted pw-small">
            {`queued ${formatClock(openedRow[4])} · started ${formatClock(openedRow[5]) || "—"} · ended ${formatClock(openedRow[6]) || "—"} · waited ${formatDuration((openedRow[5] ?? now) - openedRow[4]) || "0s"} · ran ${formatDuration(openedRow[5] == null ? null : (openedRow[6] ?? now) - openedRow[5]) || "—"}`}
          </p>
          <LogView window={state.parts.logs[openedRow[0]]} height={200} label={`Log of ${label(openedRow[0])}`} loadOlder={loaders.older} reloadTail={loaders.tail} fetchPage={loaders.page} />
        </section>
      )}
    </section>
  );
}
