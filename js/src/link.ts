// Liveness of the kernel as one view sees it: live, busy (running a cell), or disconnected.
//
// Anything the kernel sends (patch, reply, beat) proves it alive. A view that has heard nothing
// for `probeMs` pings; the reply says whether a cell is running. While a cell runs, the kernel's
// engine thread also sends a beat every second, so a busy kernel whose front end cannot deliver
// our pings until the cell ends (older kernels) still reads as busy, never as disconnected.
// Only silence for `timeoutMs` (kernel stopped, restarted, network gone) reads as disconnected.

export type LinkState = "connecting" | "live" | "busy" | "disconnected";

export interface Link {
  state: LinkState;
  /** The kernel answers our requests now (false: they wait until the running cell ends). */
  answers: boolean;
  /** Round trip of the last ping, in ms. */
  latencyMs: number | null;
  /** Why the engine cannot write its store now (changes kept in memory and retried), or null. */
  storeError: string | null;
  /** The kernel said the widget's engine was closed: nothing will change, every action fails. */
  engineClosed: boolean;
}

export interface LinkTiming {
  probeMs: number;
  timeoutMs: number;
}

export const DEFAULT_TIMING: LinkTiming = { probeMs: 2000, timeoutMs: 5000 };

export interface Heard {
  /** Browser time (ms) the view started, and it last heard the kernel (null: never). */
  started: number;
  lastHeard: number | null;
  /** Whether the kernel last said a cell is running. */
  busy: boolean;
  /** Browser time (ms) of the oldest ping still unanswered (null: none). */
  unansweredSince: number | null;
}

/** The link state at browser time `now` (pure). */
export function linkState(heard: Heard, now: number, timing: LinkTiming): LinkState {
  if (heard.lastHeard == null) return now - heard.started < timing.timeoutMs ? "connecting" : "disconnected";
  if (now - heard.lastHeard >= timing.timeoutMs) return "disconnected";
  return heard.busy ? "busy" : "live";
}

/** Whether requests are answered now: no ping has waited longer than the timeout. */
export function answersNow(heard: Heard, now: number, timing: LinkTiming): boolean {
  return heard.unansweredSince == null || now - heard.unansweredSince < timing.timeoutMs;
}

export const LINK_LABELS: Record<LinkState, string> = {
  connecting: "Connecting...",
  live: "Connected",
  busy: "Kernel busy",
  disconnected: "Disconnected",
};

/** Whether the view shows a kernel that acts: clocks tick and buttons work (busy counts). */
export function canAct(link: Link): boolean {
  return !link.engineClosed && link.state !== "disconnected";
}

export const ENGINE_CLOSED_BANNER = "The engine was closed — create a new one and re-run this cell.";

/** One sentence for a tooltip or banner. */
export function linkExplanation(link: Link, timeoutMs: number): string {
  switch (link.state) {
    case "live":
      return `The kernel answers (round trip ${link.latencyMs ?? "?"} ms)`;
    case "busy":
      return link.answers
        ? "The kernel is running a cell; this monitor and its buttons stay live"
        : "The kernel is running a cell; updates flow, and clicks take effect when the cell ends";
    case "disconnected":
      return `No word from the kernel for ${timeoutMs / 1000} s: it stopped or restarted, or the network is down. After a restart, re-run this cell.`;
    default:
      return "Waiting for the kernel's first answer";
  }
}
