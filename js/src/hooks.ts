// Preact hooks over the sync layer: state subscription, a ticking clock, log watching.

import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { canAct } from "./link";
import { fromTail, prependLines, type LogsState } from "./state/logs";
import type { Store } from "./store";
import type { Reducers, SyncClient } from "./sync";
import type { LogLine } from "./types";

/**
 * The store's value, re-rendering on every change. The subscription starts after the first paint
 * (an effect): a value set in between (a snapshot reply that came first) is noticed then, or the
 * view would draw the old value until the next change, which for a finished engine never comes.
 */
export function useStore<S>(store: Store<S>): S {
  const [, force] = useState(0);
  const value = store.get();
  const drawn = useRef(value);
  drawn.current = value;
  useEffect(() => {
    const unsubscribe = store.subscribe(() => force((n) => n + 1));
    if (store.get() !== drawn.current) force((n) => n + 1);
    return unsubscribe;
  }, [store]);
  return value;
}

/**
 * The current time in seconds, re-rendering every `ms` (for live durations). While `ticking` is
 * false (kernel gone, engine closed) the clock stands still, and so do the durations drawn with it.
 */
export function useNow(ms = 1000, ticking = true): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    if (!ticking) return undefined;
    setNow(Date.now() / 1000);
    const timer = setInterval(() => setNow(Date.now() / 1000), ms);
    return () => clearInterval(timer);
  }, [ms, ticking]);
  return now;
}

/**
 * A length in px that the stylesheet gives `ref`'s element as the custom property `name` (e.g. a
 * row height that a container query changes), read again whenever the element's size changes;
 * `fallback` where no stylesheet or ResizeObserver is (a test DOM). `ready`: the element exists.
 */
export function useCssPixels(ref: RefObject<HTMLElement | null>, name: string, fallback: number, ready: boolean): number {
  const [value, setValue] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const read = () => {
      const px = Number.parseFloat(getComputedStyle(el).getPropertyValue(name));
      setValue(px > 0 ? px : fallback);
    };
    read();
    if (typeof ResizeObserver === "undefined") return undefined;
    const observer = new ResizeObserver(read);
    observer.observe(el);
    return () => observer.disconnect();
  }, [ready, name, fallback]);
  return value;
}

/** Whether this view's kernel acts now: its clocks tick and its buttons work (see link.ts). */
export function useCanAct(client: SyncClient<any>): boolean {
  return canAct(useStore(client.link));
}

/** Re-send a watch this often, so that the kernel's lease (30 s) does not lapse. */
export const WATCH_RENEW_MS = 10000;
export const PAGE_LINES = 500;

type WithLogs = Reducers & { logs: any };

/**
 * Watch the log lines of `jobIds` through the view's `logs` feed: the reply brings each new
 * job's tail, patches bring new lines, and the watch is renewed while the view shows it.
 */
export function useWatch<R extends WithLogs>(client: SyncClient<R>, jobIds: string[], ready: boolean): void {
  const key = jobIds.join(",");
  useEffect(() => {
    if (!ready) return;
    const ids = key ? key.split(",") : [];
    const send = () =>
      client
        .request("watch", { view: client.viewId, job_ids: ids })
        .then((result: { tails: Record<string, LogLine[]> }) =>
          client.local((parts) => {
            const logs: LogsState = {};
            for (const id of ids) {
              const tail = result.tails[id];
              const known = (parts.logs as LogsState)[id];
              if (tail) logs[id] = fromTail(tail);
              else if (known) logs[id] = known;
            }
            return { ...parts, logs };
          }),
        )
        .catch(() => undefined);
    send();
    const timer = ids.length ? setInterval(send, WATCH_RENEW_MS) : undefined;
    return () => clearInterval(timer);
  }, [client, key, ready]);
  // Stop watching when the view goes away (a reload skips this; the lease then lapses).
  const last = useRef(client);
  useEffect(
    () => () => {
      last.current.request("watch", { view: last.current.viewId, job_ids: [] }).catch(() => undefined);
    },
    [],
  );
}

/** Loaders for a log window: older lines above, or the live tail again after detaching. */
export function logLoaders<R extends WithLogs>(client: SyncClient<R>, jobId: string) {
  const put = (fn: (logs: LogsState) => LogsState) =>
    client.local((parts) => ({ ...parts, logs: fn(parts.logs as LogsState) }));
  return {
    older(before: number): Promise<void> {
      return client.request("logs", { job_id: jobId, before, limit: PAGE_LINES }).then((r: { lines: LogLine[] }) =>
        put((logs) => (logs[jobId] ? { ...logs, [jobId]: prependLines(logs[jobId], r.lines) } : logs)),
      );
    },
    page(before: number | null, limit: number): Promise<LogLine[]> {
      return client.request("logs", { job_id: jobId, before, limit }).then((r: { lines: LogLine[] }) => r.lines);
    },
    tail(): Promise<void> {
      return client.request("logs", { job_id: jobId, before: null, limit: 1000 }).then((r: { lines: LogLine[] }) =>
        put((logs) => ({ ...logs, [jobId]: fromTail(r.lines) })),
      );
    },
  };
}

/** `value`, once it has stayed the same for `ms` (what a user types, sent when they pause). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
