"""Shared by the cohort-operations tests: a three-stage pipeline and a scripted runner."""

from __future__ import annotations

import asyncio

from pbrain_widgets import JobContext, Pipeline, Runner, Stage
from pbrain_widgets.errors import JobFailed

ABC = Pipeline([Stage("a", "A"), Stage("b", "B", depends_on=("a",)), Stage("c", "C", depends_on=("b",))])


class ScriptRunner(Runner):
    """Logs one line, sleeps ``seconds``, fails where ``fail[(subject, stage)]`` says."""

    def __init__(self, fail: dict[tuple[str, str], str] | None = None, seconds: float = 0.0) -> None:
        self.fail = dict(fail or {})
        self.seconds = seconds
        self.slow: set[str] = set()  # stages that sleep 30 s instead
        self.options: list[dict] = []

    async def run(self, ctx: JobContext) -> None:
        self.options.append(ctx.options)
        ctx.log("INFO", f"working on {ctx.subject.name} stage {ctx.stage.id} with magicword")
        await asyncio.sleep(30 if ctx.stage.id in self.slow else self.seconds)
        message = self.fail.get((ctx.subject.name, ctx.stage.id))
        if message:
            raise JobFailed(message)


def setup(engine, names=("s1", "s2", "s3")):
    project = engine.create_project("p", pipeline=ABC)
    subjects = engine.add_subjects(project.id, list(names))
    return project, {s.name: s for s in subjects}
