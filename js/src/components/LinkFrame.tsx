// The frame around every monitor view: a calm banner when the kernel is busy or gone, and the
// view greyed out and inert (no clicks, no focus) while disconnected.

import type { ComponentChildren } from "preact";
import { useStore } from "../hooks";
import { DEFAULT_TIMING, linkExplanation } from "../link";
import type { SyncClient } from "../sync";

export function LinkFrame({ client, children }: { client: SyncClient<any>; children?: ComponentChildren }) {
  const link = useStore(client.link);
  const gone = link.state === "disconnected";
  return (
    <div class={`pw-frame pw-link-${link.state}`} data-link={link.state}>
      {gone || link.state === "busy" ? (
        <div class={`pw-link-banner ${gone ? "pw-link-banner-gone" : ""}`} role="status" aria-live="polite">
          <span class="pw-conn-dot" aria-hidden="true" />
          <span>{gone ? "Disconnected. " : "Kernel busy. "}</span>
          <span class="pw-muted">{linkExplanation(link, DEFAULT_TIMING.timeoutMs)}</span>
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
