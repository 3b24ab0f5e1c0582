import { formatPercent } from "../format";

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.min(100, Math.max(0, value));
  return (
    <div
      class="pw-bar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-valuetext={formatPercent(pct)}
    >
      <div class="pw-bar-fill" style={{ transform: `scaleX(${pct / 100})` }} />
    </div>
  );
}

/** A ring that fills with `done / total`, with the count in its middle. */
export function ProgressRing({ done, total, size = 44 }: { done: number; total: number; size?: number }) {
  const r = size / 2 - 4;
  const circumference = 2 * Math.PI * r;
  const fraction = total ? done / total : 0;
  return (
    <svg
      class="pw-ring"
      width={size}
      height={size}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={`${done} of ${total} stages done`}
    >
      <circle class="pw-ring-track" cx={size / 2} cy={size / 2} r={r} />
      <circle
        class="pw-ring-fill"
        cx={size / 2}
        cy={size / 2}
        r={r}
        stroke-dasharray={`${circumference * fraction} ${circumference}`}
        transform={`rotate(-90 ${size / 2} ${size / 2})`}
      />
      <text x="50%" y="50%" dominant-baseline="central" text-anchor="middle">
        {`${done}/${total}`}
      </text>
    </svg>
  );
}
