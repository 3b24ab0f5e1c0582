// The pipeline graph: stage counts and medians (reducer), node layout (dagre), node bars.

import dagre from "@dagrejs/dagre";
import type { PartReducer } from "../sync";
import type { StageRow } from "../types";

/** The count keys of a node, in the order its bar stacks them (see feeds/graph.py). */
export const COUNT_KEYS = ["done", "stale", "running", "queued", "waiting", "failed", "not_run"] as const;
export type CountKey = (typeof COUNT_KEYS)[number];
export type Counts = Record<CountKey, number>;

export const COUNT_LABELS: Record<CountKey, string> = {
  done: "done",
  stale: "stale",
  running: "running",
  queued: "queued",
  waiting: "waiting",
  failed: "failed",
  not_run: "not run",
};

export interface GraphState {
  project: { id: string; name: string } | null;
  stages: StageRow[];
  counts: Record<string, Counts>;
  median: Record<string, number | null>;
  blocked: [string, string][];
  subjects: number;
}

export const graphReducer: PartReducer<GraphState> = {
  init(snapshot) {
    return {
      project: snapshot?.project ?? null,
      stages: snapshot?.stages ?? [],
      counts: snapshot?.counts ?? {},
      median: snapshot?.median ?? {},
      blocked: snapshot?.blocked ?? [],
      subjects: snapshot?.subjects ?? 0,
    };
  },
  patch(state, patch: Partial<Omit<GraphState, "project" | "stages">>) {
    return {
      ...state,
      counts: patch.counts ? { ...state.counts, ...patch.counts } : state.counts,
      median: patch.median ? { ...state.median, ...patch.median } : state.median,
      blocked: patch.blocked ?? state.blocked,
      subjects: patch.subjects ?? state.subjects,
    };
  },
};

export interface NodeBox {
  id: string;
  x: number; // left
  y: number; // top
}

export interface EdgePath {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface Layout {
  nodes: NodeBox[];
  edges: EdgePath[];
  width: number;
  height: number;
}

export const NODE_WIDTH = 168;
export const NODE_HEIGHT = 62;

/** Left-to-right layered layout of the stage DAG (dagre); node boxes by their top-left corner. */
export function layoutGraph(stages: StageRow[]): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of stages) g.setNode(s.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const s of stages) for (const dep of s.depends_on) g.setEdge(dep, s.id);
  dagre.layout(g);
  const nodes = stages.map((s) => {
    const n = g.node(s.id);
    return { id: s.id, x: n.x - NODE_WIDTH / 2, y: n.y - NODE_HEIGHT / 2 };
  });
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  const graph = g.graph();
  return { nodes, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

export interface Segment {
  key: CountKey;
  count: number;
  /** Start and width as fractions of the bar. */
  start: number;
  width: number;
}

/** The non-empty segments of a node's stacked bar, in COUNT_KEYS order. */
export function stackSegments(counts: Counts | undefined): Segment[] {
  if (!counts) return [];
  const total = COUNT_KEYS.reduce((sum, k) => sum + (counts[k] ?? 0), 0);
  if (!total) return [];
  const out: Segment[] = [];
  let start = 0;
  for (const key of COUNT_KEYS) {
    const count = counts[key] ?? 0;
    if (!count) continue;
    out.push({ key, count, start, width: count / total });
    start += count / total;
  }
  return out;
}

/** `3 done, 1 running, 2 not run`: a node's counts as words (never colour alone). */
export function countsText(counts: Counts | undefined): string {
  const parts = COUNT_KEYS.filter((k) => counts?.[k]).map((k) => `${counts?.[k]} ${COUNT_LABELS[k]}`);
  return parts.length ? parts.join(", ") : "no subjects";
}
