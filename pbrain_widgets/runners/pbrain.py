"""The real p-brain pipeline (PyPI ``p-brain``, import ``pbrain``) as a pbrain-widgets Pipeline.

One job runs one p-brain stage for one subject, in a warm worker process
(:class:`~pbrain_widgets.runners.function.FunctionRunner`), with p-brain's own orchestrator:
``pbrain.core.Pipeline(stages=[upstream..., stage]).run(subject_dir, config)``. p-brain stages
share data only through ``manifest.json`` files under ``<subject>/derivatives/``; the upstream
stages, already done by their own jobs, are reused from their manifests ("skip (cached)"), and
the job's stage always recomputes. p-brain's ``logging`` records (``pbrain.*``) land in the
job's log; the latest one is shown as the job's current step.

When the stage has run, its manifest becomes the job's outputs (:func:`report_manifest`): each
file it lists (maps, figures, tables, the AIF curve), p-brain's ``qc`` verdict and checks, and
p-brain's own start / finish times.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..engine.pipeline import Pipeline, Stage
from ..errors import InvalidArgumentError, JobFailed, PbrainWidgetsError, check_count
from .function import FunctionRunner

INSTALL_HINT = "pip install 'pbrain-widgets[pbrain]'"

STAGE_LABELS = {
    "load": "Load inputs",
    "t1_m0": "T1/M0 fitting",
    "signal_to_conc": "Signal to concentration",
    "aif": "Arterial input function",
    "tissue_roi": "Tissue ROIs",
    "normalisation": "Normalisation",
    "kinetic": "Kinetic modelling",
    "diffusion": "Diffusion models",
    "summary": "Summary",
    "diagnostics": "Diagnostics",
}
"""Display labels of p-brain's built-in stages (other stages get one from their name)."""

PHANTOM_FILES = {
    "dce": "dce.nii.gz",
    "ir": "ir.nii.gz",
    "t1_anatomical": "t1.nii.gz",
    "dwi": "dwi.nii.gz",
    "bvals": "dwi.bval",
    "bvecs": "dwi.bvec",
}

PHANTOM_OPTIONS: dict[str, Any] = {
    "inputs": PHANTOM_FILES,
    "aif_extractor": "from_file",
    "tissue_roi_provider": "preloaded",
    "kinetic_models": ("patlak", "tikhonov"),
    "diffusion_models": ("dti", "dki", "dki_micro", "csd", "fwdti", "rsi"),
    "analysis_levels": ("voxelwise", "parcel", "region", "slice_wise"),
    "plugin_options": {
        "aif.from_file": {"mask_path": "{subject_dir}/vessel_mask.nii.gz"},
        "tissue_roi.preloaded": {"parcellation_path": "{subject_dir}/labels.nii.gz"},
    },
}
"""Options for subjects made by :func:`make_phantom_subjects`: the settings of
``python -m pbrain.demo`` (AIF from the vessel mask, the phantom's own label map, the diffusion
models p-brain picks for its two-shell DWI)."""

_RUNNER_OPTIONS = {"max_idle_workers", "log_level", "threads"}
_SET_BY_RUNNER = {"subject_id", "data_root"}


class PbrainNotInstalledError(PbrainWidgetsError, ImportError):
    """The optional p-brain package is not installed."""


def _require_pbrain() -> None:
    try:
        import pbrain  # noqa: F401
    except ImportError as exc:
        raise PbrainNotInstalledError(
            f"the p-brain package is not installed ({exc}); install it with: {INSTALL_HINT}"
        ) from None


def _config_fields() -> dict[str, dataclasses.Field[Any]]:
    from pbrain.core.config import Config

    return {f.name: f for f in dataclasses.fields(Config) if f.name not in _SET_BY_RUNNER}


def pbrain_pipeline(**options: Any) -> Pipeline:
    """p-brain's own stages and dependencies as a Pipeline whose jobs run real p-brain code.

    Options are fields of p-brain's ``Config`` (``aif_extractor``, ``tissue_roi_provider``,
    ``kinetic_models``, ``diffusion_models``, ``plugin_options``, ``device``...), plus:

    - ``inputs``: input files by p-brain key (``dce``, ``ir``, ``t1_anatomical``, ``dwi``,
      ``bvals``, ``bvecs``), relative to the subject's folder or absolute;
    - ``max_idle_workers``, ``log_level`` and ``threads``: passed to the
      :class:`~pbrain_widgets.runners.function.FunctionRunner` that runs the stages;
      ``threads`` is the BLAS / OpenMP threads of each worker (default:
      ``max(1, cores // max_concurrent)`` unless ``OMP_NUM_THREADS``... are set in the kernel's
      environment), so that the p-brain jobs running at once share the cores.

    ``{subject_dir}`` and ``{subject}`` in input paths and in string plug-in options are
    filled per subject. Each subject needs a source folder (``source_path``); outputs go to its
    ``derivatives/``. For phantom subjects use ``pbrain_pipeline(**PHANTOM_OPTIONS)``.
    """
    _require_pbrain()
    from pbrain.stages import default_stages

    fields = _config_fields()
    valid = sorted({*fields, "inputs", *_RUNNER_OPTIONS})
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InvalidArgumentError(f"unknown p-brain option(s) {unknown}; valid options: {valid}")
    runner_options = {k: options.pop(k) for k in _RUNNER_OPTIONS if k in options}
    inputs = options.pop("inputs", {}) or {}
    if not isinstance(inputs, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (str, os.PathLike)) for k, v in inputs.items()
    ):
        raise InvalidArgumentError(f"inputs must map p-brain input keys to paths, got {inputs!r}")
    plugin_options = options.get("plugin_options", {}) or {}
    if not isinstance(plugin_options, Mapping) or not all(
        isinstance(v, Mapping) for v in plugin_options.values()
    ):
        raise InvalidArgumentError(
            f"plugin_options must map '<plug-point>.<plugin>' to a dict of options, got {plugin_options!r}"
        )
    options["plugin_options"] = {
        **{k: dict(v) for k, v in plugin_options.items()},
        "inputs.paths": {**plugin_options.get("inputs.paths", {}), **{k: str(v) for k, v in inputs.items()}},
    }
    for key in ("kinetic_models", "diffusion_models", "analysis_levels", "inversion_times_ms"):
        if key in options:
            value = options[key]
            options[key] = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
    runner = FunctionRunner(
        run_pbrain_stage,
        kwargs={"options": options},
        preload=("pbrain.core", "pbrain.stages"),
        **runner_options,
    )
    stages = [
        Stage(s.name, STAGE_LABELS.get(s.name, ""), tuple(s.requires), runner=runner)
        for s in default_stages()
    ]
    return Pipeline(stages, name="p-brain")


def _fill(value: Any, subject_dir: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{subject_dir}", str(subject_dir)).replace("{subject}", subject_dir.name)
    return value


def _config(subject_dir: Path, options: Mapping[str, Any]) -> Any:
    from pbrain.core import Config

    plugin_options = {
        group: {k: _fill(v, subject_dir) for k, v in values.items()}
        for group, values in options["plugin_options"].items()
    }
    paths = plugin_options["inputs.paths"]
    for key, value in paths.items():
        path = Path(value)
        paths[key] = str(path if path.is_absolute() else subject_dir / path)
    fields = {k: v for k, v in options.items() if k != "plugin_options"}
    return Config(
        **fields,
        plugin_options=plugin_options,
        subject_id=subject_dir.name,
        data_root=subject_dir.parent,
    )


_CURVES = {"aif_signal", "aif_normalised"}
"""Manifest outputs that are time curves (one value per DCE frame), shown as plots."""


def _qc_checks(qc: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str | None, float | None]]:
    """``(check name, its status, its median)`` of each check nested in a manifest's ``qc``."""
    for key, value in qc.items():
        if not isinstance(value, Mapping):
            continue
        name = f"{prefix}{key}"
        if key in ("per_model", "maps"):
            yield from _qc_checks(value, prefix)
            continue
        status = value.get("status")
        median = value.get("median")
        yield (
            name,
            status if status in ("pass", "warn", "fail") else None,
            float(median) if isinstance(median, (int, float)) and not isinstance(median, bool) else None,
        )
        yield from _qc_checks(value, f"{name}/")


def _unit(metadata: Mapping[str, Any], key: str) -> str | None:
    model, _, name = key.rpartition("/")
    units = (metadata.get("per_model") or {}).get(model.split("/")[0], {}).get("units", {})
    unit = units.get(name)
    return unit if isinstance(unit, str) and unit else None


def report_manifest(ctx: Any, manifest: Mapping[str, Any]) -> None:
    """Report a finished stage's manifest as the job's outputs (``ctx.output``).

    Every listed file that exists (kind from its name; the AIF's ``.npy`` curves as ``curve``),
    grouped by the first part of its key (``patlak``, ``montage``...), with its unit from the
    manifest's metadata; p-brain's ``qc`` status (``p-brain QC``), each nested check's status
    (``QC cnr``, ``QC patlak/ki``...) and median (``cnr median``...); p-brain's start and finish
    times and the run time between them.
    For the diffusion stage, the requested models that produced nothing are reported, and make
    the verdict a warning when p-brain's own says pass.
    """
    from ..engine.runner import kind_of_path

    stage = str(manifest.get("stage") or ctx.stage)
    metadata = manifest.get("metadata") or {}
    for key, value in (manifest.get("outputs") or {}).items():
        if not isinstance(value, str) or not Path(value).is_file():
            continue
        kind = "curve" if key in _CURVES else kind_of_path(value).value
        group = key.split("/")[0] if "/" in key else stage
        ctx.output(value, kind=kind, label=key, group=group, unit=_unit(metadata, key))
    qc = manifest.get("qc") or {}
    verdict = qc.get("status")
    missing = _missing_models(stage, metadata)
    if missing:
        requested = len(metadata.get("models") or [])
        ctx.warning(
            f"{stage}: {len(missing)} of {requested} models produced nothing ({', '.join(missing)}); "
            "see the warnings above"
        )
        ctx.output(kind="value", label="models without results", value=", ".join(missing), group="qc")
        if verdict == "pass":
            verdict = "warn"
    if verdict in ("pass", "warn", "fail"):
        ctx.output(kind="qc", label="p-brain QC", value=verdict, group="qc")
    for name, status, median in _qc_checks(qc):
        if status is not None:
            ctx.output(kind="qc", label=f"QC {name}", value=status, group="qc")
        if median is not None:
            ctx.output(
                kind="value", label=f"{name} median", value=median, group="qc", unit=_unit(metadata, name)
            )
    times = [manifest.get(k) for k in ("started_at", "finished_at")]
    for label, text in zip(("p-brain started", "p-brain finished"), times, strict=True):
        if isinstance(text, str) and text:
            ctx.output(kind="value", label=label, value=text, group="timing")
    with contextlib.suppress(TypeError, ValueError):
        took = datetime.fromisoformat(str(times[1])) - datetime.fromisoformat(str(times[0]))
        ctx.output(
            kind="value", label="p-brain run time", value=took.total_seconds(), unit="s", group="timing"
        )


def _missing_models(stage: str, metadata: Mapping[str, Any]) -> list[str]:
    """Models a diffusion stage was asked for that have no results in its manifest."""
    if stage != "diffusion":
        return []
    asked = [m for m in metadata.get("models") or [] if isinstance(m, str)]
    done = set(metadata.get("per_model") or {})
    return [m for m in asked if m not in done]


class _Reporter:
    """Receives p-brain's per-stage events and reports them on the job."""

    def __init__(self, ctx: Any, stage: str) -> None:
        self.ctx = ctx
        self.stage = stage

    def plan(self, rows: list[tuple[str, str]]) -> None:
        plugin = dict(rows).get(self.stage) or "default"
        self.ctx.progress(5, f"{self.stage} ({plugin})")

    def skip(self, name: str) -> None:
        self.ctx.debug(f"{name}: reusing its result (cached manifest)")

    def start(self, name: str) -> None:
        if name == self.stage:
            self.ctx.progress(10, f"running {name}")

    def end(self, name: str, status: str, seconds: float, detail: str = "") -> None:
        if status == "warn":
            self.ctx.warning(f"{name}: QC warning{': ' + detail if detail else ''}")
        elif status == "pass":
            self.ctx.progress(100, f"{name} done in {seconds:.1f} s")

    def aborted(self) -> None:
        self.ctx.warning(f"{self.stage}: stopped at an interactive review")


class _StepFromLog(logging.Handler):
    """Shows p-brain's latest INFO message as the job's current step."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(logging.INFO)
        self.ctx = ctx
        self.percent = 10.0

    def emit(self, record: logging.LogRecord) -> None:
        self.percent = min(90.0, self.percent + 5)
        self.ctx.progress(self.percent, record.getMessage()[:120])


def _fresh(stage: Any) -> Any:
    """A new stage object like ``stage`` (a dataclass is built anew, anything else copied)."""
    cls: Any = type(stage)
    return cls() if dataclasses.is_dataclass(stage) else copy.copy(stage)


def run_pbrain_stage(ctx: Any, options: Mapping[str, Any]) -> None:
    """Run the job's p-brain stage for its subject (in a worker; see the module docstring)."""
    if ctx.subject_dir is None:
        raise JobFailed(f"subject {ctx.subject!r} has no source folder; p-brain needs one (source_path)")
    if "matplotlib" not in sys.modules:
        os.environ["MPLBACKEND"] = "Agg"
    from pbrain.core import Pipeline as PbrainPipeline
    from pbrain.core.manifest import Manifest
    from pbrain.io.path_schemes import REGISTRY as PATH_SCHEMES
    from pbrain.stages import default_stages

    subject_dir = ctx.subject_dir
    config = _config(subject_dir, options)
    # Fresh stage objects: p-brain's stages set their plugin_key while running, which would move
    # the manifest paths of later jobs in this (reused) worker.
    stages: list[Any] = [_fresh(s) for s in default_stages()]
    by_name = {s.name: s for s in stages}
    needed = {ctx.stage}
    for stage in reversed(stages):
        if stage.name in needed:
            needed.update(stage.requires)
    chain = [s for s in stages if s.name in needed]
    scheme = PATH_SCHEMES[config.path_scheme]

    def manifest_path(name: str) -> Path:
        return Path(scheme.manifest_path(subject_dir, name, getattr(by_name[name], "plugin_key", "<stage>")))

    for stage in chain[:-1]:
        path = manifest_path(stage.name)
        status = None
        if path.exists():
            with contextlib.suppress(Exception):
                status = (Manifest.read(path).qc or {}).get("status")
        if status not in ("pass", "warn"):
            raise JobFailed(
                f"upstream stage {stage.name!r} has no completed result for {ctx.subject!r} "
                f"(no passing {path.name} in {path.parent}); run it first"
            )
    target = manifest_path(ctx.stage)
    target.unlink(missing_ok=True)
    step = _StepFromLog(ctx)
    logger = logging.getLogger("pbrain")
    logger.addHandler(step)
    try:
        PbrainPipeline(stages=chain, path_scheme=scheme).run(
            subject_dir, config, reporter=_Reporter(ctx, ctx.stage)
        )
    finally:
        logger.removeHandler(step)
    if not target.exists():
        raise JobFailed(f"p-brain stopped before {ctx.stage!r} finished (an interactive review was rejected)")
    report_manifest(ctx, json.loads(target.read_text()))


def make_phantom_subjects(
    directory: str | os.PathLike[str], count: int, prefix: str = "phantom"
) -> list[Path]:
    """Write ``count`` subject folders of p-brain's synthetic phantom into ``directory``.

    The phantom is the one ``python -m pbrain.demo`` builds (64x64x10 DCE with 250 frames, an
    inversion-recovery series, a two-shell DWI, a vessel mask and a label map, with known
    ground truth); it is generated once and copied. Folders that already hold it are kept.
    Returns the folders (``<directory>/<prefix>-01``...); run them with
    ``pbrain_pipeline(**PHANTOM_OPTIONS)``.
    """
    check_count("count", count, minimum=1)
    if not isinstance(prefix, str) or not prefix or "/" in prefix:
        raise InvalidArgumentError(f"prefix must be a non-empty name without '/', got {prefix!r}")
    _require_pbrain()
    root = Path(directory).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    folders = [root / f"{prefix}-{i:02d}" for i in range(1, count + 1)]
    todo = [f for f in folders if not all((f / name).exists() for name in PHANTOM_FILES.values())]
    if todo:
        from pbrain.demo.__main__ import _write_phantom

        with tempfile.TemporaryDirectory(prefix="pbrain-phantom-") as tmp:
            with contextlib.redirect_stdout(io.StringIO()):
                raw, _ = _write_phantom(Path(tmp))
            for folder in todo:
                folder.mkdir(exist_ok=True)
                for item in raw.iterdir():
                    shutil.copy2(item, folder / item.name)
    return folders
