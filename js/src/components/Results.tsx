// The results of one stage's job: the tool's QC verdict, a reviewer's rating, pictures (figures,
// map montages, curves) as lazy thumbnails, tables, values and files. Asked for only when the
// stage is opened; every string is drawn as text.

import { useEffect, useState } from "preact/hooks";
import { failure } from "../errors";
import { useStore } from "../hooks";
import { type QcState, ratingOf } from "../state/qc";
import type { SyncClient } from "../sync";
import { Badge } from "./Badge";
import { Picture, PictureDialog } from "./Picture";

export interface OutputRow {
  index: number;
  kind: "image" | "map" | "table" | "curve" | "file" | "value" | "qc";
  label: string;
  group: string | null;
  unit: string | null;
  value: string | number | boolean | null;
  file: string | null;
  exists: boolean;
}

interface TableData {
  columns: string[];
  rows: string[][];
  truncated: boolean;
}

/** Thumbnails shown before "Show all". */
export const FIRST_PICTURES = 8;
const PICTURE_KINDS = new Set(["image", "map", "curve"]);
const VERDICT_TONES: Record<string, string> = { pass: "completed", warn: "waiting", fail: "failed" };

export function formatValue(value: OutputRow["value"], unit: string | null): string {
  const text = typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toPrecision(4)) : String(value);
  return unit ? `${text} ${unit}` : text;
}

/** Pictures first by kind (maps, then figures, then curves), keeping the reported order within. */
export function picturesOf(outputs: OutputRow[]): OutputRow[] {
  const rank = { map: 0, curve: 1, image: 2 } as Record<string, number>;
  return outputs.filter((o) => PICTURE_KINDS.has(o.kind) && o.exists).sort((a, b) => rank[a.kind] - rank[b.kind] || a.index - b.index);
}

function Table({ client, jobId, output }: { client: SyncClient<any>; jobId: string; output: OutputRow }) {
  const [data, setData] = useState<TableData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const link = useStore(client.link);
  useEffect(() => {
    client.request("table", { job_id: jobId, index: output.index }).then(setData, (e: Error) => setError(failure("show the table", e, link)));
  }, [jobId, output.index]);
  if (error) return <p class="pw-error-text">{error}</p>;
  if (!data) return <p class="pw-muted pw-small">Reading...</p>;
  return (
    <div class="pw-table-wrap">
      <table class="pw-table" aria-label={output.label}>
        <thead>
          <tr>
            {data.columns.map((c, i) => (
              <th key={i} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {data.truncated && <p class="pw-muted pw-small">{`First ${data.rows.length} rows shown`}</p>}
    </div>
  );
}

interface Props {
  client: SyncClient<any>;
  jobId: string;
  subjectId: string;
  stageId: string;
  stageLabel: string;
  qc: QcState;
  live: boolean;
}

export function StageResults({ client, jobId, subjectId, stageId, stageLabel, qc, live }: Props) {
  const link = useStore(client.link);
  const [outputs, setOutputs] = useState<OutputRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  const [open, setOpen] = useState<OutputRow | null>(null);
  const [table, setTable] = useState<number | null>(null);
  useEffect(() => {
    setOutputs(null);
    setAll(false);
    setTable(null);
    client.request("outputs", { job_id: jobId }).then(
      (r: { outputs: OutputRow[] }) => setOutputs(r.outputs),
      (e: Error) => setError(failure("show the results", e, link)),
    );
  }, [jobId]);
  const rating = ratingOf(qc, subjectId, stageId);
  const rate = (value: "pass" | "fail" | null) =>
    client.request("set_qc", { subject_id: subjectId, stage_id: stageId, rating: value, note: rating?.note || null }).catch((e: Error) => setError(failure("rate", e, link)));
  if (error) return <p class="pw-error-text">{error}</p>;
  if (!outputs) return <p class="pw-muted pw-small">Reading results...</p>;
  const verdicts = outputs.filter((o) => o.kind === "qc");
  const main = verdicts.find((o) => o.label === "p-brain QC") ?? verdicts[0];
  const pictures = picturesOf(outputs);
  const shown = all ? pictures : pictures.slice(0, FIRST_PICTURES);
  const tables = outputs.filter((o) => o.kind === "table" && o.exists);
  const values = outputs.filter((o) => o.kind === "value" || (o.kind === "qc" && o !== main));
  const files = outputs.filter((o) => o.kind === "file");
  return (
    <section class="pw-results" aria-label={`Results of ${stageLabel}`}>
      <header class="pw-header">
        <span class="pw-strong">Results</span>
        {main && (
          <Badge tone={VERDICT_TONES[String(main.value)] ?? "off"} title={`${main.label}: ${String(main.value)}`}>
            {`${main.label}: ${String(main.value)}`}
          </Badge>
        )}
        <span class="pw-spacer" />
        <span class="pw-muted pw-small">Your QC</span>
        <div role="group" aria-label={`QC rating of ${stageLabel}`} class="pw-rate">
          <button type="button" class="pw-btn pw-btn-small" aria-pressed={rating?.rating === "pass"} disabled={!live} onClick={() => rate(rating?.rating === "pass" ? null : "pass")}>
            Pass
          </button>
          <button type="button" class="pw-btn pw-btn-small" aria-pressed={rating?.rating === "fail"} disabled={!live} onClick={() => rate(rating?.rating === "fail" ? null : "fail")}>
            Fail
          </button>
        </div>
      </header>
      {outputs.length === 0 && <p class="pw-empty">This job reported no outputs</p>}
      {pictures.length > 0 && (
        <>
          <div class="pw-thumbs" role="list" aria-label="Pictures">
            {shown.map((o) => (
              <div role="listitem" key={o.index} data-output-kind={o.kind}>
                <Picture client={client} jobId={jobId} index={o.index} label={o.label + (o.unit ? ` (${o.unit})` : "")} onOpen={() => setOpen(o)} />
              </div>
            ))}
          </div>
          {pictures.length > shown.length && (
            <button type="button" class="pw-btn pw-btn-small" onClick={() => setAll(true)}>
              {`Show all ${pictures.length} pictures`}
            </button>
          )}
        </>
      )}
      {tables.length > 0 && (
        <div class="pw-result-tables">
          <div role="group" aria-label="Tables" class="pw-table-choices">
            {tables.map((o) => (
              <button type="button" key={o.index} class="pw-btn pw-btn-small" aria-pressed={table === o.index} onClick={() => setTable(table === o.index ? null : o.index)}>
                {o.label}
              </button>
            ))}
          </div>
          {table !== null && <Table client={client} jobId={jobId} output={outputs[table]} />}
        </div>
      )}
      {values.length > 0 && (
        <dl class="pw-values">
          {values.map((o) => (
            <div key={o.index}>
              <dt title={o.label}>{o.label}</dt>
              <dd>{formatValue(o.value, o.unit)}</dd>
            </div>
          ))}
        </dl>
      )}
      {files.length > 0 && (
        <details class="pw-files">
          <summary class="pw-small">{`${files.length} other files`}</summary>
          <ul>
            {files.map((o) => (
              <li key={o.index}>
                <code>{o.file ?? o.label}</code>
                {!o.exists && <span class="pw-muted pw-small"> (missing)</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
      {open && <PictureDialog client={client} jobId={jobId} index={open.index} label={open.label} onClose={() => setOpen(null)} />}
    </section>
  );
}

interface FidelityRow {
  tissue: string;
  quantity: string;
  model: string;
  unit: string;
  true: number;
  fitted: number | null;
  relative_error: number | null;
  note: string;
}

/** Three significant digits, without an exponent or trailing zeros (1330, 0.5, 0.167). */
export function shortNumber(v: number | null): string {
  if (v === null) return "—";
  return Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/**
 * For a phantom subject: p-brain's fitted values per tissue beside the phantom's truth, asked
 * again whenever `done` (how many of its stages are done) changes.
 */
export function Fidelity({ client, subjectId, done }: { client: SyncClient<any>; subjectId: string; done: number }) {
  const link = useStore(client.link);
  const [rows, setRows] = useState<FidelityRow[] | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const load = () => client.request("fidelity", { subject_id: subjectId }).then((r: { rows: FidelityRow[] } | null) => setRows(r ? r.rows : null), (e: Error) => setError(failure("compare", e, link)));
  useEffect(() => {
    load();
  }, [subjectId, done]);
  if (error) return <p class="pw-error-text">{error}</p>;
  if (!rows) return null; // not a phantom (or still reading)
  const notes = [...new Set(rows.map((r) => r.note).filter(Boolean))];
  return (
    <section class="pw-fidelity" aria-label="Fidelity against the phantom's truth">
      <header class="pw-header">
        <span class="pw-strong">Phantom truth vs fitted</span>
        <span class="pw-spacer" />
        <button type="button" class="pw-btn pw-btn-small" onClick={load}>
          Refresh
        </button>
      </header>
      <div class="pw-table-wrap">
        <table class="pw-table" aria-label="Phantom fidelity">
          <thead>
            <tr>
              {["Tissue", "Quantity", "Model", "Unit", "True", "Fitted", "Rel. error"].map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>{r.tissue}</td>
                <td>{r.quantity + (r.note ? " *" : "")}</td>
                <td>{r.model || "—"}</td>
                <td>{r.unit}</td>
                <td>{shortNumber(r.true)}</td>
                <td>{shortNumber(r.fitted)}</td>
                <td>{r.relative_error === null ? "—" : `${(r.relative_error * 100).toFixed(0)} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {notes.map((n) => (
        <p class="pw-muted pw-small" key={n}>{`* ${n}`}</p>
      ))}
    </section>
  );
}
