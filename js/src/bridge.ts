// The bridge between a widget and pbrain-widgets' JupyterLab plugin (`lab/plugin.ts`, shipped as
// the prebuilt labextension `pbrain-widgets-notify`). A widget's code is not a JupyterLab
// extension and cannot reach the app; the plugin listens on `document` for one CustomEvent and
// posts what it carries to JupyterLab's notification centre. The event is cancelable: the plugin
// cancels it when it took it, so `dispatchEvent` tells the widget whether Lab was reached.
// Everything that crosses is checked here, on both sides: a known kind, a known tone, text only.

/** The event's name (namespaced: no other code on the page uses it). */
export const NOTIFY_EVENT = "pbrain-widgets:notify";

/** The longest text that goes to the notification centre (the widget's own toast has it all). */
export const MAX_TEXT = 300;

/** What a widget asks: post a notification, or only whether the plugin is there. */
export type BridgeRequest = { kind: "notify"; tone: "ok" | "error"; text: string } | { kind: "probe" };

// control characters other than the space: a notification is one line of plain text
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of text, at most `MAX_TEXT` characters (cut with "…"). */
export function cleanText(text: string): string {
  const line = text.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}

/** The request an event's `detail` carries, or null if it is not one (unknown kind or tone,
 * text that is not a non-empty string). Only the fields read here go on. */
export function readRequest(detail: unknown): BridgeRequest | null {
  if (typeof detail !== "object" || detail === null) return null;
  const { kind, tone, text } = detail as Record<string, unknown>;
  if (kind === "probe") return { kind };
  if (kind !== "notify" || (tone !== "ok" && tone !== "error") || typeof text !== "string") return null;
  const clean = cleanText(text);
  return clean ? { kind, tone, text: clean } : null;
}

/** Send a request over the bridge; true when the plugin took it. */
export function sendRequest(request: BridgeRequest, target: EventTarget | undefined = globalThis.document): boolean {
  if (!target || typeof CustomEvent === "undefined") return false;
  const event = new CustomEvent(NOTIFY_EVENT, { detail: request, bubbles: true, composed: true, cancelable: true });
  return !target.dispatchEvent(event);
}
