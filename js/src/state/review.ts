// The review feed: one tile per subject with where its reviewed output is; keyboard moves.

import type { ReviewPatch, ReviewSnapshot, ReviewTile } from "../protocol";
import type { PartReducer } from "../sync";

export type Tile = ReviewTile;

export interface ReviewState {
  project: string;
  stage: { id: string; label: string } | null;
  label: string | null;
  labels: string[];
  tiles: Tile[];
}

export const reviewReducer: PartReducer<ReviewState, ReviewSnapshot, ReviewPatch> = {
  init(snapshot) {
    return { project: snapshot?.project ?? "", stage: snapshot?.stage ?? null, label: snapshot?.label ?? null, labels: snapshot?.labels ?? [], tiles: snapshot?.tiles ?? [] };
  },
  patch(state, patch) {
    const changed = new Map((patch.tiles ?? []).map((t) => [t.subject_id, t]));
    const tiles = state.tiles.map((t) => changed.get(t.subject_id) ?? t);
    return { ...state, tiles, labels: patch.labels ?? state.labels };
  },
};

/** The tile index after a key press in a grid of `columns` columns (`null`: not a move key). */
export function moveIndex(key: string, index: number, count: number, columns: number): number | null {
  const last = count - 1;
  switch (key) {
    case "ArrowRight":
      return Math.min(last, index + 1);
    case "ArrowLeft":
      return Math.max(0, index - 1);
    case "ArrowDown":
      return Math.min(last, index + columns);
    case "ArrowUp":
      return Math.max(0, index - columns);
    case "Home":
      return 0;
    case "End":
      return last;
    default:
      return null;
  }
}
