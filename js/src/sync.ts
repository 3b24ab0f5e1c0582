// The view side of the sync protocol (rules: pbrain_widgets/widgets/sync.py docstring; every
// message and action typed in protocol.ts, generated from pbrain_widgets/widgets/protocol.py).
//
// `Revisions` is the pure part: it turns a snapshot and numbered patches into state, buffering
// patches until the snapshot is in, dropping the ones it already covers and spotting gaps.
// `SyncClient` is the transport: requests with per-view ids, replies, patches, resync on gaps.
// Replies and beats come on the widget's own comm; patches on its engine's channel (one comm
// shared by every widget of the engine: pbrain_widgets/widgets/channel.py), whose model the
// client finds through the widget manager and from which it reads its own key's entries.

import { answersNow, DEFAULT_TIMING, type Heard, type Link, type LinkTiming, linkState } from "./link";
import type { ActionName, Actions, KernelMessage, Patch, Patches } from "./protocol";
import { Store } from "./store";

export type Parts = Record<string, unknown>;

/** How one feed's state is built from its snapshot and updated by its patches (pure); `Snap`
 * and `P` are the feed's types in protocol.ts (`Feeds[name]`). A snapshot may be missing (a
 * feed the widget does not have), hence `undefined`. */
export interface PartReducer<S, Snap = any, P = any> {
  init(snapshot: Snap | undefined, previous: S | undefined): S;
  patch(state: S, patch: P): S;
}

export type Reducers = Record<string, PartReducer<any>>;
export type StateOf<R extends Reducers> = { [K in keyof R]: R[K] extends PartReducer<infer S, any, any> ? S : never };

export interface ViewState<R extends Reducers> {
  ready: boolean;
  rev: number;
  /** Kernel clock minus browser clock, in seconds. */
  clockOffset: number;
  parts: StateOf<R>;
}

export type PatchResult = "applied" | "buffered" | "stale" | "gap";

/** One widget's patch with the kernel time of the channel message that carried it. */
export type TimedPatch = Patch & { t: number };

export class Revisions<R extends Reducers> {
  private buffer: TimedPatch[] = [];
  state: ViewState<R>;

  constructor(private reducers: R) {
    this.state = { ready: false, rev: 0, clockOffset: 0, parts: {} as StateOf<R> };
  }

  /** A snapshot at revision `rev` (replaces everything); returns false on a gap in the buffer. */
  snapshot(rev: number, t: number, parts: Parts, now = Date.now() / 1000): boolean {
    const next = {} as Record<string, unknown>;
    const previous = this.state.parts as Record<string, unknown>;
    for (const [name, reducer] of Object.entries(this.reducers)) {
      next[name] = reducer.init(parts[name], previous[name]);
    }
    this.state = { ready: true, rev, clockOffset: t - now, parts: next as StateOf<R> };
    const buffered = this.buffer.sort((a, b) => a.rev - b.rev);
    this.buffer = [];
    for (const patch of buffered) {
      if (this.patch(patch, now) === "gap") return false;
    }
    return true;
  }

  patch(patch: TimedPatch, now = Date.now() / 1000): PatchResult {
    if (!this.state.ready) {
      this.buffer.push(patch);
      return "buffered";
    }
    if (patch.rev <= this.state.rev) return "stale";
    if (patch.rev > this.state.rev + 1) {
      this.state = { ...this.state, ready: false };
      this.buffer = [patch];
      return "gap";
    }
    const parts = { ...(this.state.parts as Record<string, unknown>) };
    for (const [name, value] of Object.entries(patch.parts)) {
      const reducer = this.reducers[name];
      if (reducer && name in parts) parts[name] = reducer.patch(parts[name], value);
    }
    this.state = { ready: true, rev: patch.rev, clockOffset: patch.t - now, parts: parts as StateOf<R> };
    return "applied";
  }

  /** Change the state outside the patch stream (replies to this view's own requests). */
  local(fn: (parts: StateOf<R>) => StateOf<R>): void {
    if (this.state.ready) this.state = { ...this.state, parts: fn(this.state.parts) };
  }
}

/** The part of an anywidget model the client uses. */
export interface ModelLike {
  get(name: string): any;
  send(content: unknown): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event: string, callback: (...args: any[]) => void): void;
  /** The page's widget manager (anywidget passes ipywidgets'): it has the engine channel's model. */
  widget_manager?: { get_model(modelId: string): Promise<ModelLike> };
}

interface Pending {
  resolve: (value: any) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Resolve with `{ result, buffers }` (a reply that carries binary buffers, e.g. a picture). */
  binary?: boolean;
}

/** A reply with binary buffers: its result describes them. */
export interface BinaryReply<T = unknown> {
  result: T;
  buffers: DataView[];
}

export class RequestError extends Error {}

function randomPrefix(): string {
  return Math.random().toString(36).slice(2, 10).padEnd(8, "0");
}

/** How long a view waits for its snapshot before asking again, and the pause before it does. */
export const SNAPSHOT_TIMEOUT_MS = 5000;
export const SNAPSHOT_RETRY_MS = 1000;

/** How often a view re-evaluates its link to the kernel. */
export const LINK_CHECK_MS = 250;

/** The pause before a view looks for its engine channel's model again (not registered yet). */
export const CHANNEL_RETRY_MS = 200;

export class SyncClient<R extends Reducers> {
  readonly viewId = randomPrefix();
  readonly store: Store<ViewState<R>>;
  /** Live, busy or disconnected (see link.ts); views grey out and disable actions when not live. */
  readonly link = new Store<Link>({ state: "connecting", answers: true, latencyMs: null, storeError: null, engineClosed: false });
  private heard: Heard = { started: Date.now(), lastHeard: null, busy: false, unansweredSince: null };
  private timing: LinkTiming = DEFAULT_TIMING;
  private linkTimer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  private revisions: Revisions<R>;
  private counter = 0;
  private pending = new Map<string, Pending>();
  private handler = (msg: any, buffers?: unknown) => this.onMessage(msg, buffers);
  private channel: ModelLike | undefined;
  private channelHandler = (msg: any) => this.onChannel(msg);
  private channelTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncing = false;
  private disposed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  /** `reducers`, or a function that builds them for this view's id (a feed that carries every
   * view's part of it, such as the JobMonitor's windows, picks its own by the id). */
  constructor(
    private model: ModelLike,
    reducers: R | ((viewId: string) => R),
  ) {
    this.revisions = new Revisions(typeof reducers === "function" ? reducers(this.viewId) : reducers);
    this.store = new Store(this.revisions.state);
    model.on("msg:custom", this.handler);
    this.joinChannel();
  }

  /**
   * Follow the engine channel that carries this widget's patches. Its model may not be
   * registered yet (a reloaded page restores models in any order): look again shortly. Patches
   * sent meanwhile are missed, which the next one shows as a gap (a resync).
   */
  private joinChannel(): void {
    const id = this.model.get("_channel_id");
    const manager = this.model.widget_manager;
    if (typeof id !== "string" || !id || !manager || this.disposed) return;
    manager.get_model(id).then(
      (channel) => {
        if (this.disposed) return;
        this.channel = channel;
        channel.on("msg:custom", this.channelHandler);
      },
      () => {
        if (!this.disposed) this.channelTimer = setTimeout(() => this.joinChannel(), CHANNEL_RETRY_MS);
      },
    );
  }

  /** A message of the engine channel: apply this widget's entry, if it has one. */
  private onChannel(msg: Patches): void {
    if (!msg || typeof msg !== "object" || msg.kind !== "patches" || !msg.patches) return;
    this.heard.lastHeard = Date.now(); // the kernel spoke
    const mine = msg.patches[String(this.model.get("_channel_key"))];
    if (!mine) return;
    const result = this.revisions.patch({ rev: mine.rev, parts: mine.parts, t: msg.t });
    if (result === "applied") this.publish();
    else if (result === "gap") this.resync();
  }

  /**
   * Ask the kernel for the full state (on render, and after a missed patch). A request that gets
   * no answer (e.g. sent while a reloaded page's comm was still connecting) or an error is tried
   * again after a short pause, until the view has its state or is disposed.
   */
  resync(): void {
    if (this.resyncing || this.disposed) return;
    this.resyncing = true;
    this.request("snapshot", {}, SNAPSHOT_TIMEOUT_MS)
      .then((snap) => {
        this.resyncing = false;
        this.noteClosed(snap.closed);
        const complete = this.revisions.snapshot(snap.rev, snap.t, snap.parts);
        const storeError = typeof snap.store_error === "string" ? snap.store_error : null;
        if (storeError !== this.link.get().storeError) this.link.set({ ...this.link.get(), storeError });
        this.publish();
        if (!complete) this.resync();
      })
      .catch((error: unknown) => {
        this.resyncing = false;
        console.warn(`pbrain-widgets: no state for ${String(this.model.get("_view_kind"))} yet:`, error);
        if (!this.disposed) this.retryTimer = setTimeout(() => this.resync(), SNAPSHOT_RETRY_MS);
      });
  }

  /** Start following the kernel's liveness: ping when nothing was heard for `probeMs`. */
  startLink(timing: LinkTiming = DEFAULT_TIMING): void {
    this.timing = timing;
    clearInterval(this.linkTimer);
    this.heard = { ...this.heard, started: Date.now() };
    this.tickLink();
    this.linkTimer = setInterval(() => this.tickLink(), LINK_CHECK_MS);
  }

  /** The timer's turn: ping if the kernel has been quiet, then publish the link state. */
  private tickLink(now = Date.now()): void {
    if (this.disposed) return;
    const quiet = this.heard.lastHeard == null || now - this.heard.lastHeard >= this.timing.probeMs;
    if (quiet && !this.probing) this.probe(now);
    this.checkLink(now);
  }

  /** Publish the link state if it changed (never sends anything). */
  private checkLink(now = Date.now()): void {
    if (this.disposed) return;
    const current = this.link.get();
    const next: Link = {
      ...current,
      state: linkState(this.heard, now, this.timing),
      answers: answersNow(this.heard, now, this.timing),
    };
    if (next.state !== current.state || next.answers !== current.answers) this.link.set(next);
  }

  private probe(sent: number): void {
    this.probing = true;
    if (this.heard.unansweredSince == null) this.heard.unansweredSince = sent;
    this.request("ping", {}, this.timing.timeoutMs)
      .then((result) => {
        this.heard.busy = Boolean(result?.busy);
        this.noteClosed(result?.closed);
        this.link.set({ ...this.link.get(), latencyMs: Date.now() - sent, storeError: result?.store_error ?? null });
      })
      .catch(() => undefined)
      .finally(() => {
        this.probing = false; // the timer pings again if the kernel stays quiet
        this.checkLink();
      });
  }

  /** Send a request; the promise has its result (typed by the action, see protocol.ts). */
  request<A extends ActionName>(action: A, payload: Actions[A]["payload"] = {} as Actions[A]["payload"], timeoutMs = 15000): Promise<Actions[A]["result"]> {
    return this.send(action, payload, timeoutMs, false);
  }

  /** A request whose reply carries binary buffers (a picture): resolves with them. */
  requestBinary<A extends ActionName>(action: A, payload: Actions[A]["payload"], timeoutMs = 30000): Promise<BinaryReply<Actions[A]["result"]>> {
    return this.send(action, payload, timeoutMs, true);
  }

  private send(action: ActionName, payload: unknown, timeoutMs: number, binary: boolean): Promise<any> {
    const id = `${this.viewId}:${++this.counter}`;
    if (this.disposed) {
      // a closed view's last word (an effect's cleanup that runs after dispose, e.g. unwatching
      // its logs) still goes out, but nothing waits for an answer: no timer outlives the view
      try {
        this.model.send({ kind: "request", id, action, payload });
      } catch {
        // the comm is gone too
      }
      return Promise.reject(new RequestError("this view was closed"));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError(`no answer from the kernel to ${action} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, binary });
      try {
        this.model.send({ kind: "request", id, action, payload });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        this.heard.lastHeard = null; // the comm is gone: nothing will answer
        this.heard.started = 0;
        if (this.linkTimer !== undefined) this.checkLink();
        reject(new RequestError("the kernel is not running (its connection is closed)"));
      }
    });
  }

  /** The kernel said whether the engine is closed; a closed engine stays closed. */
  private noteClosed(closed: unknown): void {
    if (closed === true && !this.link.get().engineClosed) this.link.set({ ...this.link.get(), engineClosed: true });
  }

  /** Apply a change of this view's own (e.g. the log tail a `watch` reply brought). */
  local(fn: (parts: StateOf<R>) => StateOf<R>): void {
    this.revisions.local(fn);
    this.publish();
  }

  private onMessage(msg: KernelMessage, buffers?: unknown): void {
    if (!msg || typeof msg !== "object") return;
    this.heard.lastHeard = Date.now();
    if (msg.kind === "beat") {
      this.heard.busy = Boolean(msg.busy);
      const storeError = typeof msg.store_error === "string" ? msg.store_error : null;
      if (storeError !== this.link.get().storeError) this.link.set({ ...this.link.get(), storeError });
      this.noteClosed(msg.closed);
      if (this.linkTimer !== undefined) this.checkLink();
      return;
    }
    if (msg.kind === "reply") {
      this.heard.unansweredSince = null; // any reply means requests are answered now
      const id = msg.id;
      const pending = typeof id === "string" ? this.pending.get(id) : undefined;
      if (!pending || id == null) return; // another view's reply
      this.pending.delete(id);
      clearTimeout(pending.timer);
      if (msg.ok && pending.binary) pending.resolve({ result: msg.result, buffers: Array.isArray(buffers) ? buffers : [] });
      else if (msg.ok) pending.resolve(msg.result);
      else pending.reject(new RequestError(String(msg.error ?? "request failed")));
    }
  }

  private publish(): void {
    this.store.set(this.revisions.state);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.channelTimer);
    clearInterval(this.linkTimer);
    this.model.off("msg:custom", this.handler);
    this.channel?.off("msg:custom", this.channelHandler);
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }
}
