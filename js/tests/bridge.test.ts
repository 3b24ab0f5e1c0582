// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import { cleanText, MAX_TEXT, NOTIFY_EVENT, readRequest, sendRequest } from "../src/bridge";
import { LAB_NOTIFY, type LabApp, listen } from "../src/lab/plugin";
import { labNotificationsReachable, notifyLab } from "../src/notify";

/** A JupyterLab command registry that records what ran (with or without the notify command). */
function recordingApp(hasNotify = true): LabApp & { ran: [string, Record<string, unknown> | undefined][] } {
  const ran: [string, Record<string, unknown> | undefined][] = [];
  return {
    ran,
    commands: {
      hasCommand: (id) => hasNotify && id === LAB_NOTIFY,
      execute: async (id, args) => {
        ran.push([id, args]);
      },
    },
  };
}

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

describe("the bridge event", () => {
  it("is a cancelable, bubbling CustomEvent on document carrying the request", () => {
    const seen: CustomEvent[] = [];
    const record = (e: Event) => seen.push(e as CustomEvent);
    document.addEventListener(NOTIFY_EVENT, record);
    stops.push(() => document.removeEventListener(NOTIFY_EVENT, record));
    expect(notifyLab({ tone: "error", text: "T1/M0 Fitting failed for sub-01" })).toBe(false);
    expect(seen).toHaveLength(1);
    const [event] = seen;
    expect(event.type).toBe("pbrain-widgets:notify");
    expect(event.cancelable).toBe(true);
    expect(event.bubbles).toBe(true);
    expect(event.detail).toEqual({ kind: "notify", tone: "error", text: "T1/M0 Fitting failed for sub-01" });
  });

  it("tells the widget nobody took it when no listener calls preventDefault (VS Code, no labextension)", () => {
    const ignore = () => undefined;
    document.addEventListener(NOTIFY_EVENT, ignore);
    stops.push(() => document.removeEventListener(NOTIFY_EVENT, ignore));
    expect(labNotificationsReachable()).toBe(false);
    expect(notifyLab({ tone: "ok", text: "Run finished" })).toBe(false);
    expect(sendRequest({ kind: "probe" }, undefined)).toBe(false);
  });
});

describe("readRequest", () => {
  it("takes a probe and a notify with a known tone, keeping only the fields it reads", () => {
    expect(readRequest({ kind: "probe", text: "ignored" })).toEqual({ kind: "probe" });
    expect(readRequest({ kind: "notify", tone: "ok", text: "done", html: "<b>x</b>" })).toEqual({ kind: "notify", tone: "ok", text: "done" });
  });

  it.each([
    ["not an object", "notify"],
    ["null", null],
    ["an unknown kind", { kind: "exec", tone: "ok", text: "x" }],
    ["an unknown tone", { kind: "notify", tone: "warning", text: "x" }],
    ["text that is not a string", { kind: "notify", tone: "ok", text: 42 }],
    ["blank text", { kind: "notify", tone: "ok", text: " \n\t " }],
  ])("refuses %s", (_what, detail) => {
    expect(readRequest(detail)).toBeNull();
  });

  it("makes one line of at most MAX_TEXT characters", () => {
    expect(cleanText("a\nb\u0000c\u2028d   e")).toBe("a b c d e");
    const long = cleanText("x".repeat(1000));
    expect(long).toHaveLength(MAX_TEXT);
    expect(long.endsWith("…")).toBe(true);
    expect(cleanText("y".repeat(MAX_TEXT))).toBe("y".repeat(MAX_TEXT));
  });
});

describe("the JupyterLab plugin's listener", () => {
  it("posts a request to the notification centre and tells the widget it took it", async () => {
    const app = recordingApp();
    stops.push(listen(app));
    expect(labNotificationsReachable()).toBe(true);
    expect(notifyLab({ tone: "error", text: "40 jobs failed:\nImport" })).toBe(true);
    expect(notifyLab({ tone: "ok", text: "Run finished" })).toBe(true);
    expect(app.ran).toEqual([
      [LAB_NOTIFY, { message: "pbrain: 40 jobs failed: Import", type: "error", options: { autoClose: false } }],
      [LAB_NOTIFY, { message: "pbrain: Run finished", type: "success", options: { autoClose: 6000 } }],
    ]);
  });

  it("leaves the event alone without the notify command or with a bad request", () => {
    const bare = recordingApp(false);
    const stop = listen(bare);
    expect(notifyLab({ tone: "ok", text: "Run finished" })).toBe(false);
    expect(labNotificationsReachable()).toBe(false);
    stop();
    const app = recordingApp();
    stops.push(listen(app));
    const event = new CustomEvent(NOTIFY_EVENT, { detail: { kind: "notify", tone: "ok", text: 7 }, cancelable: true });
    expect(document.dispatchEvent(event)).toBe(true);
    expect(bare.ran).toEqual([]);
    expect(app.ran).toEqual([]);
  });
});
