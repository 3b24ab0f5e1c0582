// The dashboard's templates control: save the chosen stages (and the selected subjects) as a
// named run template, run one on this project, delete one. Templates belong to the engine
// (any project whose pipeline has their stages can run them); the list is fetched when opened.

import type { RefObject } from "preact";
import { useState } from "preact/hooks";
import { failure } from "../errors";
import type { Link } from "../link";
import type { SyncClient } from "../sync";

interface TemplateRow {
  name: string;
  stages: string[] | null;
  subjects: string[] | string | null;
  max_concurrent: number | null;
  has_options: boolean;
}

/** What a template runs, in a few words: "3 stages · 12 subjects", "every stage · sub-0*". */
export function templateSummary(t: TemplateRow, labels: Record<string, string>): string {
  const stages = t.stages == null ? "every stage" : t.stages.length <= 2 ? t.stages.map((s) => labels[s] ?? s).join(", ") : `${t.stages.length} stages`;
  const subjects = t.subjects == null ? "every subject" : typeof t.subjects === "string" ? t.subjects : `${t.subjects.length} subject${t.subjects.length === 1 ? "" : "s"}`;
  const extra = [t.max_concurrent != null ? `${t.max_concurrent} at once` : "", t.has_options ? "runner options" : ""].filter(Boolean);
  return [stages, subjects, ...extra].join(" · ");
}

interface Props {
  client: SyncClient<any>;
  link: Link;
  live: boolean;
  /** The stages chosen in the dashboard (what "Save" keeps). */
  stageIds: string[];
  /** The selected subjects (kept by name in the template); none: every subject. */
  subjectIds: string[];
  labels: Record<string, string>;
  say: (text: string, tone: "ok" | "error") => void;
  popover: { ref: RefObject<HTMLDetailsElement | null>; onKeyDown: (e: KeyboardEvent) => void };
}

export function TemplatesControl({ client, link, live, stageIds, subjectIds, labels, say, popover }: Props) {
  const [templates, setTemplates] = useState<TemplateRow[] | null>(null);
  const [name, setName] = useState("");
  const [deleting, setDeleting] = useState<string | null>(null);
  const load = () =>
    client
      .request("templates")
      .then((r: { templates: TemplateRow[] }) => setTemplates(r.templates))
      .catch((e: Error) => say(failure("list the templates", e, link), "error"));
  const save = (e: Event) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    client
      .request("save_template", { name: trimmed, stage_ids: stageIds, subject_ids: subjectIds.length ? subjectIds : null })
      .then((r: { templates: TemplateRow[] }) => {
        setTemplates(r.templates);
        setName("");
        say(`Saved the template ${trimmed}`, "ok");
      })
      .catch((err: Error) => say(failure("save the template", err, link), "error"));
  };
  const run = (template: string) =>
    client
      .request("run_template", { name: template })
      .then((r: { jobs: number }) => say(`Template ${template}: ${r.jobs} job${r.jobs === 1 ? "" : "s"} queued or already active`, "ok"))
      .catch((err: Error) => say(failure(`run the template ${template}`, err, link), "error"));
  const remove = (template: string) => {
    setDeleting(null);
    client
      .request("delete_template", { name: template })
      .then((r: { templates: TemplateRow[] }) => {
        setTemplates(r.templates);
        say(`Deleted the template ${template}`, "ok");
      })
      .catch((err: Error) => say(failure("delete the template", err, link), "error"));
  };
  const what = `${stageIds.length} chosen stage${stageIds.length === 1 ? "" : "s"}${subjectIds.length ? ` and the ${subjectIds.length} selected subject${subjectIds.length === 1 ? "" : "s"}` : ""}`;
  return (
    <details
      class="pw-templates"
      ref={popover.ref}
      onKeyDown={popover.onKeyDown}
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open) load();
      }}
    >
      <summary class="pw-btn">Templates</summary>
      <div class="pw-popover" role="group" aria-label="Run templates">
        {templates === null ? (
          <p class="pw-muted pw-small">Loading…</p>
        ) : templates.length === 0 ? (
          <p class="pw-muted pw-small">No templates yet</p>
        ) : (
          templates.map((t) => (
            <div class="pw-template" key={t.name} data-template={t.name}>
              <span class="pw-ellipsis" title={templateSummary(t, labels)}>
                <span class="pw-strong">{t.name}</span>
                <span class="pw-muted pw-small">{` ${templateSummary(t, labels)}`}</span>
              </span>
              {deleting === t.name ? (
                <>
                  <button type="button" class="pw-btn pw-btn-small pw-btn-danger" disabled={!live} onClick={() => remove(t.name)}>
                    {`Delete ${t.name}`}
                  </button>
                  <button type="button" class="pw-btn pw-btn-small" onClick={() => setDeleting(null)}>
                    Keep
                  </button>
                </>
              ) : (
                <>
                  <button type="button" class="pw-btn pw-btn-small" disabled={!live} aria-label={`Run template ${t.name}`} onClick={() => run(t.name)}>
                    Run
                  </button>
                  <button type="button" class="pw-btn pw-btn-small" disabled={!live} aria-label={`Delete template ${t.name}`} onClick={() => setDeleting(t.name)}>
                    Delete
                  </button>
                </>
              )}
            </div>
          ))
        )}
        <form class="pw-template-save" onSubmit={save}>
          <input
            type="text"
            class="pw-search"
            aria-label="Template name"
            placeholder="Template name"
            maxLength={128}
            value={name}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" class="pw-btn pw-btn-small" disabled={!live || !name.trim() || !stageIds.length} title={`Save the ${what}`}>
            Save
          </button>
        </form>
        <p class="pw-muted pw-small">{`Save keeps the ${what}.`}</p>
      </div>
    </details>
  );
}
