// Small inline SVG icons (drawn with elements, never from markup strings).

import type { JobStatus, StageStatus } from "../types";

interface IconProps {
  name: "check" | "x" | "clock" | "spinner" | "ban" | "pause" | "dot" | "chevron" | "play" | "retry";
  label?: string;
  className?: string;
}

export function Icon({ name, label, className }: IconProps) {
  return (
    <svg
      class={`pw-icon pw-icon-${name} ${className ?? ""}`}
      viewBox="0 0 16 16"
      width="14"
      height="14"
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : "true"}
    >
      {label ? <title>{label}</title> : null}
      {name === "check" && <path d="M3 8.5l3 3 7-7" />}
      {name === "x" && <path d="M4 4l8 8M12 4l-8 8" />}
      {name === "clock" && (
        <>
          <circle cx="8" cy="8" r="6" />
          <path d="M8 4.5V8l2.5 1.5" />
        </>
      )}
      {name === "spinner" && <path d="M8 2a6 6 0 1 1-6 6" />}
      {name === "ban" && (
        <>
          <circle cx="8" cy="8" r="6" />
          <path d="M4 12l8-8" />
        </>
      )}
      {name === "pause" && <path d="M6 4v8M10 4v8" />}
      {name === "dot" && <circle cx="8" cy="8" r="3" />}
      {name === "chevron" && <path d="M6 4l4 4-4 4" />}
      {name === "play" && <path d="M5 3.5v9l7-4.5z" />}
      {name === "retry" && <path d="M3 8a5 5 0 1 0 1.5-3.5M3 2.5v3h3" />}
    </svg>
  );
}

const JOB_ICONS: Record<JobStatus, IconProps["name"]> = {
  queued: "clock",
  running: "spinner",
  completed: "check",
  failed: "x",
  cancelled: "ban",
};

export function JobStatusIcon({ status }: { status: JobStatus }) {
  return <Icon name={JOB_ICONS[status]} label={status} className={`pw-fg-${status}`} />;
}

export const STAGE_ICONS: Record<StageStatus, IconProps["name"]> = {
  not_run: "dot",
  queued: "clock",
  running: "spinner",
  done: "check",
  failed: "x",
  waiting: "pause",
  stale: "retry",
};

export const STAGE_LABELS: Record<StageStatus, string> = {
  not_run: "not run",
  queued: "queued",
  running: "running",
  done: "done",
  failed: "failed",
  waiting: "waiting for user action",
  stale: "stale: an input re-ran",
};

/** A stage's status mark: a running stage gets an animated ring. */
export function StatusMark({ status, label }: { status: StageStatus; label: string }) {
  return (
    <span class={`pw-mark pw-mark-${status}`} title={label}>
      <Icon name={STAGE_ICONS[status]} label={label} />
    </span>
  );
}

/** A reviewer's QC rating beside a status mark: a letter (P / F) in a box, never colour alone. */
export function QcMark({ rating }: { rating: "pass" | "fail" }) {
  return (
    <span class={`pw-qc-mark pw-qc-${rating}`} aria-hidden="true" title={`QC: ${rating}`}>
      {rating === "pass" ? "P" : "F"}
    </span>
  );
}
