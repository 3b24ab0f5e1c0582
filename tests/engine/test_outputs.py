"""Job outputs and QC ratings: reported, checked, stored, kept across engines, migrated."""

from __future__ import annotations

import sqlite3

import pytest

from pbrain_widgets import (
    Engine,
    InvalidArgumentError,
    JobContext,
    JobStatus,
    OutputKind,
    Pipeline,
    QcRating,
    Runner,
    Stage,
    StoreVersionError,
)
from pbrain_widgets.engine.store import SCHEMA_VERSION

PIPE = Pipeline([Stage("fit"), Stage("report", depends_on=("fit",))], name="fit-report")


class MapRunner(Runner):
    """Writes a map and a figure into the subject's folder and reports them with a metric."""

    async def run(self, ctx: JobContext) -> None:
        assert ctx.subject_dir is not None
        (ctx.subject_dir / "ki.nii.gz").write_bytes(b"not really a volume")
        ctx.output("ki.nii.gz", label="Ki", group="patlak")
        ctx.output(ctx.subject_dir / "montage.png")
        ctx.output(kind="value", label="CNR median", value=4.25, unit="a.u.")
        ctx.output(kind="qc", label="p-brain QC", value="warn")


def _project(engine: Engine, tmp_path, names=("s1",)):
    project = engine.create_project("study", pipeline=PIPE)
    for name in names:
        (tmp_path / name).mkdir()
    subjects = engine.add_subjects(project.id, [{"name": n, "source_path": str(tmp_path / n)} for n in names])
    return project, subjects


async def test_outputs_are_stored_with_the_job_and_survive_a_new_engine(tmp_path):
    db = tmp_path / "e.sqlite"
    engine = Engine(db, runner=MapRunner())
    project, (subject,) = _project(engine, tmp_path)
    seen = []
    engine.on_output(seen.append)
    job = engine.run_stage(project.id, subject.id, "fit")
    await engine.wait()
    assert engine.get_job(job.id).status is JobStatus.COMPLETED
    outputs = engine.get_outputs(job.id)
    assert [(o.index, o.kind, o.label) for o in outputs] == [
        (0, OutputKind.MAP, "Ki"),
        (1, OutputKind.IMAGE, "montage.png"),
        (2, OutputKind.VALUE, "CNR median"),
        (3, OutputKind.QC, "p-brain QC"),
    ]
    assert outputs[0].path == str(tmp_path / "s1" / "ki.nii.gz") and outputs[0].group == "patlak"
    assert (outputs[2].value, outputs[2].unit, outputs[2].path) == (4.25, "a.u.", None)
    assert seen == outputs
    engine.close()
    with Engine(db) as again:
        assert again.get_outputs(job.id) == outputs


async def test_a_bad_output_fails_the_job_naming_the_value(engine, tmp_path):
    class Bad(Runner):
        async def run(self, ctx: JobContext) -> None:
            ctx.output(kind="qc", label="verdict", value="maybe")

    engine.runner = Bad()
    project, (subject,) = _project(engine, tmp_path)
    job = engine.run_stage(project.id, subject.id, "fit")
    await engine.wait()
    failed = engine.get_job(job.id)
    assert failed.status is JobStatus.FAILED
    assert "'maybe'" in failed.error and "pass" in failed.error
    assert engine.get_outputs(job.id) == []


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"kind": "picture", "path": "a.png"}, "'picture'"),
        ({"kind": "map"}, "needs a file path"),
        ({"path": "a.png", "value": 3}, "not a value"),
        ({"kind": "value", "label": "x", "value": float("nan")}, "finite"),
        ({"kind": "value", "label": "x", "value": [1, 2]}, "[1, 2]"),
        ({"kind": "value", "value": 1}, "needs a label"),
        ({"path": "a.png", "label": ""}, "label"),
    ],
)
def test_output_checks_name_the_bad_value(kwargs, named, tmp_path):
    from pbrain_widgets.engine.runner import check_output

    with pytest.raises(InvalidArgumentError, match=None) as info:
        check_output("j", 0, tmp_path, **kwargs)
    assert named in str(info.value)


def test_a_relative_output_path_needs_a_subject_folder():
    from pbrain_widgets.engine.runner import check_output

    with pytest.raises(InvalidArgumentError, match="relative"):
        check_output("j", 0, None, "maps/ki.nii.gz")
    assert check_output("j", 0, None, "/x/ki.nii.gz").kind is OutputKind.MAP


async def test_qc_ratings_are_kept_listed_exported_and_checked(tmp_path):
    db = tmp_path / "e.sqlite"
    engine = Engine(db)
    project, subjects = _project(engine, tmp_path, ("s1", "s2", "s3"))
    events = []
    engine.on_qc(events.append)
    engine.set_qc(subjects[0].id, "fit", "pass")
    engine.set_qc(subjects[1].id, "fit", QcRating.FAIL, "AIF from a vein\tnot an artery")
    engine.set_qc(subjects[2].id, "fit", "fail")
    engine.set_qc(subjects[2].id, "fit", None)  # forgotten
    assert [e[2] is None for e in events] == [False, False, False, True]
    with pytest.raises(InvalidArgumentError, match="'maybe'"):
        engine.set_qc(subjects[0].id, "fit", "maybe")
    with pytest.raises(InvalidArgumentError, match="note"):
        engine.set_qc(subjects[0].id, "fit", "pass", "x" * 3000)
    with pytest.raises(KeyError, match="'nope'"):
        engine.set_qc(subjects[0].id, "nope", "pass")
    table = engine.qc_table(project.id)
    assert list(table["subject"]) == ["s1", "s2"] and list(table["rating"]) == ["pass", "fail"]
    tsv = engine.export_qc(tmp_path / "out" / "exclusions.tsv", project.id)
    lines = tsv.read_text().splitlines()
    assert lines[0].split("\t") == ["subject", "subject_id", "stage_id", "rating", "note", "rated_at"]
    assert len(lines) == 2 and lines[1].startswith(f's2\t{subjects[1].id}\tfit\tfail\t"AIF from a vein')
    engine.close()
    with Engine(db) as again:
        assert {(e.subject_id, e.rating.value) for e in again.get_qc(project.id)} == {
            (subjects[0].id, "pass"),
            (subjects[1].id, "fail"),
        }


async def test_a_database_from_before_outputs_opens_and_gains_them(tmp_path):
    db = tmp_path / "old.sqlite"
    engine = Engine(db, runner=MapRunner())  # the default runner fails 5 % of its jobs at random
    project, (subject,) = _project(engine, tmp_path)
    job = engine.run_stage(project.id, subject.id, "fit")
    await engine.wait()
    engine.close()
    # the layout of version 0: no outputs, no qc_ratings, user_version 0
    with sqlite3.connect(db) as con:
        con.executescript("DROP TABLE outputs; DROP TABLE qc_ratings; PRAGMA user_version = 0;")
    con.close()
    with Engine(db, runner=MapRunner()) as again:
        assert again.get_job(job.id).status is JobStatus.COMPLETED
        assert again.get_outputs(job.id) == []
        again.set_qc(subject.id, "fit", "fail")
        new = again.run_stage(project.id, subject.id, "fit", rerun_done=True)
        await again.wait()
        assert len(again.get_outputs(new.id)) == 4
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    Engine(db).close()
    with sqlite3.connect(db) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreVersionError, match=f"layout version {SCHEMA_VERSION + 1}"):
        Engine(db)
