// ConnectionStatus: the kernel's liveness as this view measures it (see link.ts): Connected,
// Kernel busy (running a cell; still live) or Disconnected.

import { useStore } from "../hooks";
import { ENGINE_CLOSED_BANNER, LINK_LABELS, linkExplanation } from "../link";
import type { SyncClient } from "../sync";

export function ConnectionStatus({ client, timeoutMs }: { client: SyncClient<{}>; timeoutMs: number }) {
  const link = useStore(client.link);
  if (link.engineClosed && link.state !== "disconnected") {
    return (
      <span class="pw-root pw-conn pw-conn-closed" data-state="closed" data-ready="true" role="status" aria-live="polite" title={ENGINE_CLOSED_BANNER}>
        <span class="pw-conn-dot" aria-hidden="true" />
        <span>Engine closed</span>
      </span>
    );
  }
  return (
    <span
      class={`pw-root pw-conn pw-conn-${link.state}`}
      data-state={link.state}
      data-ready="true"
      role="status"
      aria-live="polite"
      title={linkExplanation(link, timeoutMs)}
    >
      <span class="pw-conn-dot" aria-hidden="true" />
      <span>{LINK_LABELS[link.state]}</span>
    </span>
  );
}
