// @vitest-environment jsdom
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { mount, unmountAll } from "./wire";


const EVIL = '<img src=x onerror="window.__pwned=1">';
const zero = { done: 0, stale: 0, running: 0, queued: 0, waiting: 0, failed: 0, not_run: 0 };

afterEach(unmountAll);

describe("PipelineGraph view", () => {
  it("draws a focusable node per stage with its counts in words, data as text; a click asks to focus", async () => {
    const { model, el } = await mount({ _view_kind: "pipeline_graph" });
    await model.reply("snapshot", {
      rev: 0,
      t: Date.now() / 1000,
      parts: {
        graph: {
          project: { id: "p", name: EVIL },
          stages: [
            { id: "a", label: EVIL, depends_on: [] },
            { id: "b", label: "B", depends_on: ["a"] },
          ],
          counts: { a: { ...zero, done: 2, failed: 1 }, b: { ...zero, not_run: 3 } },
          median: { a: 1.5, b: null },
          blocked: [["a", "b"]],
          subjects: 3,
        },
        focus: { stage_id: null, label: null },
      },
    });
    const nodes = el.querySelectorAll<SVGGElement>(".pw-graph-node");
    expect(nodes).toHaveLength(2);
    expect(nodes[0].getAttribute("role")).toBe("button");
    expect(nodes[0].getAttribute("tabindex")).toBe("0");
    expect(nodes[0].getAttribute("aria-label")).toContain("2 done, 1 failed");
    expect(nodes[0].querySelector(".pw-graph-label")?.textContent).toBe(EVIL);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector('.pw-graph-edge[data-blocked="true"]')).not.toBeNull();
    await act(() => {
      nodes[1].dispatchEvent(new MouseEvent("click", { bubbles: true }));
    });
    expect(model.sent[model.sent.length - 1]).toMatchObject({ action: "focus", payload: { stage_id: "b" } });
  });
});

describe("Timeline view", () => {
  it("summarises the started jobs and keeps names as text", async () => {
    const { model, el } = await mount({ _view_kind: "timeline" });
    await model.reply("snapshot", {
      rev: 0,
      t: Date.now() / 1000,
      parts: {
        timeline: {
          jobs: [
            ["j1", "s", "a", "completed", 0, 1, 5, 1],
            ["j2", "s", "a", "failed", 0, 2, 3, 1],
            ["j3", "s", "a", "queued", 0, null, null, 1],
          ],
          subjects: { s: EVIL },
          stages: { a: EVIL },
          order: ["a"],
          marks: {},
          resources: [[1, 50, 1024]],
        },
        logs: {},
      },
    });
    expect(el.querySelector("[data-testid='timeline-summary']")?.textContent).toBe(
      "2 jobs started in 2 slots: 0 running, 1 failed, 0 cancelled; 1 queued",
    );
    expect(el.querySelector("canvas.pw-timeline-canvas")?.getAttribute("aria-label")).toContain("Wheel or + and - zoom");
    expect(el.querySelector(".pw-legend")?.textContent).toContain(EVIL);
    expect(el.querySelector("img")).toBeNull();
  });
});
