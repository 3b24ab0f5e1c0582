"""Results of jobs in the widgets: outputs, pictures as binary buffers, tables, QC ratings and the
cohort QC review; each request scoped to its widget."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from pbrain_widgets import JobContext, Pipeline, Runner, Stage
from pbrain_widgets.widgets import ProjectDashboard, QcReview, SubjectDetail

PIPE = Pipeline([Stage("fit", "Fit"), Stage("report", "Report", ("fit",))], name="fit-report")
PNG = b"\x89PNG\r\n\x1a\n"


class MapsRunner(Runner):
    """Writes a real NIfTI map, a figure, a region table and a curve, and reports them."""

    async def run(self, ctx: JobContext) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import nibabel
        from matplotlib.figure import Figure

        folder = ctx.subject_dir
        assert folder is not None
        volume = np.arange(16 * 16 * 8, dtype=np.float32).reshape(16, 16, 8)
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), folder / "ki.nii.gz")
        fig = Figure(figsize=(6, 4), dpi=100)
        fig.add_subplot().plot([0, 1], [1, 0])
        fig.savefig(folder / "fit.png")
        (folder / "region.csv").write_text(
            "region,mean,n\ncortical_GM,0.20009286752231187,11496\n<b>WM</b>,nan,0\n"
        )
        np.save(folder / "aif.npy", np.exp(-np.linspace(0, 4, 50)))
        ctx.output("ki.nii.gz", label="patlak/ki", unit="mL/100g/min", group="patlak")
        ctx.output("fit.png", label="fit")
        ctx.output("region.csv", label="region/ki")
        ctx.output("aif.npy", kind="curve", label="aif")
        ctx.output(kind="qc", label="p-brain QC", value="warn")
        ctx.output(kind="value", label="CNR median", value=135.9)


@pytest.fixture
async def done(make_engine, tmp_path):
    """An engine whose two subjects' fit stage completed with outputs."""
    engine = make_engine(runner=MapsRunner())
    project = engine.create_project("maps", pipeline=PIPE)
    rows = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        rows.append({"name": name, "source_path": str(tmp_path / name)})
    subjects = engine.add_subjects(project.id, rows)
    jobs = await engine.wait([engine.run_stage(project.id, s.id, "fit") for s in subjects], timeout=60)
    assert all(j.status.value == "completed" for j in jobs), [j.error for j in jobs]
    return engine, project, subjects, jobs


async def test_a_subject_shows_its_outputs_pictures_and_tables(done, wire):
    engine, _, subjects, jobs = done
    w = wire(SubjectDetail(engine, subjects[0].id))
    rows = w.ok("outputs", {"job_id": jobs[0].id})["outputs"]
    assert [(r["kind"], r["label"], r["file"], r["exists"]) for r in rows[:4]] == [
        ("map", "patlak/ki", "ki.nii.gz", True),
        ("image", "fit", "fit.png", True),
        ("table", "region/ki", "region.csv", True),
        ("curve", "aif", "aif.npy", True),
    ]
    assert "/" not in json.dumps([r["file"] for r in rows if r["file"]])  # no folders sent
    for index in (0, 1, 3):  # a montage, a scaled figure, a plotted curve
        reply = await w.request_later("picture", {"job_id": jobs[0].id, "index": index, "size": "thumb"})
        assert reply["ok"], reply
        [png] = reply["buffers"]
        assert png.startswith(PNG)
        assert max(reply["result"]["width"], reply["result"]["height"]) <= 200
        assert "png" not in json.dumps(reply["result"]).lower().replace(
            "image/png", ""
        )  # bytes ride as buffers
    table = await w.request_later("table", {"job_id": jobs[0].id, "index": 2})
    assert table["result"] == {
        "columns": ["region", "mean", "n"],
        "rows": [["cortical_GM", "0.2001", "11496"], ["<b>WM</b>", "—", "0"]],
        "truncated": False,
    }
    bad = await w.request_later("picture", {"job_id": jobs[0].id, "index": 2, "size": "thumb"})
    assert not bad["ok"] and "has no picture" in bad["error"]


async def test_results_requests_are_scoped_and_checked(done, wire):
    engine, _, subjects, jobs = done
    w = wire(SubjectDetail(engine, subjects[0].id))
    other = w.request("outputs", {"job_id": jobs[1].id})
    assert not other["ok"] and "unknown here" in other["error"]
    assert not w.request("fidelity", {"subject_id": subjects[1].id})["ok"]
    wrong = w.request("picture", {"job_id": jobs[0].id, "index": 99, "size": "thumb"})
    assert not wrong["ok"] and "there is no output 99" in wrong["error"]
    size = w.request("picture", {"job_id": jobs[0].id, "index": 0, "size": "huge"})
    assert not size["ok"] and "'huge'" in size["error"]
    assert w.ok("fidelity", {"subject_id": subjects[0].id}) is None  # not a phantom


async def test_ratings_travel_to_every_widget_of_the_project(done, wire):
    engine, project, subjects, _ = done
    dashboard = wire(ProjectDashboard(engine, project.id))
    detail = wire(SubjectDetail(engine, subjects[1].id))
    assert dashboard.ok("snapshot")["parts"]["qc"] == {"ratings": {}}
    assert (
        detail.ok(
            "set_qc",
            {"subject_id": subjects[1].id, "stage_id": "fit", "rating": "fail", "note": "AIF in a vein"},
        )["rating"]
        == "fail"
    )
    refused = detail.request("set_qc", {"subject_id": subjects[0].id, "stage_id": "fit", "rating": "pass"})
    assert not refused["ok"] and "unknown here" in refused["error"]
    dashboard.widget.flush()
    [patch] = [p for p in dashboard.patches if "qc" in p["parts"]]
    assert patch["parts"]["qc"]["ratings"][subjects[1].id]["fit"]["note"] == "AIF in a vein"
    assert [e.rating.value for e in engine.get_qc(project.id)] == ["fail"]
    dashboard.ok("set_qc", {"subject_id": subjects[1].id, "stage_id": "fit", "rating": None})
    assert engine.get_qc(project.id) == []


async def test_the_qc_review_shows_each_subjects_output_and_exports_the_exclusions(done, wire):
    engine, project, subjects, jobs = done
    w = wire(QcReview(engine, project.id, "fit", output="patlak/ki"))
    review = w.ok("snapshot")["parts"]["review"]
    assert review["stage"] == {"id": "fit", "label": "Fit"}
    assert [(t["name"], t["job_id"], t["index"]) for t in review["tiles"]] == [
        ("a", jobs[0].id, 0),
        ("b", jobs[1].id, 0),
    ]
    assert review["labels"] == ["patlak/ki", "fit", "aif"]
    w.ok("set_qc", {"subject_id": subjects[0].id, "stage_id": "fit", "rating": "pass"})
    w.ok("set_qc", {"subject_id": subjects[1].id, "stage_id": "fit", "rating": "fail", "note": "motion"})
    tsv = w.ok("export_qc", {"only_failed": True})["tsv"].splitlines()
    assert len(tsv) == 2 and tsv[1].startswith(f"b\t{subjects[1].id}\tfit\tfail\tmotion\t")
    assert len(w.ok("export_qc", {"only_failed": False})["tsv"].splitlines()) == 3
    none = wire(QcReview(engine, project.id, "report")).ok("snapshot")["parts"]["review"]
    assert [t["job_id"] for t in none["tiles"]] == [None, None]
    # another project's jobs and subjects are out of its reach
    other = engine.create_project("other", pipeline=PIPE)
    [stranger] = engine.add_subjects(
        other.id, [{"name": "c", "source_path": engine.get_subject(subjects[0].id).source_path}]
    )
    [theirs] = await engine.wait([engine.run_stage(other.id, stranger.id, "fit")], timeout=60)
    for action, payload in (
        ("outputs", {"job_id": theirs.id}),
        ("table", {"job_id": theirs.id, "index": 2}),
        ("set_qc", {"subject_id": stranger.id, "stage_id": "fit", "rating": "fail"}),
    ):
        reply = w.request(action, payload)
        assert not reply["ok"] and "unknown here" in reply["error"], (action, reply)
    assert engine.get_qc(other.id) == []


def test_a_montage_spans_the_middle_slices_with_its_scale(tmp_path):
    import nibabel

    from pbrain_widgets.engine import Output, OutputKind
    from pbrain_widgets.widgets.render import picture

    volume = np.zeros((8, 8, 20), dtype=np.float32)
    volume[:, :, 7:13] = 5.0
    path = tmp_path / "m.nii.gz"
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
    made = picture(Output("j", 0, OutputKind.MAP, "m", str(path), unit="ms"), "full")
    assert made.png.startswith(PNG) and made.width == 900
    from matplotlib import image

    pixels = image.imread(io.BytesIO(made.png))
    assert pixels.shape[:2] == (made.height, made.width)
