"""Fidelity on p-brain's synthetic phantom: fitted values per tissue beside the phantom's truth.

:func:`~pbrain_widgets.runners.pbrain.make_phantom_subjects` writes ``truth.json`` with the true
T1, M0, Ki, vp... of each tissue label. This module reads what p-brain fitted (its region tables
``07_kinetic/<model>/region/{ki,vb}.csv`` and the T1 map ``02_t1m0/<fitter>/t1_map_ms.nii.gz``
inside each label of ``labels.nii.gz``) and sets it beside the truth, with the relative error.

What is compared, and whether it is the same quantity:

- **T1** (ms): the median of p-brain's T1 map over the label's voxels, against ``T1_ms``.
- **Ki** (mL/100 g/min): p-brain's region median (its metadata gives the unit mL/100g/min)
  against ``ki_mL_per_100g_min``: the same name and unit.
- **vb / vp**: p-brain's Patlak ``vb`` (mL/100 g) against ``vp_fraction`` x 100. These are the
  same quantity only if p-brain's intercept is a plasma volume and tissue density is 1 g/mL;
  the row says so (``note``) rather than hide it.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError

VB_NOTE = "p-brain's vb (mL/100g) vs truth vp_fraction x 100: equal only if vb is plasma volume at 1 g/mL"


@dataclass(frozen=True)
class FidelityRow:
    """One tissue's fitted value of one quantity beside the phantom's truth."""

    tissue: str
    quantity: str
    unit: str
    true: float
    fitted: float | None
    model: str = ""
    note: str = ""

    @property
    def relative_error(self) -> float | None:
        """``(fitted - true) / true`` (``None`` without a fitted value or for a true 0)."""
        if self.fitted is None or self.true == 0 or not math.isfinite(self.fitted):
            return None
        return (self.fitted - self.true) / self.true

    def to_dict(self) -> dict[str, Any]:
        return {
            "tissue": self.tissue,
            "quantity": self.quantity,
            "model": self.model,
            "unit": self.unit,
            "true": self.true,
            "fitted": self.fitted,
            "relative_error": self.relative_error,
            "note": self.note,
        }


def has_truth(subject_dir: str | Path | None) -> bool:
    """Whether a subject's folder is a phantom (holds ``truth.json``)."""
    return subject_dir is not None and (Path(subject_dir) / "truth.json").is_file()


def _region_medians(path: Path) -> dict[str, float]:
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                value = float(row["median"])
            except (KeyError, TypeError, ValueError):
                continue
            if math.isfinite(value):
                out[row.get("region", "")] = value
    return out


def _t1_medians(subject_dir: Path, labels: list[str]) -> dict[str, float]:
    maps = sorted(subject_dir.glob("derivatives/02_t1m0/*/t1_map_ms.nii.gz"))
    label_file = subject_dir / "labels.nii.gz"
    if not maps or not label_file.is_file():
        return {}
    import nibabel
    import numpy as np

    t1: Any = np.asanyarray(nibabel.load(maps[0]).dataobj, dtype=np.float64)  # type: ignore[attr-defined]
    label_map: Any = np.asanyarray(nibabel.load(label_file).dataobj)  # type: ignore[attr-defined]
    out = {}
    for label in labels:
        values = t1[(label_map == int(label)) & np.isfinite(t1) & (t1 > 0)]
        if values.size:
            out[label] = float(np.median(values))
    return out


def phantom_fidelity(subject_dir: str | Path) -> list[FidelityRow]:
    """Per tissue and quantity: the phantom's true value, p-brain's fitted one, the relative
    error (see the module docstring). Quantities whose p-brain result is missing (a stage not
    run yet) have ``fitted=None``."""
    folder = Path(subject_dir)
    if not has_truth(folder):
        raise InvalidArgumentError(f"{str(folder)!r} holds no truth.json: it is not a phantom subject")
    truth = json.loads((folder / "truth.json").read_text())
    names: dict[str, str] = {k: v for k, v in truth.get("labels", {}).items() if k.isdigit()}
    tissues: dict[str, dict[str, float]] = truth.get("tissues", {})
    t1 = _t1_medians(folder, list(tissues))
    rows = []
    for label, values in tissues.items():
        name = names.get(label, label)
        rows.append(FidelityRow(name, "T1", "ms", values["T1_ms"], t1.get(label)))
    for model_dir in sorted(folder.glob("derivatives/07_kinetic/*/region")):
        model = model_dir.parent.name
        ki = _region_medians(model_dir / "ki.csv") if (model_dir / "ki.csv").is_file() else {}
        vb = _region_medians(model_dir / "vb.csv") if (model_dir / "vb.csv").is_file() else {}
        for label, values in tissues.items():
            name = names.get(label, label)
            if ki:
                rows.append(
                    FidelityRow(name, "Ki", "mL/100g/min", values["ki_mL_per_100g_min"], ki.get(name), model)
                )
            if vb:
                true_vb = values["vp_fraction"] * 100
                rows.append(FidelityRow(name, "vb", "mL/100g", true_vb, vb.get(name), model, VB_NOTE))
    return rows
