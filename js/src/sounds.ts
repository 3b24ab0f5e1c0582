// Short tones when jobs complete or fail (JobMonitor's opt-in `sounds`).

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
