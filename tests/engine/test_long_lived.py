"""Job records frozen out of full garbage collections while engines hold them."""

from __future__ import annotations

import asyncio
import gc

from pbrain_widgets import STUDIO_PIPELINE, JobContext, Runner
from pbrain_widgets.engine import long_lived
from pbrain_widgets.engine.long_lived import FREEZE_EVERY_JOBS


class HeldRunner(Runner):
    async def run(self, ctx: JobContext) -> None:
        await asyncio.sleep(3600)


def _plan_many(engine) -> None:
    project = engine.create_project("many", pipeline=STUDIO_PIPELINE)
    stages = len(STUDIO_PIPELINE.stage_ids)
    engine.add_subjects(project.id, [f"sub-{i}" for i in range(FREEZE_EVERY_JOBS // stages + 1)])
    engine.run_pipeline(project.id)


def test_large_plans_freeze_and_the_last_engine_to_close_unfreezes(make_engine):
    before = long_lived._holders
    first = make_engine(runner=HeldRunner(), max_concurrent=1)
    small = make_engine(runner=HeldRunner(), max_concurrent=1)
    project = small.create_project("few", pipeline=STUDIO_PIPELINE)
    small.add_subjects(project.id, ["a", "b"])
    small.run_pipeline(project.id)
    assert long_lived._holders == before  # 20 jobs: nothing frozen
    _plan_many(first)
    assert long_lived._holders == before + 1 and gc.get_freeze_count() > 0
    second = make_engine(runner=HeldRunner(), max_concurrent=1)
    _plan_many(second)
    assert long_lived._holders == before + 2
    first.close()
    assert long_lived._holders == before + 1 and gc.get_freeze_count() > 0
    second.close()
    second.close()  # closing twice releases once
    assert long_lived._holders == before
    if before == 0:
        assert gc.get_freeze_count() == 0
