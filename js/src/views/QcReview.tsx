// QcReview: one output of one stage for every subject, rated by keyboard (p pass, f fail,
// u unrate, n note, arrows move, Enter enlarges); ratings live in the kernel's engine.

import { Component } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { Badge } from "../components/Badge";
import { QcMark } from "../components/Icons";
import { Notice, useNotice } from "../components/Notice";
import { Picture, PictureDialog } from "../components/Picture";
import { failure } from "../errors";
import { useCanAct, useStore } from "../hooks";
import { exportName, type QcValue, qcReducer, type Rating, ratingOf } from "../state/qc";
import { moveIndex, reviewReducer, type Tile } from "../state/review";
import type { SyncClient } from "../sync";

export const qcReviewReducers = { review: reviewReducer, qc: qcReducer };
type Client = SyncClient<typeof qcReviewReducers>;

const RATING_WORDS: Record<QcValue, string> = { pass: "passed", fail: "failed" };

/** How many tiles a row of the grid holds now (for ArrowUp / ArrowDown). */
function columnsOf(grid: HTMLElement | null): number {
  const first = grid?.querySelector<HTMLElement>("[role=option]");
  if (!grid || !first || !first.offsetWidth) return 1;
  return Math.max(1, Math.floor((grid.clientWidth + 8) / (first.offsetWidth + 8)));
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/tab-separated-values" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A one-line note for a rated tile: Enter saves, Escape cancels (`onDone(null)`). */
function NoteForm({ name, note, onDone }: { name: string; note: string; onDone: (text: string | null) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <form
      class="pw-note"
      onSubmit={(e) => {
        e.preventDefault();
        onDone(input.current?.value ?? "");
      }}
    >
      <label class="pw-small">
        {`Note for ${name}`}
        <input
          ref={input}
          class="pw-search pw-note-input"
          maxLength={2000}
          defaultValue={note}
          onKeyDown={(e) => {
            // JupyterLab takes Enter for its own commands before a form would see it
            if (e.key === "Enter") {
              e.preventDefault();
              e.stopPropagation();
              onDone(input.current?.value ?? "");
            } else if (e.key === "Escape") onDone(null);
          }}
        />
      </label>
      <button type="submit" class="pw-btn pw-btn-small">
        Save note
      </button>
    </form>
  );
}

interface TileProps {
  client: Client;
  tile: Tile;
  index: number;
  rating: Rating | undefined;
  current: boolean;
  onPick: (index: number) => void;
}

/** One subject's tile. It draws again only when its own tile, rating or focus changed, so a key
 * press or a rating re-draws two tiles, not the 200 of a cohort (each with its picture). */
export class TileView extends Component<TileProps> {
  shouldComponentUpdate(next: TileProps): boolean {
    const now = this.props;
    return now.tile !== next.tile || now.rating !== next.rating || now.current !== next.current || now.index !== next.index || now.client !== next.client;
  }

  render({ client, tile: t, index: i, rating: r, current, onPick }: TileProps) {
    const shown = t.job_id !== null && t.index !== null;
    return (
      <div
        role="option"
        id={`${client.viewId}-tile-${i}`}
        aria-selected={current}
        aria-label={`${t.name}: ${r ? RATING_WORDS[r.rating] : "not rated"}${r?.note ? `, note: ${r.note}` : ""}`}
        class={`pw-tile${current ? " pw-current" : ""}${r ? ` pw-tile-${r.rating}` : ""}`}
        data-subject-id={t.subject_id}
        data-qc={r?.rating ?? ""}
        onClick={() => onPick(i)}
      >
        {shown ? (
          <Picture client={client} jobId={t.job_id as string} index={t.index as number} label={t.name} />
        ) : (
          <span class="pw-tile-empty pw-muted pw-small">{t.job_id ? "no such output" : "not done yet"}</span>
        )}
        <span class="pw-tile-foot">
          {r && <QcMark rating={r.rating} />}
          {r?.note && <span class="pw-small pw-muted pw-tile-note">{r.note}</span>}
        </span>
      </div>
    );
  }
}

export function QcReview({ client }: { client: Client }) {
  const state = useStore(client.store);
  const link = useStore(client.link);
  const live = useCanAct(client);
  const [current, setCurrent] = useState(0);
  const [enlarged, setEnlarged] = useState<Tile | null>(null);
  const [noting, setNoting] = useState<Tile | null>(null);
  const [notice, say, dismiss] = useNotice();
  const grid = useRef<HTMLDivElement>(null);
  const pick = useCallback((i: number) => {
    setCurrent(i);
    grid.current?.focus();
  }, []);
  if (!state.ready) return <div class="pw-root pw-loading" data-ready="false">Loading QC review...</div>;
  const { review, qc } = state.parts;
  const stage = review.stage;
  const tiles = review.tiles;
  const stageId = stage?.id ?? "";
  const at = Math.min(current, Math.max(0, tiles.length - 1));
  const counts = { pass: 0, fail: 0 };
  for (const t of tiles) {
    const r = ratingOf(qc, t.subject_id, stageId);
    if (r) counts[r.rating] += 1;
  }
  const rate = (tile: Tile, rating: QcValue | null, note?: string) =>
    client
      .request("set_qc", { subject_id: tile.subject_id, stage_id: stageId, rating, note: note ?? ratingOf(qc, tile.subject_id, stageId)?.note ?? null })
      .catch((e: Error) => say(failure("rate", e, link), "error"));
  const go = (i: number) => {
    setCurrent(i);
    grid.current?.children[i]?.scrollIntoView({ block: "nearest" }); // the grid holds only the tiles, in order
  };
  const onKey = (e: KeyboardEvent) => {
    if (!tiles.length || e.ctrlKey || e.metaKey || e.altKey) return;
    const tile = tiles[at];
    const moved = moveIndex(e.key, at, tiles.length, columnsOf(grid.current));
    if (moved !== null) {
      e.preventDefault();
      go(moved);
      return;
    }
    const key = e.key.toLowerCase();
    if (key === "p" || key === "f") {
      if (!live) return;
      e.preventDefault();
      rate(tile, key === "p" ? "pass" : "fail");
      go(Math.min(tiles.length - 1, at + 1));
    } else if (key === "u") {
      e.preventDefault();
      if (live) rate(tile, null);
    } else if (key === "n") {
      e.preventDefault();
      if (!ratingOf(qc, tile.subject_id, stageId)) say(`Rate ${tile.name} first (p or f), then add a note`, "error");
      else if (live) setNoting(tile);
    } else if (e.key === "Enter" && tile.job_id !== null && tile.index !== null) {
      e.preventDefault();
      setEnlarged(tile);
    }
  };
  const exportTsv = (onlyFailed: boolean) =>
    client
      .request("export_qc", { only_failed: onlyFailed })
      .then((r: { tsv: string }) => download(exportName(review.project, onlyFailed), r.tsv))
      .catch((e: Error) => say(failure("export", e, link), "error"));
  return (
    <div class="pw-root" data-ready="true">
      <section class="pw-review" aria-label={`QC review of ${stage?.label ?? "stage"}`}>
        <header class="pw-header">
          <h3 class="pw-title">{`QC review · ${stage?.label ?? ""}`}</h3>
          {review.label && <code class="pw-muted">{review.label}</code>}
          <span class="pw-spacer" />
          <Badge tone="completed">{`${counts.pass} passed`}</Badge>
          <Badge tone="failed">{`${counts.fail} failed`}</Badge>
          <Badge tone="off">{`${tiles.length - counts.pass - counts.fail} to rate`}</Badge>
          <button type="button" class="pw-btn" disabled={!live} onClick={() => exportTsv(true)}>
            Export exclusions (TSV)
          </button>
        </header>
        <p class="pw-muted pw-small" id={`${client.viewId}-keys`}>
          Arrows move · p pass · f fail · u unrate · n note · Enter enlarge
        </p>
        <Notice notice={notice} onDismiss={dismiss} />
        {tiles.length === 0 ? (
          <p class="pw-empty">This project has no subjects</p>
        ) : (
          <div
            class="pw-review-grid"
            ref={grid}
            role="listbox"
            tabIndex={0}
            aria-label="Subjects"
            aria-describedby={`${client.viewId}-keys`}
            aria-activedescendant={`${client.viewId}-tile-${at}`}
            onKeyDown={onKey}
          >
            {tiles.map((t, i) => (
              <TileView key={t.subject_id} client={client} tile={t} index={i} rating={ratingOf(qc, t.subject_id, stageId)} current={i === at} onPick={pick} />
            ))}
          </div>
        )}
        {noting && (
          <NoteForm
            name={noting.name}
            note={ratingOf(qc, noting.subject_id, stageId)?.note ?? ""}
            onDone={(text) => {
              const r = ratingOf(qc, noting.subject_id, stageId);
              if (text !== null && r) rate(noting, r.rating, text);
              setNoting(null);
              grid.current?.focus();
            }}
          />
        )}
        {enlarged && enlarged.job_id && enlarged.index !== null && (
          <PictureDialog client={client} jobId={enlarged.job_id} index={enlarged.index} label={enlarged.name} onClose={() => { setEnlarged(null); grid.current?.focus(); }} />
        )}
      </section>
    </div>
  );
}
