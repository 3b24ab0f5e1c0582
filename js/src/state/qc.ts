// The qc feed: a reviewer's pass / fail rating (and note) per subject and stage.

import type { QcPatch, QcRatingRow, QcSnapshot } from "../protocol";
import type { PartReducer } from "../sync";

export type QcValue = QcRatingRow["rating"];
export type Rating = QcRatingRow;

export interface QcState {
  ratings: Record<string, Record<string, Rating>>;
}

export const qcReducer: PartReducer<QcState, QcSnapshot, QcPatch> = {
  init(snapshot) {
    return { ratings: snapshot?.ratings ?? {} };
  },
  patch(state, patch) {
    const ratings = { ...state.ratings };
    for (const [subject, stages] of Object.entries(patch.ratings ?? {})) {
      const row = { ...(ratings[subject] ?? {}) };
      for (const [stage, rating] of Object.entries(stages)) {
        if (rating) row[stage] = rating;
        else delete row[stage];
      }
      ratings[subject] = row;
    }
    return { ratings };
  },
};

/** A subject's rating of a stage, if it has one. */
export function ratingOf(state: QcState, subjectId: string, stageId: string): Rating | undefined {
  return state.ratings[subjectId]?.[stageId];
}

/** The TSV file name of an export (a TSV of exclusions by default). */
export function exportName(project: string, onlyFailed: boolean): string {
  const safe = project.replace(/[^A-Za-z0-9._-]+/g, "_") || "project";
  return `${safe}-qc-${onlyFailed ? "exclusions" : "ratings"}.tsv`;
}
