"""The real p-brain pipeline on p-brain's own synthetic phantom, through the engine."""

from __future__ import annotations

import json
import sys

import pytest
from runner_helpers import project

from pbrain_widgets import InvalidArgumentError, JobStatus, LogLevel, OutputKind, StageStatus
from pbrain_widgets.runners.pbrain import (
    PHANTOM_FILES,
    PHANTOM_OPTIONS,
    PbrainNotInstalledError,
    make_phantom_subjects,
    pbrain_pipeline,
)

# Patlak only, and the two diffusion models that take seconds (with dipy, DKI and its kin take
# minutes here): the same stages and code paths as the demo, a fraction of its CPU time.
FAST_PHANTOM = {**PHANTOM_OPTIONS, "kinetic_models": ("patlak",), "diffusion_models": ("dti", "rsi")}


@pytest.mark.timeout(600)  # real p-brain: under a minute idle, a few when the machine is loaded
async def test_a_phantom_subject_through_every_stage(make_engine, tmp_path):
    from pbrain.stages import default_stages

    [folder] = make_phantom_subjects(tmp_path, 1)
    pipeline = pbrain_pipeline(**FAST_PHANTOM)
    assert [(s.id, s.depends_on) for s in pipeline] == [(s.name, tuple(s.requires)) for s in default_stages()]
    engine = make_engine(max_concurrent=2)
    p, [subject] = project(engine, [{"name": folder.name, "source_path": folder}], pipeline)
    statuses = []
    engine.on_status_update(lambda u: statuses.append((u.stage_id, u.status)))
    jobs = await engine.wait(engine.run_pipeline(p.id), timeout=240)
    failed = {j.stage_id: j.error for j in jobs if j.status is not JobStatus.COMPLETED}
    assert failed == {}
    assert set(engine.get_subject(subject.id).stage_statuses.values()) == {StageStatus.DONE}
    for stage in pipeline.stage_ids:
        assert (stage, StageStatus.RUNNING) in statuses
    logs = {j.stage_id: engine.get_logs(j.id) for j in jobs}
    messages = {stage: [e.message for e in entries] for stage, entries in logs.items()}
    assert any(m.startswith("load: reading DCE dce.nii.gz") for m in messages["load"])
    assert any(m.startswith("kinetic: fitting patlak") for m in messages["kinetic"])
    assert "load: reusing its result (cached manifest)" in messages["kinetic"]
    manifest = json.loads((folder / "derivatives" / "07_kinetic" / "multi" / "manifest.json").read_text())
    assert manifest["qc"]["status"] in ("pass", "warn")
    kinetic = next(j for j in jobs if j.stage_id == "kinetic")
    assert kinetic.peak_memory_rss > 50_000_000

    # each stage's manifest became its job's outputs: files, p-brain's QC verdict and times
    outputs = {j.stage_id: engine.get_outputs(j.id) for j in jobs}
    for stage, reported in outputs.items():
        verdicts = [o.value for o in reported if o.kind is OutputKind.QC and o.label == "p-brain QC"]
        assert len(verdicts) == 1 and verdicts[0] in ("pass", "warn"), (stage, verdicts)
        assert any(o.label == "p-brain run time" and o.unit == "s" for o in reported), stage
    kinetic_out = {o.label: o for o in outputs["kinetic"]}
    assert kinetic_out["patlak/ki"].kind is OutputKind.MAP
    assert kinetic_out["patlak/ki"].unit == "mL/100g/min"
    assert kinetic_out["patlak/ki"].path == str(folder / "derivatives/07_kinetic/patlak/voxelwise/ki.nii.gz")
    assert kinetic_out["cnr median"].value == pytest.approx(manifest["qc"]["cnr"]["median"])
    summary = {o.label: o for o in outputs["summary"]}
    assert summary["kinetic/patlak/region/ki_csv"].kind is OutputKind.TABLE
    diagnostics = {o.label: o for o in outputs["diagnostics"]}
    assert diagnostics["montage/kinetic/patlak/ki/voxel"].kind is OutputKind.IMAGE
    assert {o.label: o.kind for o in outputs["aif"]}["aif_signal"] is OutputKind.CURVE

    # diffusion with dipy (pbrain-widgets[pbrain] depends on p-brain[diffusion]): DTI's maps;
    # without it the models fail softly, and the stage says so with a warn verdict
    diffusion = {o.label: o for o in outputs["diffusion"]}
    if _importable("dipy"):
        assert diffusion["dti/native/fa"].kind is OutputKind.MAP
        assert diffusion["p-brain QC"].value == "pass"
    else:
        assert any(e.level is LogLevel.WARNING and "dipy" in e.message for e in logs["diffusion"])
        assert diffusion["models without results"].value == "dti"
        assert diffusion["p-brain QC"].value == "warn"

    # a re-run of one stage recomputes it from its upstream results
    [again] = await engine.wait([engine.run_stage(p.id, subject.id, "tissue_roi")], timeout=60)
    assert again.status is JobStatus.COMPLETED
    assert any(m.startswith("tissue_roi: preloaded") for m in (e.message for e in engine.get_logs(again.id)))


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


async def test_a_stage_without_its_upstream_results_fails_clearly(make_engine, tmp_path):
    [folder] = make_phantom_subjects(tmp_path, 1)
    engine = make_engine()
    p, [subject] = project(engine, [{"name": "x", "source_path": folder}], pbrain_pipeline(**FAST_PHANTOM))
    job = engine.run_stage(p.id, subject.id, "t1_m0", run_dependencies=False)
    [job] = await engine.wait([job], timeout=60)
    assert job.status is JobStatus.FAILED
    assert job.error.startswith("upstream stage 'load' has no completed result for 'x'")


async def test_a_subject_without_a_folder_fails_clearly(make_engine):
    engine = make_engine()
    p, [subject] = project(engine, ["nofolder"], pbrain_pipeline(**FAST_PHANTOM))
    [job] = await engine.wait([engine.run_stage(p.id, subject.id, "load")], timeout=60)
    assert job.error == "subject 'nofolder' has no source folder; p-brain needs one (source_path)"


def test_make_phantom_subjects_writes_and_keeps_folders(tmp_path):
    folders = make_phantom_subjects(tmp_path / "cohort", 2, prefix="sub")
    assert [f.name for f in folders] == ["sub-01", "sub-02"]
    for folder in folders:
        assert all((folder / name).is_file() for name in PHANTOM_FILES.values())
    stamp = (folders[0] / "dce.nii.gz").stat().st_mtime_ns
    assert make_phantom_subjects(tmp_path / "cohort", 3, prefix="sub")[:2] == folders
    assert (folders[0] / "dce.nii.gz").stat().st_mtime_ns == stamp
    with pytest.raises(InvalidArgumentError, match="count"):
        make_phantom_subjects(tmp_path, 0)


def test_bad_options_name_what_is_valid():
    with pytest.raises(InvalidArgumentError, match=r"unknown p-brain option\(s\) \['aif'\].*aif_extractor"):
        pbrain_pipeline(aif="from_file")
    with pytest.raises(InvalidArgumentError, match="plugin_options"):
        pbrain_pipeline(plugin_options={"aif.from_file": "mask.nii.gz"})


def test_without_pbrain_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pbrain", None)
    with pytest.raises(PbrainNotInstalledError, match=r"pip install 'pbrain-widgets\[pbrain\]'"):
        pbrain_pipeline()
    with pytest.raises(ImportError, match="pbrain-widgets"):
        make_phantom_subjects("/tmp/never-written", 1)
