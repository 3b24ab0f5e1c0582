// The stage in focus (set by a PipelineGraph node; see pbrain_widgets/widgets/focus.py).

import type { PartReducer } from "../sync";

export interface FocusState {
  stage_id: string | null;
  label: string | null;
}

/** Snapshot and patch have the same shape: the whole focus. */
export const focusReducer: PartReducer<FocusState> = {
  init(snapshot) {
    return { stage_id: snapshot?.stage_id ?? null, label: snapshot?.label ?? null };
  },
  patch(_state, patch) {
    return focusReducer.init(patch, undefined);
  },
};
