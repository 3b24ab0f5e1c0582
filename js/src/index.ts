// The anywidget entry point: one bundle for every pbrain widget; `_view_kind` picks the view.

import { type ComponentChild, h, render } from "preact";
import { LinkFrame } from "./components/LinkFrame";
import { ViewGuard } from "./components/ViewGuard";
import { DEFAULT_TIMING } from "./link";
import "./styles.css";
import { type ModelLike, SyncClient } from "./sync";
import { ConnectionStatus } from "./views/ConnectionStatus";
import { type DockModel, DockNote } from "./views/DockNote";
import { historyReducers, JobHistory } from "./views/JobHistory";
import { JobMonitor, jobMonitorReducers } from "./views/JobMonitor";
import { LogStream, logStreamReducers } from "./views/LogStream";
import { graphReducers, PipelineGraph } from "./views/PipelineGraph";
import { dashboardReducers, ProjectDashboard } from "./views/ProjectDashboard";
import { QcReview, qcReviewReducers } from "./views/QcReview";
import { SubjectDetail } from "./views/SubjectDetail";
import { subjectReducers } from "./views/SubjectPanel";
import { Timeline, timelineReducers } from "./views/Timeline";

/** A monitor view inside the frame that shows the kernel's liveness (and says so if it fails to draw). */
function framed(client: SyncClient<any>, view: ComponentChild): ComponentChild {
  return h(LinkFrame, { client }, h(ViewGuard, {}, view));
}

function mount(model: ModelLike, el: HTMLElement): SyncClient<any> {
  const kind = model.get("_view_kind");
  switch (kind) {
    case "job_monitor": {
      const client = new SyncClient(model, jobMonitorReducers);
      render(framed(client, h(JobMonitor, { client, model })), el);
      return client;
    }
    case "job_history": {
      const client = new SyncClient(model, historyReducers);
      render(framed(client, h(JobHistory, { client })), el);
      return client;
    }
    case "log_stream": {
      const client = new SyncClient(model, logStreamReducers);
      render(framed(client, h(LogStream, { client, jobId: model.get("job_id") })), el);
      return client;
    }
    case "connection_status": {
      const client = new SyncClient(model, {});
      const timeoutMs = Number(model.get("timeout_ms")) || DEFAULT_TIMING.timeoutMs;
      client.startLink({ probeMs: Number(model.get("interval_ms")) || 1000, timeoutMs });
      render(h(ConnectionStatus, { client, timeoutMs }), el);
      return client;
    }
    case "project_dashboard": {
      const client = new SyncClient(model, dashboardReducers);
      render(framed(client, h(ProjectDashboard, { client })), el);
      return client;
    }
    case "subject_detail": {
      const client = new SyncClient(model, subjectReducers);
      render(framed(client, h(SubjectDetail, { client })), el);
      return client;
    }
    case "qc_review": {
      const client = new SyncClient(model, qcReviewReducers);
      render(framed(client, h(QcReview, { client })), el);
      return client;
    }
    case "pipeline_graph": {
      const client = new SyncClient(model, graphReducers);
      render(framed(client, h(PipelineGraph, { client })), el);
      return client;
    }
    case "timeline": {
      const client = new SyncClient(model, timelineReducers);
      render(framed(client, h(Timeline, { client })), el);
      return client;
    }
    default:
      el.textContent = `pbrain-widgets: unknown view ${String(kind)}`;
      return new SyncClient(model, {});
  }
}

export default {
  render({ model, el }: { model: ModelLike; el: HTMLElement }) {
    if (model.get("_view_kind") === "dock_note") {
      // not a monitor: no kernel feed, only the note's own trait
      render(h(DockNote, { model: model as unknown as DockModel }), el);
      return () => render(null, el);
    }
    const client = mount(model, el);
    if (model.get("_view_kind") !== "connection_status") {
      client.startLink();
      client.resync();
    }
    return () => {
      render(null, el);
      client.dispose();
    };
  },
};
