// The line a docked monitor leaves in its cell (pbrain_widgets/widgets/dock.py): it looks for the
// side panel and tells the kernel whether it is there; where it is not, the kernel shows the
// monitor in the cell under this line.

import { useEffect, useState } from "preact/hooks";

/** The part of the note's anywidget model the view uses. */
export interface DockModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
}

/** How often the note looks for its panel (it may be closed, or appear late). */
export const DOCK_CHECK_MS = 250;
/** How long the panel may take to appear before the note gives up waiting and says so. */
export const DOCK_WAIT_MS = 4000;

/** Whether JupyterLab shows a sidecar panel titled `title` (its tab in a side bar or the main area). */
export function panelShown(doc: Document, title: string): boolean {
  if (!doc.querySelector(".jp-LabShell .jupyterlab-sidecar")) return false;
  return [...doc.querySelectorAll(".jp-LabShell .lm-TabBar-tabLabel")].some((label) => label.textContent === title);
}

export function DockNote({ model }: { model: DockModel }) {
  const title = String(model.get("title") ?? "");
  const [docked, setDocked] = useState<boolean | null>(null);
  useEffect(() => {
    const started = Date.now();
    let last: boolean | null = null;
    const check = () => {
      const shown = panelShown(document, title);
      const next = shown ? true : Date.now() - started >= DOCK_WAIT_MS ? false : null;
      if (next === null || next === last) return;
      last = next;
      setDocked(next);
      if (model.get("docked") !== next) {
        model.set("docked", next);
        model.save_changes();
      }
    };
    check();
    const timer = setInterval(check, DOCK_CHECK_MS);
    return () => clearInterval(timer);
  }, [model, title]);
  return (
    <p class="pw-root pw-dock-note" role="status" data-docked={docked === null ? "checking" : String(docked)}>
      {docked === null
        ? `Docking “${title}”…`
        : docked
          ? `“${title}” is docked in a side panel: it stays in view while the notebook scrolls (close its tab to bring it back here).`
          : `This front end has no side panel for widgets (docking needs JupyterLab with jupyterlab-sidecar), so “${title}” is shown here.`}
    </p>
  );
}
