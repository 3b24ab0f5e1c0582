// What the kernel sends, built the way pbrain_widgets/widgets/records.py builds it.

import { act } from "preact/test-utils";
import type { Column, JobsSnapshot, JobsWindow, JobTable } from "../src/protocol";
import widget from "../src/index";
import type { ModelLike } from "../src/sync";
import type { JobRow } from "../src/types";

/** One column in the kernel's most compact form (records.column). */
function column(values: unknown[]): Column {
  const distinct = new Map<unknown, number>();
  for (const v of values) if (!distinct.has(v)) distinct.set(v, distinct.size);
  if (distinct.size === 1) return { fill: values[0] };
  if (2 * distinct.size <= values.length) return { values: [...distinct.keys()], codes: values.map((v) => distinct.get(v) as number) };
  return values;
}

/** Job rows as the table the kernel sends (records.job_table). */
export function table(rows: JobRow[]): JobTable {
  const fields = rows.length ? (Object.keys(rows[0]) as (keyof JobRow)[]) : [];
  return { n: rows.length, columns: Object.fromEntries(fields.map((f) => [f, column(rows.map((r) => r[f]))])) };
}

/** A jobs feed snapshot as the kernel sends it: counts and names, no rows. */
export function jobsSnapshot(counts: Record<string, number> = {}, more: Partial<JobsSnapshot> = {}): JobsSnapshot {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { total, counts, stage_counts: {}, subjects: {}, stages: {}, queue: [], ...more };
}

/** A view's window: the rows `ids` (seqs) of its listing from `offset`, answering `asked`. */
export function jobsWindow(ids: number[], more: Partial<JobsWindow> = {}): JobsWindow {
  return { asked: 1, offset: 0, listed: ids.length, ids, held: [], earlier: [], superseded: [], actionable: { cancel: 0, retry: 0, queued: 0 }, ...more };
}

/** A queued job row with its own subject "s" and stage "import". */
export function jobRow(id: string, seq: number): JobRow {
  return {
    id, project_id: "p", subject_id: "s", stage_id: "import", status: "queued", progress: 0, current_step: "", queued_at: seq,
    start_time: null, end_time: null, error: null, log_path: null, eta_seconds: null, attempt: 1, priority: 0, retry_of: null,
    blocked_by: null, cpu_percent: null, memory_rss: null, peak_memory_rss: null, seq,
  };
}

/** What a widget's `_channel_id` and `_channel_key` traits hold in these tests. */
export const CHANNEL_TRAITS: Record<string, string> = { _channel_id: "channel", _channel_key: "1" };

/** An engine channel's model (pbrain_widgets/widgets/channel.py) as a view finds it through
 * the widget manager: `manager` resolves to it, `patch()` sends what the kernel sends. */
export class FakeChannel {
  handlers: ((msg: any) => void)[] = [];
  readonly manager = { get_model: async (id: string) => (id === CHANNEL_TRAITS._channel_id ? this : Promise.reject(new Error(`no model ${id}`))) };
  get() {
    return undefined;
  }
  send() {}
  on(_e: string, cb: (msg: any) => void) {
    this.handlers.push(cb);
  }
  off(_e: string, cb: (msg: any) => void) {
    this.handlers = this.handlers.filter((x) => x !== cb);
  }
  /** One channel message carrying widget `key`'s patch. */
  patch(rev: number, parts: Record<string, unknown>, t = 0, key = CHANNEL_TRAITS._channel_key) {
    for (const cb of this.handlers) cb({ kind: "patches", t, patches: { [key]: { rev, parts } } });
  }
}

/** A widget's model as anywidget hands it to a view: `traits` (the channel's by default), what
 * the view sent, and the kernel's side of its comm (`deliver`, `settle`, `reply`). */
export class FakeModel implements ModelLike {
  channel = new FakeChannel();
  widget_manager = this.channel.manager;
  sent: any[] = [];
  handlers: ((msg: any, buffers?: unknown) => void)[] = [];
  constructor(private traits: Record<string, unknown> = {}) {}
  get(name: string) {
    return name in this.traits ? this.traits[name] : CHANNEL_TRAITS[name];
  }
  send(content: any) {
    this.sent.push(content);
  }
  on(_event: string, cb: (msg: any, buffers?: unknown) => void) {
    this.handlers.push(cb);
  }
  off(_event: string, cb: (msg: any) => void) {
    this.handlers = this.handlers.filter((h) => h !== cb);
  }
  /** A message of the kernel on the widget's comm, handled at once. */
  deliver(msg: any, buffers?: unknown) {
    for (const h of this.handlers) h(msg, buffers);
  }
  /** The same, then let the view draw. */
  async settle(msg: any) {
    await act(async () => {
      this.deliver(msg);
      await new Promise((r) => setTimeout(r, 0));
    });
  }
  /** The view's latest `action` request. */
  last(action: string): any {
    return [...this.sent].reverse().find((m) => m.action === action);
  }
  /** Answer the view's latest `jobs_window` with `rows` as its window (from its offset; `more`
   * overrides, e.g. `listed`) and let the view draw. */
  async replyWindow(rows: JobRow[], more: Partial<JobsWindow> = {}) {
    const { payload } = this.last("jobs_window");
    const window = jobsWindow(rows.map((r) => r.seq), { asked: payload.asked, offset: payload.offset, listed: rows.length, ...more });
    await this.reply("jobs_window", { jobs: table(rows), window });
  }
  /** Answer the view's latest `action` request and let the view draw. */
  async reply(action: string, result: unknown) {
    const request = this.last(action);
    await this.settle({ kind: "reply", id: request.id, ok: true, result });
  }
}

/** A job row running since `start` (kernel time), 40 % done. */
export function runningRow(start: number): JobRow {
  return {
    ...jobRow("job000000000001", 1), status: "running", progress: 40, current_step: "step", queued_at: start, start_time: start,
    eta_seconds: 2,
  };
}

const mounted: (() => void)[] = [];

/** Render a widget view of `traits` into the page, as anywidget does (closed by `unmountAll`). */
export async function mount(traits: Record<string, unknown>): Promise<{ model: FakeModel; el: HTMLElement }> {
  const model = new FakeModel(traits);
  const el = document.createElement("div");
  document.body.appendChild(el);
  await act(() => {
    mounted.push(widget.render({ model, el }));
  });
  return { model, el };
}

/** Close every view `mount` rendered and empty the page (a test's afterEach). */
export function unmountAll(): void {
  for (const close of mounted.splice(0)) close();
  document.body.innerHTML = "";
}
