// The log viewer's pure parts: level filter, search matches, text for copy and download, and
// fetching a whole log from the kernel in pages.

import { formatDateTime } from "./format";
import type { LogLevel, LogLine } from "./types";

export const LEVELS: LogLevel[] = ["DEBUG", "INFO", "PROGRESS", "WARNING", "ERROR", "SUCCESS"];

/** The lines whose level is shown. */
export function filterLines(lines: LogLine[], hidden: ReadonlySet<LogLevel>): LogLine[] {
  return hidden.size ? lines.filter((line) => !hidden.has(line[2])) : lines;
}

/** Indices (in `lines`) of the lines whose message contains `query` (case-insensitive). */
export function findMatches(lines: LogLine[], query: string): number[] {
  const q = query.toLowerCase();
  if (!q) return [];
  const found: number[] = [];
  lines.forEach((line, i) => {
    if (line[3].toLowerCase().includes(q)) found.push(i);
  });
  return found;
}

/** `text` cut into plain and matching pieces, for highlighting (rendered as text, never HTML). */
export function splitMatches(text: string, query: string): { text: string; match: boolean }[] {
  if (!query) return [{ text, match: false }];
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let from = 0;
  for (let at = lower.indexOf(q); at >= 0; at = lower.indexOf(q, at + q.length)) {
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + q.length), match: true });
    from = at + q.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from), match: false });
  return parts;
}

/** One line of text per log line: `YYYY-MM-DD HH:MM:SS  LEVEL  message`. */
export function logText(lines: LogLine[]): string {
  return lines.map(([, time, level, message]) => `${formatDateTime(time)}  ${level.padEnd(8)} ${message}\n`).join("");
}

/** Lines per request when fetching a whole log (the kernel's `logs` action allows 5,000). */
export const DOWNLOAD_PAGE = 5000;

/**
 * Every line of a job's log, fetched backwards from the end in pages (`page(before, limit)`
 * answers the kernel's `logs` request: the last `limit` lines with seq < `before`, or the
 * newest ones for `before` null). Seqs count from 1 without gaps, so the log is whole when the
 * first line has seq 1 (or a page comes back empty).
 */
export async function fetchWholeLog(page: (before: number | null, limit: number) => Promise<LogLine[]>): Promise<LogLine[]> {
  const pages: LogLine[][] = [];
  let before: number | null = null;
  for (;;) {
    const lines = await page(before, DOWNLOAD_PAGE);
    if (!lines.length) break;
    pages.unshift(lines);
    before = lines[0][0];
    if (before <= 1) break;
  }
  return pages.flat();
}

/** A file name from a label: letters, digits, `._-` only. */
export function logFileName(label: string): string {
  return `${label.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "log"}.log`;
}
