// PipelineGraph: the stage DAG left to right (dagre), live counts per node, click to focus.

import { useMemo } from "preact/hooks";
import { Notice, useNotice } from "../components/Notice";
import { formatDuration } from "../format";
import { useStore } from "../hooks";
import { focusReducer } from "../state/focus";
import {
  COUNT_KEYS,
  COUNT_LABELS,
  countsText,
  graphReducer,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  stackSegments,
} from "../state/graph";
import type { SyncClient } from "../sync";

export const graphReducers = { graph: graphReducer, focus: focusReducer };
type Client = SyncClient<typeof graphReducers>;

const BAR_X = 8;
const BAR_Y = 24;
const BAR_WIDTH = NODE_WIDTH - 16;
const SHORT: Record<string, string> = { not_run: "todo", running: "run", queued: "queue", waiting: "wait", failed: "fail" };

export function PipelineGraph({ client }: { client: Client }) {
  const state = useStore(client.store);
  const [notice, say] = useNotice();
  const graph = state.parts.graph;
  const stages = graph?.stages ?? [];
  const layout = useMemo(() => layoutGraph(stages), [stages]);
  if (!state.ready || !graph?.project) return <div class="pw-root pw-loading" data-ready="false">Loading pipeline...</div>;
  const focused = state.parts.focus.stage_id;
  const labels = new Map(stages.map((s) => [s.id, s.label]));
  const blocked = new Set(graph.blocked.map(([a, b]) => `${a}>${b}`));
  const focus = (stageId: string | null) =>
    client
      .request("focus", { stage_id: stageId })
      .then(() => say(stageId ? `Job monitor and dashboard show only ${labels.get(stageId)}` : "Showing every stage", "ok"))
      .catch((e: Error) => say(e.message, "error"));
  const toggle = (id: string) => focus(focused === id ? null : id);

  return (
    <section class="pw-root pw-graph" data-ready="true" aria-label={`Pipeline of ${graph.project.name}`}>
      <header class="pw-header">
        <h3 class="pw-title">{`Pipeline · ${graph.project.name}`}</h3>
        <span class="pw-muted">{`${stages.length} stages · ${graph.subjects} subjects`}</span>
        <span class="pw-spacer" />
        {focused && (
          <button type="button" class="pw-btn" onClick={() => focus(null)}>
            {`Show every stage (now: ${labels.get(focused) ?? focused})`}
          </button>
        )}
      </header>
      <Notice notice={notice} />
      <div class="pw-graph-scroll">
        <svg class="pw-graph-svg" width={layout.width} height={layout.height} role="group" aria-label="Stages and their dependencies">
          <defs>
            <marker id="pw-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L8,4 L0,8 z" class="pw-graph-arrow" />
            </marker>
            <marker id="pw-arrow-blocked" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L8,4 L0,8 z" class="pw-graph-arrow-blocked" />
            </marker>
          </defs>
          {layout.edges.map((e) => {
            const isBlocked = blocked.has(`${e.from}>${e.to}`);
            return (
              <path
                key={`${e.from}>${e.to}`}
                class={`pw-graph-edge${isBlocked ? " pw-graph-edge-blocked" : ""}`}
                data-from={e.from}
                data-to={e.to}
                data-blocked={String(isBlocked)}
                d={e.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ")}
                marker-end={`url(#${isBlocked ? "pw-arrow-blocked" : "pw-arrow"})`}
              >
                <title>{`${labels.get(e.from)} → ${labels.get(e.to)}${isBlocked ? ": blocked by a failure" : ""}`}</title>
              </path>
            );
          })}
          {layout.nodes.map((n) => {
            const stage = stages.find((s) => s.id === n.id);
            const counts = graph.counts[n.id];
            const median = graph.median[n.id];
            const isFocused = focused === n.id;
            const words = countsText(counts);
            const medianText = median != null ? `median ${median < 1 ? "<1s" : formatDuration(median)}` : "no run yet";
            return (
              <g
                key={n.id}
                class={`pw-graph-node${isFocused ? " pw-graph-node-focused" : ""}`}
                transform={`translate(${n.x},${n.y})`}
                role="button"
                tabindex={0} // lower case: SVG ignores "tabIndex"
                aria-pressed={isFocused}
                aria-label={`${stage?.label}: ${words}; ${medianText}. ${isFocused ? "Shown alone in the job monitor and dashboard; press to show every stage" : "Press to show only this stage in the job monitor and dashboard"}`}
                data-stage-id={n.id}
                {...Object.fromEntries(COUNT_KEYS.map((k) => [`data-${k.replace("_", "-")}`, counts?.[k] ?? 0]))}
                onClick={() => toggle(n.id)}
                onKeyDown={(e: KeyboardEvent) => {
                  if (e.key === "Enter" || e.key === " ") {
                    e.preventDefault();
                    toggle(n.id);
                  }
                }}
              >
                <rect class="pw-graph-box" width={NODE_WIDTH} height={NODE_HEIGHT} rx={5} />
                <text class="pw-graph-label" x={BAR_X} y={16}>
                  {stage?.label ?? n.id}
                </text>
                <rect class="pw-graph-track" x={BAR_X} y={BAR_Y} width={BAR_WIDTH} height={8} rx={2} />
                {stackSegments(counts).map((seg) => (
                  <rect
                    key={seg.key}
                    class={`pw-graph-seg pw-seg-${seg.key}`}
                    x={BAR_X + seg.start * BAR_WIDTH}
                    y={BAR_Y}
                    width={Math.max(seg.width * BAR_WIDTH, 1)}
                    height={8}
                  />
                ))}
                <text class="pw-graph-counts" x={BAR_X} y={46}>
                  {COUNT_KEYS.filter((k) => counts?.[k])
                    .map((k) => `${SHORT[k] ?? COUNT_LABELS[k]} ${counts[k]}`)
                    .join(" · ") || "no subjects"}
                </text>
                <text class="pw-graph-median" x={BAR_X} y={58}>
                  {medianText}
                </text>
                <title>{`${stage?.label}: ${words}; ${medianText}`}</title>
              </g>
            );
          })}
        </svg>
      </div>
      <ul class="pw-legend" aria-label="Legend">
        {COUNT_KEYS.map((k) => (
          <li key={k}>
            <svg width="12" height="12" aria-hidden="true">
              <rect class={`pw-graph-seg pw-seg-${k}`} width="12" height="12" />
            </svg>
            {`${COUNT_LABELS[k]} (${SHORT[k] ?? COUNT_LABELS[k]})`}
          </li>
        ))}
        <li>
          <svg width="22" height="12" aria-hidden="true">
            <path class="pw-graph-edge pw-graph-edge-blocked" d="M1,6 L21,6" />
          </svg>
          blocked by a failure (dashed)
        </li>
      </ul>
    </section>
  );
}
