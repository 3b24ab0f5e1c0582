// Short tones when jobs complete or fail (JobMonitor's opt-in `sounds`).

import type { JobStatus } from "./types";

/** The statuses that newly ended between two states of the job list (not on first sight). */
export function newlyEnded(
  before: ReadonlyMap<string, JobStatus>,
  after: Iterable<[string, JobStatus]>,
): { completed: number; failed: number } {
  let completed = 0;
  let failed = 0;
  for (const [id, status] of after) {
    const was = before.get(id);
    if (was === undefined || was === status) continue;
    if (status === "completed") completed += 1;
    else if (status === "failed") failed += 1;
  }
  return { completed, failed };
}

let context: AudioContext | null = null;

/** A soft 120 ms tone: high for a completion, low for a failure. Silent where audio is unavailable. */
export function chime(kind: "completed" | "failed"): void {
  try {
    context ??= new AudioContext();
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = kind === "completed" ? 880 : 220;
    gain.gain.setValueAtTime(0.05, context.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 0.12);
    osc.connect(gain).connect(context.destination);
    osc.start();
    osc.stop(context.currentTime + 0.12);
  } catch {
    // no audio output (or blocked until the user interacts with the page): stay silent
  }
}
