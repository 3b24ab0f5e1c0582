"""Pipelines: named stages with dependencies, checked to form a DAG when built."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PipelineError, UnknownStageError

if TYPE_CHECKING:
    from .runner import Runner


@dataclass(frozen=True)
class Stage:
    """One step of a pipeline, run once per subject.

    ``runner`` overrides the engine's default runner for this stage.
    """

    id: str
    label: str = ""
    depends_on: tuple[str, ...] = ()
    runner: Runner | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise PipelineError(f"a stage id must be a non-empty string, got {self.id!r}")
        if isinstance(self.depends_on, str):
            object.__setattr__(self, "depends_on", (self.depends_on,))
        else:
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        if not self.label:
            object.__setattr__(self, "label", self.id.replace("_", " ").capitalize())


class Pipeline:
    """An ordered set of stages forming a DAG.

    Raises :class:`PipelineError` for a duplicate stage id, an unknown dependency or a cycle.
    ``stages`` keeps the given display order; ``topological_order`` respects dependencies.
    """

    def __init__(self, stages: Iterable[Stage], name: str = "custom") -> None:
        self.name = name
        self.stages: tuple[Stage, ...] = tuple(stages)
        if not self.stages:
            raise PipelineError("a pipeline needs at least one stage")
        self._by_id: dict[str, Stage] = {}
        for stage in self.stages:
            if not isinstance(stage, Stage):
                raise PipelineError(f"pipeline items must be Stage objects, got {stage!r}")
            if stage.id in self._by_id:
                raise PipelineError(f"duplicate stage id {stage.id!r} in pipeline {name!r}")
            self._by_id[stage.id] = stage
        for stage in self.stages:
            for dep in stage.depends_on:
                if dep not in self._by_id:
                    raise PipelineError(
                        f"stage {stage.id!r} depends on unknown stage {dep!r}; "
                        f"stages: {', '.join(self._by_id)}"
                    )
        self.topological_order: tuple[str, ...] = self._toposort()
        self._rank = {sid: i for i, sid in enumerate(self.topological_order)}

    def _toposort(self) -> tuple[str, ...]:
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

        def visit(sid: str, path: list[str]) -> None:
            mark = state.get(sid)
            if mark == 2:
                return
            if mark == 1:
                cycle = [*path[path.index(sid) :], sid]
                raise PipelineError(f"dependency cycle in pipeline {self.name!r}: {' -> '.join(cycle)}")
            state[sid] = 1
            for dep in self._by_id[sid].depends_on:
                visit(dep, [*path, sid])
            state[sid] = 2
            order.append(sid)

        for stage in self.stages:
            visit(stage.id, [])
        return tuple(order)

    def __getitem__(self, stage_id: str) -> Stage:
        try:
            return self._by_id[stage_id]
        except KeyError:
            raise UnknownStageError(stage_id, self._by_id) from None

    def __contains__(self, stage_id: object) -> bool:
        return stage_id in self._by_id

    def __iter__(self):
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, stages={list(self._by_id)})"

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def check_stage_ids(self, stage_ids: Iterable[str]) -> list[str]:
        """The given ids as a list, or :class:`UnknownStageError` naming the first unknown one."""
        if isinstance(stage_ids, str):
            stage_ids = [stage_ids]
        ids = list(stage_ids)
        for sid in ids:
            if sid not in self._by_id:
                raise UnknownStageError(sid, self._by_id)
        return ids

    def closure(self, stage_ids: Iterable[str]) -> list[str]:
        """The given stages and all their transitive dependencies, in topological order."""
        wanted: set[str] = set()
        todo = self.check_stage_ids(stage_ids)
        while todo:
            sid = todo.pop()
            if sid not in wanted:
                wanted.add(sid)
                todo.extend(self._by_id[sid].depends_on)
        return sorted(wanted, key=self._rank.__getitem__)

    def dependents(self, stage_id: str) -> list[str]:
        """Stages that depend (directly or not) on ``stage_id``, in topological order."""
        out: set[str] = set()
        for sid in self.topological_order:
            if any(d == stage_id or d in out for d in self._by_id[sid].depends_on):
                out.add(sid)
        return sorted(out, key=self._rank.__getitem__)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready definition (without runners)."""
        return {
            "name": self.name,
            "stages": [{"id": s.id, "label": s.label, "depends_on": list(s.depends_on)} for s in self.stages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pipeline:
        return cls(
            (Stage(s["id"], s.get("label", ""), tuple(s.get("depends_on", ()))) for s in data["stages"]),
            name=data.get("name", "custom"),
        )


STUDIO_PIPELINE = Pipeline(
    [
        Stage("import", "Import & Index"),
        Stage("t1_fit", "T1/M0 Fitting", ("import",)),
        Stage("input_functions", "AIF/VIF Extraction", ("t1_fit",)),
        Stage("time_shift", "Time Shifting", ("input_functions",)),
        Stage("segmentation", "Segmentation", ("t1_fit",)),
        Stage("tissue_ctc", "Tissue Curves", ("segmentation", "time_shift")),
        Stage("modelling", "Pharmacokinetic Modelling", ("tissue_ctc",)),
        Stage("diffusion", "Diffusion Analysis", ("import",)),
        Stage("tractography", "Tractography", ("diffusion",)),
        Stage("connectome", "Network Connectome", ("tractography",)),
    ],
    name="studio",
)
"""The 10 stages of the p-brain Local Studio, with their dependencies."""
