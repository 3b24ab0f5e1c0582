// Human-readable durations, ETAs, sizes and times.

/** `0.2 s`, `5 s`, `3 min 05 s`, `2 h 04 min`: rounded down, never negative. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  const exact = Math.max(0, seconds);
  if (exact < 10) return `${(Math.floor(exact * 10) / 10).toFixed(1)} s`;
  const s = Math.floor(exact);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/** The time left as a number (`~12 s`, rounded up to whole seconds), or nothing when unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "";
  const whole = Math.max(1, Math.ceil(seconds));
  return `~${whole < 60 ? `${whole} s` : formatDuration(whole)}`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return "";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local wall-clock time `HH:MM:SS` of a POSIX time in seconds. */
export function formatClock(t: number | null | undefined): string {
  if (t == null || !Number.isFinite(t)) return "";
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local `YYYY-MM-DD HH:MM:SS`. */
export function formatDateTime(t: number | null | undefined): string {
  if (t == null || !Number.isFinite(t)) return "";
  const d = new Date(t * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(t)}`;
}

export function formatPercent(p: number | null | undefined): string {
  if (p == null || !Number.isFinite(p)) return "";
  return `${Math.round(Math.min(100, Math.max(0, p)))}%`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Seconds a job has run: until its end, or until `now` (kernel time) while it runs. */
export function jobDuration(start: number | null, end: number | null, now: number): number | null {
  if (start == null) return null;
  return Math.max(0, (end ?? now) - start);
}
