import { describe, expect, it } from "vitest";
import { answersNow, type Heard, linkState } from "../src/link";
import { SyncClient } from "../src/sync";
import { FakeModel } from "./wire";

const TIMING = { probeMs: 1000, timeoutMs: 3000 };

function heard(over: Partial<Heard>): Heard {
  return { started: 0, lastHeard: null, busy: false, unansweredSince: null, ...over };
}

describe("linkState", () => {
  it("is connecting until the first word or the timeout", () => {
    expect(linkState(heard({}), 500, TIMING)).toBe("connecting");
    expect(linkState(heard({}), 3000, TIMING)).toBe("disconnected");
  });
  it("is live while the kernel was heard recently, disconnected after the timeout", () => {
    expect(linkState(heard({ lastHeard: 59_100 }), 60_000, TIMING)).toBe("live");
    expect(linkState(heard({ lastHeard: 57_000 }), 60_000, TIMING)).toBe("disconnected");
  });
  it("a busy kernel that still sends beats is busy, not disconnected", () => {
    expect(linkState(heard({ lastHeard: 59_000, busy: true, unansweredSince: 50_000 }), 60_000, TIMING)).toBe("busy");
    expect(answersNow(heard({ unansweredSince: 50_000 }), 60_000, TIMING)).toBe(false);
    expect(answersNow(heard({ unansweredSince: 59_000 }), 60_000, TIMING)).toBe(true);
  });
});


describe("SyncClient link", () => {
  it("pings when quiet, reads beats as busy, and silence as disconnected", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    client.startLink({ probeMs: 40, timeoutMs: 150 });
    const ping = model.sent.find((m) => m.action === "ping");
    expect(ping).toBeTruthy();
    model.deliver({ kind: "reply", id: ping.id, ok: true, result: { t: 1, busy: false } });
    await new Promise((r) => setTimeout(r, 0));
    expect(client.link.get().state).toBe("live");
    model.deliver({ kind: "beat", busy: true, t: 1 });
    expect(client.link.get().state).toBe("busy");
    // beats keep a busy kernel alive though pings go unanswered
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 60));
      model.deliver({ kind: "beat", busy: true, t: 1 });
    }
    expect(client.link.get().state).toBe("busy");
    await new Promise((r) => setTimeout(r, 500));
    expect(client.link.get().state).toBe("disconnected");
    client.dispose();
  });

  it("a comm that cannot send reads as disconnected at once", async () => {
    const model = new FakeModel();
    model.send = () => {
      throw new Error("Cannot send");
    };
    const client = new SyncClient(model, {});
    client.startLink({ probeMs: 40, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 0));
    expect(client.link.get().state).toBe("disconnected");
    client.dispose();
  });
});

describe("SyncClient and a closed engine", () => {
  it("a ping reply saying closed marks the engine closed for good", async () => {
    const model = new FakeModel();
    const client = new SyncClient(model, {});
    client.startLink({ probeMs: 40, timeoutMs: 5000 });
    const ping = model.sent.find((m) => m.action === "ping");
    model.deliver({ kind: "reply", id: ping.id, ok: true, result: { t: 1, busy: false, closed: true } });
    await new Promise((r) => setTimeout(r, 0));
    expect(client.link.get()).toMatchObject({ state: "live", engineClosed: true });
    model.deliver({ kind: "beat", busy: false, closed: false, t: 1 });
    expect(client.link.get().engineClosed).toBe(true);
    client.dispose();
  });
});
