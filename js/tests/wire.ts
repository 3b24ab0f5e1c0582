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
