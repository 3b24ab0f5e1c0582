import type { ComponentChildren } from "preact";

/** A small coloured label; `tone` picks the colour (a job or stage status, or a plain tone). */
export function Badge({ tone, children, title }: { tone: string; children: ComponentChildren; title?: string }) {
  return (
    <span class={`pw-badge pw-tone-${tone}`} title={title}>
      {children}
    </span>
  );
}
