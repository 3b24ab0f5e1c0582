// Notifications of finished runs and failed jobs, rate-limited so that a burst (a cascade of
// 200 failures) is one notification, and the places they go: the widget's own toast (always),
// JupyterLab's notification centre (through the bridge, where its labextension is installed),
// the desktop (opt-in).

import { sendRequest } from "./bridge";

/** Something worth telling the user about. */
export interface AlertEvent {
  kind: "failed" | "run";
  /** One line: "T1/M0 Fitting failed for sub-01", or a run's summary. */
  text: string;
  /** A run that ended with nothing failed or cancelled. */
  ok: boolean;
  /** Failures this one stands for (1 if not given): a patch names only the first few. */
  jobs?: number;
}

/** One notification: what it says and whether it is bad news. */
export interface Alert {
  text: string;
  tone: "ok" | "error";
}

/** How many failures a summary names before "and N more". */
const NAMED = 2;

/** One notification for `events`: the event itself, or a summary of many. */
export function summarize(events: AlertEvent[]): Alert {
  const tone = events.every((e) => e.ok) ? "ok" : "error";
  if (events.length === 1 && (events[0].jobs ?? 1) === 1) return { text: events[0].text, tone };
  const runs = events.filter((e) => e.kind === "run");
  const failed = events.filter((e) => e.kind === "failed");
  const parts: string[] = [];
  if (runs.length === 1) parts.push(runs[0].text);
  else if (runs.length > 1) parts.push(`${runs.length} runs finished (${runs.filter((r) => !r.ok).length} with failures)`);
  if (failed.length) {
    const total = failed.reduce((n, e) => n + (e.jobs ?? 1), 0);
    const named = failed.slice(0, NAMED).map((e) => e.text);
    const more = total - named.length;
    parts.push(`${total} job${total === 1 ? "" : "s"} failed: ${named.join("; ")}${more ? ` and ${more} more` : ""}`);
  }
  return { text: parts.join(" · "), tone };
}

/**
 * At most one notification per `windowMs`: the first events go out at once, the ones that come
 * while the window is open wait for its end and go out as one summary.
 */
export class RateLimiter {
  private last = Number.NEGATIVE_INFINITY;
  private pending: AlertEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private emit: (alert: Alert) => void,
    private windowMs = 5000,
  ) {}

  push(events: AlertEvent[]): void {
    if (!events.length) return;
    this.pending.push(...events);
    const wait = this.last + this.windowMs - Date.now();
    if (wait <= 0) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.pending.length) return;
    const events = this.pending;
    this.pending = [];
    this.last = Date.now();
    this.emit(summarize(events));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.pending = [];
  }
}

/**
 * Whether a notification centre takes this page's notifications: JupyterLab's (or Notebook 7's),
 * reached through the bridge event that pbrain-widgets' own labextension listens for. A widget's
 * code is not a JupyterLab extension and cannot reach the app itself (see `bridge.ts`).
 */
export function labNotificationsReachable(): boolean {
  return sendRequest({ kind: "probe" });
}

/** Post the alert to the notification centre; false where none took it (VS Code, Colab, a
 * JupyterLab without the labextension): the widget's toast and the desktop opt-in remain. */
export function notifyLab(alert: Alert): boolean {
  return sendRequest({ kind: "notify", tone: alert.tone, text: alert.text });
}

/** Where the browser's desktop notifications stand: unsupported, or its permission. */
export function desktopPermission(): NotificationPermission | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

/** Show the alert as a desktop notification, if the user allowed them. */
export function notifyDesktop(alert: Alert): void {
  if (desktopPermission() !== "granted") return;
  try {
    new Notification("pbrain-widgets", { body: alert.text, tag: "pbrain-widgets" });
  } catch {
    // some browsers allow notifications only from a service worker: nothing more to do
  }
}

const DESKTOP_KEY = "pbrain-widgets:desktop-notifications";

/** The user's opt-in to desktop notifications, kept in this browser. */
export function desktopOptIn(): boolean {
  try {
    return localStorage.getItem(DESKTOP_KEY) === "on" && desktopPermission() === "granted";
  } catch {
    return false;
  }
}

export function setDesktopOptIn(on: boolean): void {
  try {
    if (on) localStorage.setItem(DESKTOP_KEY, "on");
    else localStorage.removeItem(DESKTOP_KEY);
  } catch {
    // storage disabled: the choice lasts as long as the view
  }
}
