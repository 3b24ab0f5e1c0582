// What the kernel sends, built the way pbrain_widgets/widgets/records.py builds it.

import type { Column, JobTable } from "../src/protocol";
import type { JobRow } from "../src/types";

/** One column in the kernel's most compact form (records.column). */
function column(values: unknown[]): Column {
  const distinct = new Map<unknown, number>();
  for (const v of values) if (!distinct.has(v)) distinct.set(v, distinct.size);
  if (distinct.size === 1) return { fill: values[0] };
  if (2 * distinct.size <= values.length) return { values: [...distinct.keys()], codes: values.map((v) => distinct.get(v) as number) };
  return values;
}

/** Job rows as the table the kernel sends (records.job_table). */
export function table(rows: JobRow[]): JobTable {
  const fields = rows.length ? (Object.keys(rows[0]) as (keyof JobRow)[]) : [];
  return { n: rows.length, columns: Object.fromEntries(fields.map((f) => [f, column(rows.map((r) => r[f]))])) };
}

/** A queued job row with its own subject "s" and stage "import". */
export function jobRow(id: string, seq: number): JobRow {
  return {
    id, project_id: "p", subject_id: "s", stage_id: "import", status: "queued", progress: 0, current_step: "", queued_at: seq,
    start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

/** What a widget's `_channel_id` and `_channel_key` traits hold in these tests. */
export const CHANNEL_TRAITS: Record<string, string> = { _channel_id: "channel", _channel_key: "1" };

/** An engine channel's model (pbrain_widgets/widgets/channel.py) as a view finds it through
 * the widget manager: `manager` resolves to it, `patch()` sends what the kernel sends. */
export class FakeChannel {
  handlers: ((msg: any) => void)[] = [];
  readonly manager = { get_model: async (id: string) => (id === CHANNEL_TRAITS._channel_id ? this : Promise.reject(new Error(`no model ${id}`))) };
  get() {
    return undefined;
  }
  send() {}
  on(_e: string, cb: (msg: any) => void) {
    this.handlers.push(cb);
  }
  off(_e: string, cb: (msg: any) => void) {
    this.handlers = this.handlers.filter((x) => x !== cb);
  }
  /** One channel message carrying widget `key`'s patch. */
  patch(rev: number, parts: Record<string, unknown>, t = 0, key = CHANNEL_TRAITS._channel_key) {
    for (const cb of this.handlers) cb({ kind: "patches", t, patches: { [key]: { rev, parts } } });
  }
}
