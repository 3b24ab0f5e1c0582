"""Pictures and tables of job outputs, made in the kernel for the views (never stored in a notebook).

A view asks for one output of one job; this module turns the output's file into what the
browser draws: a PNG (a figure file scaled to a thumbnail, a mid-slice montage of a NIfTI map,
a small plot of a time curve) or a table (rows of text). nibabel and matplotlib come with
p-brain; without them a map or a curve says so. Results are cached by the file's path, size and
modification time, so a file rewritten by a re-run is drawn again.

Rendering takes tens of milliseconds: it runs in a worker thread, never on the engine's loop.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import Output, OutputKind
from ..errors import InvalidArgumentError, PbrainWidgetsError
from .protocol import TableText

THUMB_PX = 200
"""Longest side of a thumbnail, in pixels."""
FULL_PX = 900
"""Longest side of an enlarged picture."""
MAX_TABLE_ROWS = 500
MAX_TABLE_BYTES = 2_000_000
MONTAGE_SLICES = 6
SIZES = {"thumb": THUMB_PX, "full": FULL_PX}


class RenderError(PbrainWidgetsError):
    """An output that cannot be drawn (missing file, unknown format, missing library)."""


@dataclass(frozen=True)
class Picture:
    """A PNG and its size."""

    png: bytes
    width: int
    height: int


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise RenderError(f"the file {path!r} is not readable ({exc.strerror or exc})") from None
    return st.st_size, st.st_mtime_ns


def picture(output: Output, size: str) -> Picture:
    """The output drawn as a PNG whose longest side is at most ``SIZES[size]``."""
    if size not in SIZES:
        raise InvalidArgumentError(f"unknown picture size {size!r}; valid sizes: {sorted(SIZES)}")
    if output.path is None or output.kind not in (OutputKind.IMAGE, OutputKind.MAP, OutputKind.CURVE):
        raise RenderError(f"output {output.label!r} ({output.kind.value}) has no picture")
    size_bytes, mtime = _stamp(output.path)
    return _picture(output.path, output.kind.value, output.label, output.unit, SIZES[size], size_bytes, mtime)


@functools.lru_cache(maxsize=256)
def _picture(path: str, kind: str, label: str, unit: str | None, px: int, _size: int, _mtime: int) -> Picture:
    if kind == "image":
        return _scaled_image(path, px)
    if kind == "map":
        return _montage(path, label, unit, px)
    return _curve(path, label, unit, px)


def _figure(width_px: int, height_px: int) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RenderError("drawing maps and curves needs matplotlib (pip install matplotlib)") from None
    dpi = 100
    return Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)


def _png(fig: Any) -> Picture:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    width, height = (round(float(v)) for v in fig.get_size_inches() * fig.dpi)
    return Picture(buf.getvalue(), width, height)


def _scaled_image(path: str, px: int) -> Picture:
    if not path.lower().endswith(".png"):
        raise RenderError(f"only PNG figures are shown, not {Path(path).name!r}")
    try:
        from matplotlib import image as mpimg
    except ImportError:
        raise RenderError("showing figures needs matplotlib (pip install matplotlib)") from None
    data = mpimg.imread(path)
    height, width = data.shape[:2]
    scale = min(1.0, px / max(height, width))
    if scale == 1.0:
        return Picture(Path(path).read_bytes(), width, height)
    step = max(1, math.ceil(1 / scale))  # nearest-neighbour by striding: cheap and exact enough
    small = data[::step, ::step]
    buf = io.BytesIO()
    mpimg.imsave(buf, small, format="png")
    return Picture(buf.getvalue(), small.shape[1], small.shape[0])


def _volume(path: str) -> Any:
    try:
        import nibabel
        import numpy as np
    except ImportError:
        raise RenderError("drawing NIfTI maps needs nibabel (pip install nibabel)") from None
    try:
        data = np.asanyarray(nibabel.load(path).dataobj, dtype=np.float32)  # type: ignore[attr-defined]
    except Exception as exc:  # nibabel raises many kinds on a file that is not NIfTI
        raise RenderError(f"{Path(path).name!r} is not a readable NIfTI file ({exc})") from None
    if data.ndim == 4:  # a series: its mean over time
        data = data.mean(axis=3)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3:
        raise RenderError(f"{Path(path).name!r} has {data.ndim} dimensions; maps of 2 to 4 are drawn")
    return data


def _montage(path: str, label: str, unit: str | None, px: int) -> Picture:
    import numpy as np

    data = _volume(path)
    depth = data.shape[2]
    count = min(MONTAGE_SLICES, depth)
    middle = depth // 2
    first = max(0, min(depth - count, middle - count // 2))
    slices = [np.rot90(data[:, :, z]) for z in range(first, first + count)]
    finite = data[np.isfinite(data)]
    nonzero = finite[finite != 0]
    lo, hi = np.percentile(nonzero, (2, 98)) if nonzero.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    cols = math.ceil(math.sqrt(count))  # 4 slices: 2 x 2, 6: 3 x 2
    rows = math.ceil(count / cols)
    fig = _figure(px, max(1, int(px * rows / cols * slices[0].shape[0] / slices[0].shape[1])) + 28)
    top = 1 - 24 / fig.get_figheight() / fig.dpi
    for i, image in enumerate(slices):
        ax = fig.add_axes((i % cols / cols, top * (1 - (i // cols + 1) / rows), 1 / cols, top / rows))
        ax.imshow(image, cmap="gray" if "dce" in label else "viridis", vmin=lo, vmax=hi)
        ax.set_axis_off()
    scale = f"{lo:.3g} to {hi:.3g}" + (f" {unit}" if unit else "")
    fig.text(0.01, 0.99, f"z {first + 1}-{first + count}/{depth} · {scale}", va="top", fontsize=6)
    fig.patch.set_facecolor("white")
    return _png(fig)


def _curve_values(path: str) -> tuple[Any, Any, str]:
    import numpy as np

    if path.endswith(".npy"):
        values = np.load(path, allow_pickle=False)
    elif path.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or "values" not in data:
            raise RenderError(f"{Path(path).name!r} has no 'values' list (and optional 'time')")
        if "time" in data:
            values = np.array([data["time"], data["values"]], dtype=float)
        else:
            values = np.asarray(data["values"], dtype=float)
    else:
        raise RenderError(f"a curve is a .npy or .json file, not {Path(path).name!r}")
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return np.arange(values.size), values, "frame"
    if values.ndim == 2 and values.shape[0] == 2:
        return values[0], values[1], "time (s)"
    raise RenderError(
        f"{Path(path).name!r} holds an array of shape {values.shape}; a curve is (n,) or (2, n)"
    )


def _curve(path: str, label: str, unit: str | None, px: int) -> Picture:
    x, y, x_label = _curve_values(path)
    fig = _figure(px, int(px * 0.6))
    ax = fig.add_axes((0.16, 0.2, 0.8, 0.7))
    ax.plot(x, y, color="#c0392b", linewidth=1.2)
    ax.set_xlabel(x_label, fontsize=7)
    ax.set_title(label + (f" ({unit})" if unit else ""), fontsize=8)
    ax.tick_params(labelsize=6)
    fig.patch.set_facecolor("white")
    return _png(fig)


def table(output: Output) -> TableText:
    """A table output's rows as text: ``{"columns": [...], "rows": [[...]], "truncated": bool}``."""
    if output.kind is not OutputKind.TABLE or output.path is None:
        raise RenderError(f"output {output.label!r} ({output.kind.value}) is not a table")
    size, mtime = _stamp(output.path)
    if size > MAX_TABLE_BYTES:
        raise RenderError(
            f"{Path(output.path).name!r} is {size:,} bytes; tables up to {MAX_TABLE_BYTES:,} are shown"
        )
    return _table(output.path, size, mtime)


@functools.lru_cache(maxsize=64)
def _table(path: str, _size: int, _mtime: int) -> TableText:
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        columns = next(reader, [])
        rows: list[list[str]] = []
        truncated = False
        for row in reader:
            if len(rows) == MAX_TABLE_ROWS:
                truncated = True
                break
            rows.append([_cell(v) for v in row])
    return {"columns": columns, "rows": rows, "truncated": truncated}


def _cell(text: str) -> str:
    """A number to 4 significant digits (tables of fits carry 17), anything else as it is."""
    try:
        value = float(text)
    except ValueError:
        return text
    if text.strip().lstrip("-").isdigit():
        return text.strip()
    return "—" if math.isnan(value) else f"{value:.4g}"
