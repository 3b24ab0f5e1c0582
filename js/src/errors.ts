// Plain-language outcomes of a failed request: "Cannot cancel: the kernel is not running".

import type { Link } from "./link";

const ENGINE_CLOSED = "the engine was closed";

/** Why `verb` (cancel, retry, run...) failed, in one sentence a user can act on. */
export function failure(verb: string, error: unknown, link: Link): string {
  const message = error instanceof Error ? error.message : String(error);
  let reason: string;
  if (link.engineClosed || message.startsWith(ENGINE_CLOSED)) {
    reason = "the engine was closed — create a new one and re-run this cell";
  } else if (link.state === "disconnected" || message.includes("kernel is not running")) {
    reason = "the kernel is not running";
  } else if (message.startsWith("no answer from the kernel")) {
    reason = "the kernel did not answer in time (it may be stopped or very busy)";
  } else {
    reason = message;
  }
  return `Cannot ${verb}: ${reason}`;
}
