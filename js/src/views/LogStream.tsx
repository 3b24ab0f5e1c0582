// LogStream: one job's log, live, with a one-line header about the job.

import { Badge } from "../components/Badge";
import { LogView } from "../components/LogView";
import { formatDuration, formatEta, formatPercent, jobDuration, shortId } from "../format";
import { logLoaders, useCanAct, useNow, useStore } from "../hooks";
import { jobReducer } from "../state/job";
import { logsReducer } from "../state/logs";
import type { SyncClient } from "../sync";

export const logStreamReducers = { job: jobReducer, logs: logsReducer };

export function LogStream({ client, jobId }: { client: SyncClient<typeof logStreamReducers>; jobId: string }) {
  const state = useStore(client.store);
  const live = useCanAct(client);
  const now = useNow(1000, live) + state.clockOffset;
  if (!state.ready) return <div class="pw-root pw-loading" data-ready="false">Loading log...</div>;
  const { job, subject, stage } = state.parts.job;
  const loaders = logLoaders(client, jobId);
  const duration = job ? jobDuration(job.start_time, job.end_time, now) : null;
  return (
    <section class="pw-root pw-logstream" data-ready="true" aria-label={`Log of ${stage} for ${subject}`}>
      {job && (
        <header class="pw-header">
          <span class="pw-strong">{stage}</span>
          <span class="pw-muted">{`· ${subject} ·`}</span>
          <code class="pw-muted">{shortId(job.id)}</code>
          <Badge tone={job.status}>{job.status}</Badge>
          {job.status === "running" && <span class="pw-muted">{`${formatPercent(job.progress)} ${job.current_step} ${live ? formatEta(job.eta_seconds) : ""}`}</span>}
          <span class="pw-spacer" />
          <span class="pw-muted">{formatDuration(duration)}</span>
        </header>
      )}
      {job?.error && <p class="pw-error-text">{job.error}</p>}
      <LogView window={state.parts.logs[jobId]} height={320} label={`Log of ${stage} for ${subject}`} loadOlder={loaders.older} reloadTail={loaders.tail} fetchPage={loaders.page} />
    </section>
  );
}
