"""A real jobs view whose re-reads are probed as they end (the feed memory and collector
tests count what the process holds then, not how long anything takes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from resync_tui.model.job_row import JobRow, RowMapper
from resync_tui.model.jobs_view import JobsView, PlanDiff
from tests.ui.dashboard_support import frozen_clock


class ProbedView(JobsView):
    """Its plan diffs call ``probe`` each time rows are handed over once a read has seen
    nine tenths of its ``jobs`` ids (the moment a read holds the most), and keep what it
    returns in ``samples``."""

    def __init__(self, probe: Callable[[], int], jobs: int) -> None:
        super().__init__(clock=frozen_clock)
        self.probe = probe
        self.jobs = jobs
        self.samples: list[int] = []

    def plan_diff(self, mapper: RowMapper | None = None) -> PlanDiff:
        return _ProbedDiff(self) if mapper is None else _ProbedDiff(self, mapper)


class _ProbedDiff(PlanDiff):
    __slots__ = ("_handed",)

    def add(self, rows: Iterable[JobRow]) -> None:
        rows = list(rows)
        super().add(rows)
        self._handed = getattr(self, "_handed", 0) + len(rows)
        del rows  # not held while the probe counts
        view = self._view
        assert isinstance(view, ProbedView)
        if self._handed >= view.jobs * 9 // 10 and view.total:
            view.samples.append(view.probe())
