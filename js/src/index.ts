// The anywidget entry point: one bundle for every pbrain widget; `_view_kind` picks the view.

import { h, render } from "preact";
import "./styles.css";
import { type ModelLike, SyncClient } from "./sync";
import { ConnectionStatus } from "./views/ConnectionStatus";
import { JobMonitor, jobMonitorReducers } from "./views/JobMonitor";
import { LogStream, logStreamReducers } from "./views/LogStream";
import { dashboardReducers, ProjectDashboard } from "./views/ProjectDashboard";
import { SubjectDetail } from "./views/SubjectDetail";
import { subjectReducers } from "./views/SubjectPanel";

function mount(model: ModelLike, el: HTMLElement): SyncClient<any> {
  const kind = model.get("_view_kind");
  switch (kind) {
    case "job_monitor": {
      const client = new SyncClient(model, jobMonitorReducers);
      render(h(JobMonitor, { client, model }), el);
      return client;
    }
    case "log_stream": {
      const client = new SyncClient(model, logStreamReducers);
      render(h(LogStream, { client, jobId: model.get("job_id") }), el);
      return client;
    }
    case "connection_status": {
      const client = new SyncClient(model, {});
      render(h(ConnectionStatus, { client, model }), el);
      return client;
    }
    case "project_dashboard": {
      const client = new SyncClient(model, dashboardReducers);
      render(h(ProjectDashboard, { client }), el);
      return client;
    }
    case "subject_detail": {
      const client = new SyncClient(model, subjectReducers);
      render(h(SubjectDetail, { client }), el);
      return client;
    }
    default:
      el.textContent = `pbrain-widgets: unknown view ${String(kind)}`;
      return new SyncClient(model, {});
  }
}

export default {
  render({ model, el }: { model: ModelLike; el: HTMLElement }) {
    const client = mount(model, el);
    if (model.get("_view_kind") !== "connection_status") client.resync();
    return () => {
      render(null, el);
      client.dispose();
    };
  },
};
