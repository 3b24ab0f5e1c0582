"""Run templates: saved in the store, listed, applied, deleted."""

from __future__ import annotations

import pytest
from cohort_helpers import ScriptRunner, setup

from pbrain_widgets import InvalidArgumentError
from pbrain_widgets.errors import UnknownTemplateError


async def test_template_round_trip(make_engine, tmp_path):
    db = tmp_path / "t.sqlite"
    runner = ScriptRunner()
    engine = make_engine(db, runner=runner)
    project, subjects = setup(engine, ["sub-01", "sub-02", "ctl-01"])
    saved = engine.save_template(
        "quick", stages=["b"], subjects="sub-*", max_concurrent=3, runner_options={"model": "patlak"}
    )
    assert saved.name == "quick" and saved.stages == ["b"]
    engine.close()
    engine = make_engine(db, runner=runner)
    (template,) = engine.list_templates()
    assert (template.name, template.subjects, template.max_concurrent) == ("quick", "sub-*", 3)
    assert template.runner_options == {"model": "patlak"}
    jobs = engine.run_pipeline(project.id, template="quick")
    # b and its dependency a, for the two subjects matching sub-*
    assert sorted((j.stage_id, j.subject_id) for j in jobs) == sorted(
        (st, subjects[n].id) for st in "ab" for n in ("sub-01", "sub-02")
    )
    assert engine.max_concurrent == 3
    await engine.wait(timeout=30)
    assert runner.options == [{"model": "patlak"}] * 4
    # names instead of a glob
    engine.save_template("one", subjects=["ctl-01"])
    jobs = engine.run_pipeline(project.id, template="one")
    assert {j.subject_id for j in jobs} == {subjects["ctl-01"].id} and len(jobs) == 3
    await engine.wait(timeout=30)
    engine.delete_template("quick")
    assert [t.name for t in engine.list_templates()] == ["one"]
    with pytest.raises(UnknownTemplateError, match="'quick'.*one"):
        engine.run_pipeline(project.id, template="quick")
    with pytest.raises(UnknownTemplateError):
        engine.delete_template("quick")


def test_template_checks_its_values(engine):
    with pytest.raises(InvalidArgumentError):
        engine.save_template("bad", max_concurrent=0)
    with pytest.raises(InvalidArgumentError):
        engine.save_template("bad/name")
    with pytest.raises(InvalidArgumentError):
        engine.save_template("bad", subjects=[1, 2])
    project, _ = setup(engine)
    engine.save_template("wrong-stage", stages=["zzz"])
    with pytest.raises(Exception, match="zzz"):
        engine.run_pipeline(project.id, template="wrong-stage")
