"""The event engine: the plan clock, and what happens to jobs and workstations as it moves.

A heap of timed events (evaluate, launch, start, finish, workstation down/up) drawn
from one seeded RNG takes each job along HOLD -> READY -> INTRO -> EXEC -> SUCC or
ABEND (or FAIL, STUCK, a hang) and makes flapping workstations unlink and relink.
Nothing here knows HTTP or JSON; the engine only marks a job's cached JSON stale
(``job.encoded = None``) and bumps ``version`` when something a reader sees changes.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter

from resync_tui.hwa.simulator.model import SATISFIES, Job, Workstation

__all__ = ["Engine"]

_EV_EVAL, _EV_LAUNCH, _EV_START, _EV_FINISH, _EV_WS_DOWN, _EV_WS_UP = range(6)
_ABEND_CODES = (1, 2, 4, 8, 12, 16, 127, 255)


class Engine:
    """The clock (``now``, seconds from the plan's day start), the event heap and the counts.

    ``slots`` holds every job by index, deleted ones included: events point at
    indexes, and a deleted job's events are void (its generation moved on).
    """

    def __init__(
        self, rng: random.Random, seed: int, slots: list[Job], workstations: list[Workstation]
    ) -> None:
        self.rng = rng
        self.now = 0.0
        self.version = 0
        self.counts: Counter[str] = Counter()
        self._slots = slots
        self._workstations = workstations
        self._events: list[tuple[float, int, int, int, int]] = []
        self._seq = 0
        self._next_job_number = 100_000 + seed % 1000 * 10

    def begin(self) -> None:
        """Count the fresh plan and schedule its first events (root jobs, link flaps)."""
        for job in self._slots:
            self.counts[job.status] += 1
            if not job.preds:
                self._schedule(job.sched_time, _EV_EVAL, job.index, 0)
        for ws in self._workstations[1:]:
            if ws.flaps:
                self._schedule(float(self.rng.randrange(1800, 6 * 3600)), _EV_WS_DOWN, ws.index, 0)

    def _schedule(self, at: float, kind: int, index: int, generation: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, kind, index, generation))

    def advance_to(self, target: float) -> None:
        """Apply every event due up to ``target`` in time order, then stop the clock there."""
        events = self._events
        while events and events[0][0] <= target:
            at, _, kind, index, generation = heapq.heappop(events)
            self.now = max(self.now, at)
            if kind >= _EV_WS_DOWN:
                self._workstation_event(kind, self._workstations[index])
                continue
            job = self._slots[index]
            if generation != job.generation or job.deleted:
                continue
            if kind == _EV_EVAL:
                self._evaluate(job)
            elif kind == _EV_LAUNCH:
                self._launch(job)
            elif kind == _EV_START:
                self._start(job)
            else:
                self._finish(job)
        self.now = max(self.now, target)

    def _workstation_event(self, kind: int, ws: Workstation) -> None:
        rng = self.rng
        if ws.held_link:  # an operator set its link: only an operator changes it now
            return
        if kind == _EV_WS_DOWN:
            ws.linked = False
            self._schedule(self.now + rng.randrange(120, 900), _EV_WS_UP, ws.index, 0)
        else:
            ws.linked = True
            self._schedule(self.now + rng.randrange(1800, 4 * 3600), _EV_WS_DOWN, ws.index, 0)
        self.version += 1  # job JSON does not show link state: no cache to drop

    def set_status(self, job: Job, status: str, substatus: str | None = None) -> None:
        """Move the job (and its last run) to ``status``, keeping the counts right."""
        if job.status != status:
            self.counts[job.status] -= 1
            self.counts[status] += 1
        job.status = status
        job.substatus = substatus
        job.last_run.status = status
        job.encoded = None
        self.version += 1

    @staticmethod
    def ready_to_go(job: Job) -> bool:
        """Every predecessor is done (SUCC or CANCL)."""
        return all(pred.status in SATISFIES for pred in job.preds)

    def _evaluate(self, job: Job) -> None:
        if job.status != "HOLD" or job.user_held or not self.ready_to_go(job):
            return
        if self.now < job.sched_time:
            self._schedule(job.sched_time, _EV_EVAL, job.index, job.generation)
            return
        self.set_status(job, "READY")
        self._schedule(self.now + self.rng.randrange(2, 30), _EV_LAUNCH, job.index,
                       job.generation)  # fmt: skip

    def _launch(self, job: Job) -> None:
        if job.status != "READY":
            return
        if not job.workstation.launches:
            if job.substatus != "READY_WAITING_FOR_AGENT":
                self.set_status(job, "READY", "READY_WAITING_FOR_AGENT")
            self._schedule(self.now + 60, _EV_LAUNCH, job.index, job.generation)
            return
        fence = job.workstation.fence
        if fence > 0 and job.priority <= fence:  # at or below the fence: not launched
            self._schedule(self.now + 60, _EV_LAUNCH, job.index, job.generation)
            return
        rng = self.rng
        run = job.last_run
        self._next_job_number += 1
        run.job_number = self._next_job_number
        roll = rng.random()
        if job.forced_fate is not None and not run.rerun:
            run.fate = job.forced_fate
        elif run.rerun:
            run.fate = "succ" if roll < 0.9 else "abend"
        elif roll < 0.025:
            run.fate = "abend"
        elif roll < 0.03:
            run.fate = "fail"
        elif roll < 0.035:
            run.fate = "stuck"
        elif roll < 0.045:
            run.fate = "hang"
        else:
            run.fate = "succ"
        self.set_status(job, "INTRO")
        self._schedule(self.now + rng.randrange(1, 6), _EV_START, job.index, job.generation)

    def _start(self, job: Job) -> None:
        if job.status != "INTRO":
            return
        run = job.last_run
        if run.fate == "fail":
            run.end = self.now
            self.set_status(job, "FAIL")
            return
        run.start = self.now
        if run.fate == "stuck":
            self.set_status(job, "STUCK")
            return
        self.set_status(job, "EXEC")
        if run.fate == "hang":
            return
        duration = run.estimated * self.rng.uniform(0.6, 1.4)
        if run.fate == "abend":
            duration *= self.rng.uniform(0.05, 0.5)
        self._schedule(self.now + max(1.0, duration), _EV_FINISH, job.index, job.generation)

    def _finish(self, job: Job) -> None:
        if job.status != "EXEC":
            return
        run = job.last_run
        run.end = self.now
        if run.fate == "abend":
            run.return_code = self.rng.choice(_ABEND_CODES)
            self.set_status(job, "ABEND")
        else:
            run.return_code = 0
            self.set_status(job, "SUCC")
            self.release_successors(job)

    def release_successors(self, job: Job) -> None:
        """The job is done: successors now free to go are evaluated at once."""
        for succ in job.succs:
            self.wake(succ)
            if succ.status == "HOLD":
                succ.encoded = None  # unresolved dependency count changed

    def wake(self, job: Job) -> None:
        """Evaluate a waiting job now if nothing holds it back any more."""
        if job.status == "HOLD" and not job.user_held and self.ready_to_go(job):
            self._schedule(self.now, _EV_EVAL, job.index, job.generation)

    def reschedule(self, job: Job) -> None:
        """After an operator action: the job's next event in its new life (old ones are void)."""
        if job.status == "HOLD" and not job.user_held:
            self._schedule(self.now, _EV_EVAL, job.index, job.generation)
        elif job.status == "READY":
            self._schedule(self.now + self.rng.randrange(2, 30), _EV_LAUNCH, job.index,
                           job.generation)  # fmt: skip
        elif job.status == "INTRO":
            self._schedule(self.now + 1, _EV_START, job.index, job.generation)
        elif job.status == "EXEC" and job.last_run.fate not in ("hang",):
            remaining = job.last_run.estimated * 0.5
            self._schedule(self.now + remaining, _EV_FINISH, job.index, job.generation)
