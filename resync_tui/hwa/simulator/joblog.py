"""Job logs: the text an engine's agent writes for a run, made up from the run's own seed.

A log is drawn from an RNG seeded by (plan seed, run id), not the plan's RNG, so
reading a log never changes the plan; how much of it shows follows the run's
progress on the plan clock: a running job's log grows as the clock moves, and what it
showed earlier is always the start of what it shows later (a reader following it with
``from_line`` only ever gets new lines). A failed run ends with what an agent's log of a
failure looks like (an error message, a stack trace or an ``AWK...E`` message, the exit
status), so the dashboard's error highlighting has something real to find.
"""

from __future__ import annotations

import random
import time

from resync_tui.hwa.simulator.generate import JOB_NOUNS
from resync_tui.hwa.simulator.model import Job, Run
from resync_tui.hwa.simulator.wire import format_instant

__all__ = ["joblog_lines"]


def joblog_lines(
    seed: int, epoch: int, now: float, job: Job, run: Run, content_only: bool
) -> list[str]:
    """The log lines of ``run`` at plan time ``now`` (``content_only``: no header and footer)."""

    def instant(offset: float) -> str:
        return format_instant(offset, epoch)

    rng = random.Random(f"{seed}:{run.id}")
    lines: list[str] = []
    header = [
        "=" * 64,
        f"= JOB       : {job.workstation.name}#{job.folder}{job.stream.name}"
        f"[({instant(job.sched_time)[11:16].replace(':', '')}"
        f" {time.strftime('%m/%d/%y', time.gmtime(epoch))}),({job.stream.id})].{job.name}",
        "= USER      : twsuser",
        f"= JCLFILE   : {job.script}",
        f"= Job Number: {run.job_number if run.job_number is not None else '-'}",
        f"= {_log_stamp(epoch, run.start if run.start is not None else now)}",
        "=" * 64,
    ]
    if run.start is None:
        body = [f"Job {job.name} has not started yet (status {job.status})."]
        return body if content_only else [*header, *body]
    total = rng.randint(24, 48)
    finished = run.end is not None
    # One line per (estimated / total) seconds of the plan clock while the job runs, and
    # on past the estimate for a job that overruns (it keeps printing), up to a bound; an
    # ended run shows the lines of the time it ran. A line's text and time depend on its
    # number only, so the lines shown once stay as they were.
    pace = max(1.0, run.estimated) * _EARLIEST_END / total  # all ``total`` by any end
    ran = ((run.end if run.end is not None else now) - run.start) / pace
    shown = min(_MAX_BODY, max(3, int(ran)))
    body = [f"+ {job.script} --date {instant(0)[:10]} --run {run.number}"]
    for step in range(1, shown):
        # Each line's time is within its own slot: never after the clock that shows it.
        stamp = run.start + (step + rng.uniform(0.0, 0.9)) * pace
        clock = instant(stamp)[11:19]
        noun = JOB_NOUNS[rng.randrange(len(JOB_NOUNS))].lower()
        choice = rng.random()
        if choice < 0.6:
            body.append(f"{clock} INFO  step {step}: processed {rng.randint(100, 99999)} {noun}")
        elif choice < 0.8:
            body.append(f"{clock} INFO  reading /data/in/{noun}_{rng.randint(1, 99):02d}.csv")
        elif choice < 0.95:
            body.append(f"{clock} DEBUG commit batch {rng.randint(1, 500)} ok")
        else:
            body.append(f"{clock} WARN  slow response from {noun} service, retrying")
    stamp = run.end if run.end is not None else run.start + shown * pace
    if run.killed:
        body.append("Job killed by operator request (kill).")
    elif finished and run.return_code not in (None, 0):
        clock = instant(stamp)[11:19]
        body.extend(_failure(rng, clock, job.script))
        body.append(f"ERROR {job.name} failed: exit status {run.return_code}")
    lines = body if content_only else [*header, *body]
    if finished and not content_only:
        elapsed = (run.end or run.start) - run.start
        lines += [
            "=" * 64,
            f"= Exit Status           : {run.return_code if run.return_code is not None else 0}",
            f"= Elapsed Time (hh:mm:ss) : {_hms(elapsed)}",
            f"= {_log_stamp(epoch, run.end or run.start)}",
            "=" * 64,
        ]
    return lines


_EARLIEST_END = 0.6
"""A run ends after this share of its estimate at the earliest (``engine``'s draw)."""
_MAX_BODY = 5000
"""Lines of a log body at most (a job stuck for hours would print without end)."""


def _failure(rng: random.Random, clock: str, script: str) -> list[str]:
    """The lines a failing job prints before it exits (drawn after the body: the lines a
    running log showed stay where they were)."""
    noun = JOB_NOUNS[rng.randrange(len(JOB_NOUNS))].lower()
    story = rng.randrange(3)
    if story == 0:
        return [f"{clock} ERROR cannot open /data/in/{noun}_{rng.randint(1, 99):02d}.csv:"
                " No such file or directory"]
    if story == 1:
        return [f"{clock} FATAL database connection lost while loading {noun}",
                "Traceback (most recent call last):",
                f'  File "{script}", line {rng.randint(20, 400)}, in load_{noun}',
                "ConnectionResetError: [Errno 104] Connection reset by peer"]
    return [f"{clock} AWKJMJ{rng.randint(100, 999)}E The job {noun} step failed:"
            " java.sql.SQLException: deadlock detected",
            f"    at com.example.batch.{noun.capitalize()}Loader.run(Loader.java:"
            f"{rng.randint(40, 900)})"]


def _log_stamp(epoch: int, offset: float) -> str:
    return time.strftime("%a %m/%d/%Y %H:%M:%S UTC", time.gmtime(epoch + int(offset)))


def _hms(seconds: float) -> str:
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
