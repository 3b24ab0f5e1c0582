// The JupyterLab plugin of pbrain-widgets (built into the prebuilt labextension
// `pbrain-widgets-notify`, which `pip install pbrain-widgets` puts in
// share/jupyter/labextensions/): it takes the widgets' notification requests (see `../bridge.ts`)
// and posts them to JupyterLab's notification centre through the `apputils:notify` command that
// JupyterLab documents for extensions. It needs nothing from JupyterLab but the app's commands.

import { NOTIFY_EVENT, readRequest } from "../bridge";

/** The JupyterLab command that adds a notification to its notification centre (Lab >= 4.0). */
export const LAB_NOTIFY = "apputils:notify";

/** What the plugin uses of JupyterLab's app (`JupyterFrontEnd`). */
export interface LabApp {
  commands: {
    hasCommand(id: string): boolean;
    execute(id: string, args?: Record<string, unknown>): Promise<unknown>;
  };
}

/** How long a success notification stays (ms); a failure stays until dismissed. */
const OK_SHOWN_MS = 6000;

/** Listen for the widgets' requests on `target`; returns the function that stops it. */
export function listen(app: LabApp, target: EventTarget = document): () => void {
  const onRequest = (event: Event): void => {
    const request = readRequest((event as CustomEvent).detail);
    // without the command (an app without a notification centre) the widget keeps its own toast
    if (!request || !app.commands.hasCommand(LAB_NOTIFY)) return;
    event.preventDefault();
    if (request.kind !== "notify") return;
    const error = request.tone === "error";
    app.commands
      .execute(LAB_NOTIFY, {
        message: `pbrain: ${request.text}`,
        type: error ? "error" : "success",
        options: { autoClose: error ? false : OK_SHOWN_MS },
      })
      .catch(() => undefined);
  };
  target.addEventListener(NOTIFY_EVENT, onRequest);
  return () => target.removeEventListener(NOTIFY_EVENT, onRequest);
}

const plugin = {
  id: "pbrain-widgets-notify:bridge",
  description: "Posts pbrain-widgets' run and failure notifications to JupyterLab's notification centre.",
  autoStart: true,
  activate: (app: LabApp): void => {
    listen(app);
  },
};

export default plugin;
