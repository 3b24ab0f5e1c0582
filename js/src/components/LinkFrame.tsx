// The frame around every monitor view: a calm banner when the kernel is busy or gone or the
// engine was closed; the view greyed out and inert (no clicks, no focus) while disconnected, and
// greyed out with its actions disabled (each view asks `canAct`) once the engine is closed.

import type { ComponentChildren } from "preact";
import { useStore } from "../hooks";
import { DEFAULT_TIMING, ENGINE_CLOSED_BANNER, linkExplanation } from "../link";
import type { SyncClient } from "../sync";

export function LinkFrame({ client, children }: { client: SyncClient<any>; children?: ComponentChildren }) {
  const link = useStore(client.link);
  const gone = link.state === "disconnected";
  const closed = link.engineClosed && !gone;
  const state = closed ? "closed" : link.state;
  return (
    <div class={`pw-frame pw-link-${state}`} data-link={state}>
      {gone || closed || link.state === "busy" ? (
        <div class={`pw-link-banner ${gone || closed ? "pw-link-banner-gone" : ""}`} role="status" aria-live="polite">
          <span class="pw-conn-dot" aria-hidden="true" />
          {closed ? (
            <span>{ENGINE_CLOSED_BANNER}</span>
          ) : (
            <>
              <span>{gone ? "Disconnected. " : "Kernel busy. "}</span>
              <span class="pw-muted">{linkExplanation(link, DEFAULT_TIMING.timeoutMs)}</span>
            </>
          )}
        </div>
      ) : null}
      {link.storeError ? (
        <div class="pw-link-banner pw-store-banner" role="alert">
          <span>Cannot save to disk. </span>
          <span class="pw-muted">{link.storeError}</span>
        </div>
      ) : null}
      <div class="pw-frame-body" {...(gone ? { inert: true, "aria-disabled": "true" } : {})}>
        {children}
      </div>
    </div>
  );
}
