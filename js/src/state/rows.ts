// Job rows as they travel: tables of columns (whole rows) and field changes keyed by the job's
// `seq` (see JobTable and FieldChanges in protocol.ts).

import type { Column, FieldChanges, JobRow, JobTable } from "../protocol";

function reader(column: Column): (i: number) => unknown {
  if (Array.isArray(column)) return (i) => column[i];
  if ("fill" in column) return () => column.fill;
  return (i) => column.values[column.codes[i]];
}

/** The rows of a table, in its order (none for a missing table). */
export function rowsOf(table: JobTable | undefined): JobRow[] {
  if (!table) return [];
  const columns = Object.entries(table.columns).map(([name, column]) => [name, reader(column)] as const);
  const rows: JobRow[] = new Array(table.n);
  for (let i = 0; i < table.n; i++) {
    const row: Record<string, unknown> = {};
    for (const [name, read] of columns) row[name] = read(i);
    rows[i] = row as unknown as JobRow;
  }
  return rows;
}

/**
 * Apply field changes: for each job that `get(seq)` knows, `put` receives a new row with the
 * changed fields set (one new row per job, however many fields changed); unknown seqs are skipped.
 */
export function applyChanges(changes: FieldChanges | undefined, get: (seq: number) => JobRow | undefined, put: (row: JobRow) => void): void {
  if (!changes) return;
  const updated = new Map<number, Record<string, unknown>>();
  for (const [field, pairs] of Object.entries(changes)) {
    for (const [seq, value] of pairs) {
      let row = updated.get(seq);
      if (!row) {
        const known = get(seq);
        if (!known) continue;
        row = { ...known };
        updated.set(seq, row);
      }
      row[field] = value;
    }
  }
  for (const row of updated.values()) put(row as unknown as JobRow);
}
