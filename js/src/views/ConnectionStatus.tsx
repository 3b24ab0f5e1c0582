// ConnectionStatus: pings the kernel; Connected while it answers, Disconnected when it stops.

import { useEffect, useState } from "preact/hooks";
import type { ModelLike, SyncClient } from "../sync";

export type Connection = "connecting" | "connected" | "disconnected";

/** The state after `sinceAnswer` ms without an answer (`null`: never answered). */
export function connectionState(sinceAnswer: number | null, sinceStart: number, timeoutMs: number): Connection {
  if (sinceAnswer == null) return sinceStart < timeoutMs ? "connecting" : "disconnected";
  return sinceAnswer < timeoutMs ? "connected" : "disconnected";
}

const LABELS: Record<Connection, string> = {
  connecting: "Connecting...",
  connected: "Connected",
  disconnected: "Disconnected",
};

export function ConnectionStatus({ client, model }: { client: SyncClient<{}>; model: ModelLike }) {
  const interval = Number(model.get("interval_ms")) || 1000;
  const timeout = Number(model.get("timeout_ms")) || 3000;
  const [state, setState] = useState<Connection>("connecting");
  const [latency, setLatency] = useState<number | null>(null);
  useEffect(() => {
    const started = Date.now();
    let answered: number | null = null;
    const check = () => setState(connectionState(answered == null ? null : Date.now() - answered, Date.now() - started, timeout));
    const ping = () => {
      const sent = Date.now();
      client
        .request("ping", {}, timeout)
        .then(() => {
          answered = Date.now();
          setLatency(answered - sent);
          check();
        })
        .catch(() => undefined);
    };
    ping();
    const pinger = setInterval(ping, interval);
    const checker = setInterval(check, 250);
    return () => {
      clearInterval(pinger);
      clearInterval(checker);
    };
  }, [client, interval, timeout]);
  const title =
    state === "connected"
      ? `The kernel answers (round trip ${latency ?? "?"} ms)`
      : state === "disconnected"
        ? `No answer from the kernel for ${timeout / 1000} s: it is stopped, restarting, busy in a blocking cell, or the network is down`
        : "Waiting for the kernel's first answer";
  return (
    <span class={`pw-root pw-conn pw-conn-${state}`} data-state={state} data-ready="true" role="status" aria-live="polite" title={title}>
      <span class="pw-conn-dot" aria-hidden="true" />
      <span>{LABELS[state]}</span>
    </span>
  );
}
