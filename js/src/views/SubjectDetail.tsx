// SubjectDetail: the subject panel on its own.

import { useStore } from "../hooks";
import type { SyncClient } from "../sync";
import { SubjectPanel, subjectReducers } from "./SubjectPanel";

export function SubjectDetail({ client }: { client: SyncClient<typeof subjectReducers> }) {
  const state = useStore(client.store);
  if (!state.ready) return <div class="pw-root pw-loading" data-ready="false">Loading subject...</div>;
  return (
    <div class="pw-root" data-ready="true">
      <SubjectPanel client={client} subject={state.parts.subject} logs={state.parts.logs} qc={state.parts.qc} ready={state.ready} clockOffset={state.clockOffset} />
    </div>
  );
}
