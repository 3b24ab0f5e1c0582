// A picture of a job output, drawn in the kernel and sent as a binary buffer (a PNG): fetched
// only when it scrolls into view, kept per view, shown through an object URL (never markup).

import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { SyncClient } from "../sync";

export type PictureSize = "thumb" | "full";

interface Loaded {
  url: string;
  width: number;
  height: number;
}

const cache = new WeakMap<SyncClient<any>, Map<string, Promise<Loaded>>>();

/** The picture of output `index` of `jobId` at `size`, fetched once per view. */
export function loadPicture(client: SyncClient<any>, jobId: string, index: number, size: PictureSize): Promise<Loaded> {
  let mine = cache.get(client);
  if (!mine) cache.set(client, (mine = new Map()));
  const key = `${jobId}/${index}/${size}`;
  let found = mine.get(key);
  if (!found) {
    found = client.requestBinary("picture", { job_id: jobId, index, size }).then(({ result, buffers }) => {
      if (!buffers.length) throw new Error("the kernel sent no picture");
      const url = URL.createObjectURL(new Blob(buffers as BlobPart[], { type: "image/png" }));
      return { url, width: Number(result?.width) || 0, height: Number(result?.height) || 0 };
    });
    found.catch(() => mine?.delete(key)); // a failure is tried again next time
    mine.set(key, found);
  }
  return found;
}

/** Run `onVisible` once the element is (nearly) on screen. */
function useVisible<T extends Element>(onVisible: () => void): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    if (typeof IntersectionObserver === "undefined") {
      onVisible();
      return undefined;
    }
    const seen = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          seen.disconnect();
          onVisible();
        }
      },
      { rootMargin: "200px" },
    );
    seen.observe(el);
    return () => seen.disconnect();
  }, []);
  return ref;
}

interface Props {
  client: SyncClient<any>;
  jobId: string;
  index: number;
  label: string;
  size?: PictureSize;
  onOpen?: () => void;
}

/** A thumbnail (a button that enlarges it when `onOpen` is given). */
export function Picture({ client, jobId, index, label, size = "thumb", onOpen }: Props) {
  const [state, setState] = useState<{ loaded?: Loaded; error?: string }>({});
  const ref = useVisible<HTMLElement>(() => {
    loadPicture(client, jobId, index, size).then(
      (loaded) => setState({ loaded }),
      (e: Error) => setState({ error: e.message }),
    );
  });
  const body = state.loaded ? (
    <img src={state.loaded.url} alt={label} width={state.loaded.width} height={state.loaded.height} decoding="async" data-picture="ready" />
  ) : (
    <span class="pw-picture-wait pw-muted pw-small" data-picture={state.error ? "error" : "loading"}>
      {state.error ?? "Drawing..."}
    </span>
  );
  return (
    <figure class={`pw-picture pw-picture-${size}`} ref={ref}>
      {onOpen ? (
        <button type="button" class="pw-picture-btn" onClick={onOpen} aria-label={`Enlarge ${label}`} disabled={!state.loaded}>
          {body}
        </button>
      ) : (
        body
      )}
      <figcaption class="pw-small pw-muted" title={label}>
        {label}
      </figcaption>
    </figure>
  );
}

/** The enlarged picture, over the view; Escape or the Close button closes it. */
export function PictureDialog({ client, jobId, index, label, onClose }: { client: SyncClient<any>; jobId: string; index: number; label: string; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div
      class="pw-dialog"
      role="dialog"
      aria-modal="true"
      aria-label={label}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div class="pw-dialog-body">
        <header class="pw-header">
          <span class="pw-strong">{label}</span>
          <span class="pw-spacer" />
          <button type="button" class="pw-btn" ref={close} onClick={onClose}>
            Close
          </button>
        </header>
        <Picture client={client} jobId={jobId} index={index} label={label} size="full" />
      </div>
    </div>
  );
}
