import pytest

from pbrain_widgets import STUDIO_PIPELINE, Pipeline, PipelineError, Stage, UnknownStageError


def test_studio_pipeline_has_the_ten_stages_and_their_dependencies():
    assert STUDIO_PIPELINE.stage_ids == (
        "import",
        "t1_fit",
        "input_functions",
        "time_shift",
        "segmentation",
        "tissue_ctc",
        "modelling",
        "diffusion",
        "tractography",
        "connectome",
    )
    assert STUDIO_PIPELINE["tissue_ctc"].depends_on == ("segmentation", "time_shift")
    assert STUDIO_PIPELINE["import"].label == "Import & Index"
    order = STUDIO_PIPELINE.topological_order
    for stage in STUDIO_PIPELINE:
        for dep in stage.depends_on:
            assert order.index(dep) < order.index(stage.id)


def test_cycle_is_rejected_with_the_cycle_named():
    with pytest.raises(PipelineError, match=r"cycle in pipeline .custom.: a -> c -> b -> a"):
        Pipeline(
            [Stage("a", depends_on=("c",)), Stage("b", depends_on=("a",)), Stage("c", depends_on=("b",))]
        )


def test_unknown_dependency_and_duplicates_are_rejected():
    with pytest.raises(PipelineError, match=r"'b' depends on unknown stage 'zzz'"):
        Pipeline([Stage("a"), Stage("b", depends_on=("zzz",))])
    with pytest.raises(PipelineError, match="duplicate stage id 'a'"):
        Pipeline([Stage("a"), Stage("a")])
    with pytest.raises(PipelineError, match="at least one stage"):
        Pipeline([])
    with pytest.raises(PipelineError, match="non-empty string"):
        Stage("")


def test_closure_and_dependents():
    assert STUDIO_PIPELINE.closure(["tissue_ctc"]) == [
        "import",
        "t1_fit",
        "input_functions",
        "time_shift",
        "segmentation",
        "tissue_ctc",
    ]
    assert STUDIO_PIPELINE.dependents("diffusion") == ["tractography", "connectome"]
    with pytest.raises(UnknownStageError, match="'nope'.*'import'"):
        STUDIO_PIPELINE.closure(["nope"])


def test_round_trip_through_dict():
    again = Pipeline.from_dict(STUDIO_PIPELINE.to_dict())
    assert again.to_dict() == STUDIO_PIPELINE.to_dict()
    assert again.name == "studio"
