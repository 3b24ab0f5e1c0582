// The stage in focus (from a PipelineGraph), and the button that shows every stage again.

import type { FocusState } from "../state/focus";
import type { SyncClient } from "../sync";

export function FocusChip({ focus, client }: { focus: FocusState; client: SyncClient<any> }) {
  if (!focus.stage_id) return null;
  return (
    <span class="pw-focus-chip" data-focus-stage={focus.stage_id}>
      <span class="pw-badge pw-tone-on">{`Stage: ${focus.label ?? focus.stage_id}`}</span>
      <button type="button" class="pw-btn pw-btn-small" onClick={() => client.request("clear_focus").catch(() => undefined)}>
        Show every stage
      </button>
    </span>
  );
}
