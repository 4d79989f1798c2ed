"""Building a seeded plan: workstations, job streams, jobs, their dependencies and fates.

Generation is separate from the engine so the shape of a plan (how many streams,
which jobs depend on which, which ones are doomed to ABEND or hang for the demo)
reads in one place. Every draw comes from the RNG it is given, in a fixed order:
the same seed gives the same plan, and the engine goes on drawing from the same RNG.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from resync_tui.hwa.simulator.model import Job, JobStream, Run, Workstation

__all__ = ["JOB_NOUNS", "Layout", "generate", "new_run"]

_FOLDERS = ("/FINANCE/", "/HR/", "/OPS/BATCH/", "/SALES/EU/", "/SALES/US/", "/DWH/", "/")
_STREAM_WORDS = (
    "DAILY_CLOSE", "LEDGER", "PAYROLL", "BACKUP", "ETL_LOAD", "REPORTS", "BILLING",
    "INVENTORY", "RECONCILE", "ARCHIVE", "SETTLEMENT", "FEEDS", "CLEANUP", "EXTRACT",
)  # fmt: skip
_JOB_VERBS = (
    "LOAD", "EXTRACT", "SORT", "MERGE", "CHECK", "SEND", "BUILD", "PURGE", "INDEX",
    "VALIDATE", "POST", "COPY", "SPLIT", "AGGREGATE", "NOTIFY", "TRANSFER",
)  # fmt: skip
JOB_NOUNS = (
    "LEDGER", "ORDERS", "CUSTOMERS", "INVOICES", "STOCK", "FX_RATES", "CLAIMS",
    "PAYMENTS", "GL", "ACCOUNTS", "TICKETS", "USAGE", "EVENTS", "AUDIT",
)  # fmt: skip
_PRIORITIES = (10, 10, 10, 20, 50, 101)


@dataclass(slots=True, eq=False)
class Layout:
    """A freshly generated plan: nothing has run yet."""

    workstations: list[Workstation] = field(default_factory=list)
    streams: list[JobStream] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    runs: dict[str, tuple[Job, Run]] = field(default_factory=dict)
    """Every run by id, with its job."""


def generate(rng: random.Random, seed: int, size: int) -> Layout:
    """A plan of ``size`` jobs (the first workstation is the master, the others do the work)."""
    layout = Layout()
    prefix = f"{seed & 0xFFFF:04X}"
    ws_count = min(40, max(8, size // 100))
    layout.workstations.append(
        Workstation(0, f"W{prefix}{0:08X}", "MASTER", "/", "MANAGER", "LINUX",
                    "hwa-master.example.com", 100, 0)
    )  # fmt: skip
    for index in range(1, ws_count):
        roll = rng.random()
        if roll < 0.6:
            kind, label = "AGENT", "AGT"
        elif roll < 0.85:
            kind, label = "FTA", "FTA"
        else:
            kind, label = "POOL", "POOL"
        system = rng.choice(("LINUX", "LINUX", "LINUX", "WINDOWS", "AIX", "UNIX"))
        name = f"{label}_{system[:3]}_{index:02d}"
        layout.workstations.append(
            Workstation(index, f"W{prefix}{index:08X}", name, "/", kind, system,
                        f"{name.lower().replace('_', '-')}.example.com",
                        rng.choice((10, 20, 50, 100)), 0, flaps=rng.random() < 0.35)
        )  # fmt: skip
    workers = layout.workstations[1:]

    remaining = size
    stream_index = 0
    while remaining > 0:
        count = min(remaining, rng.randint(5, 20))
        if remaining - count < 5 and remaining - count > 0:
            count = remaining
        if stream_index == 0:
            sched = 30 * 60.0
        elif stream_index == 1:
            sched = 5 * 3600 + 40 * 60.0
        else:
            sched = float(rng.randrange(0, 22 * 3600, 300))
        folder = _FOLDERS[rng.randrange(len(_FOLDERS))]
        word = _STREAM_WORDS[rng.randrange(len(_STREAM_WORDS))]
        home = workers[rng.randrange(len(workers))]
        stream = JobStream(stream_index, f"S{prefix}{stream_index:08X}",
                           f"{word}_{stream_index:03d}", folder, home, sched)  # fmt: skip
        # Deterministic, no RNG draw (the same seed keeps giving the same jobs): one
        # stream in 20 carries forward, and half of those came from the previous day.
        stream.carry_forward = stream_index % 20 == 13
        stream.carried_forward = stream_index % 40 == 13
        layout.streams.append(stream)
        _add_jobs(rng, prefix, layout, stream, count, workers)
        remaining -= count
        stream_index += 1
    return layout


def _add_jobs(
    rng: random.Random,
    prefix: str,
    layout: Layout,
    stream: JobStream,
    count: int,
    workers: list[Workstation],
) -> None:
    rnd = rng.random
    jobs = layout.jobs
    first = len(jobs)
    n_workers = len(workers)
    lognorm = rng.lognormvariate
    for position in range(count):
        index = len(jobs)
        ws = stream.workstation if rnd() < 0.6 else workers[int(rnd() * n_workers)]
        verb = _JOB_VERBS[int(rnd() * len(_JOB_VERBS))]
        noun = JOB_NOUNS[int(rnd() * len(JOB_NOUNS))]
        name = f"{verb}_{noun}_{position + 1:02d}"
        estimated = min(float(int(lognorm(5.0, 1.0)) + 20), 3600.0)
        priority = _PRIORITIES[int(rnd() * len(_PRIORITIES))]
        # Every fourth job has an id of the shape real engines use, WORKSTATION;STREAM;JOB
        # (";" is quoted in paths): the client's quoting is exercised on every endpoint.
        job_id = f"{ws.name};{stream.id};{name}" if index % 4 == 3 else f"{prefix}{index:012X}"
        job = Job(index, job_id, name, stream.folder, ws, stream,
                  position + 1, priority, stream.sched_time, estimated, rnd() < 0.03,
                  f"/opt/batch/bin/{name.lower()}.sh", [], [], [])  # fmt: skip
        job.orig_priority = priority
        if position > 0:
            pred = jobs[first + position - 1]
            if position > 1 and rnd() < 0.25:
                pred = jobs[first + int(rnd() * position)]
            _link(pred, job)
            if position > 2 and rnd() < 0.15:
                other = jobs[first + int(rnd() * (position - 1))]
                if other not in job.preds:
                    _link(other, job)
        elif first > 0 and rnd() < 0.2:
            _link(jobs[int(rnd() * first)], job)
        job.substatus = "HOLD_WAITING_FOR_PREDECESSOR" if job.preds else "HOLD_WAITING_FOR_TIME"
        if stream.index == 0 and position == min(2, count - 1):
            job.forced_fate = "abend"
        elif stream.index == 1 and position == 0:
            job.forced_fate = "hang"
        elif stream.index % 25 == 7 and position == 1:
            job.forced_fate = "abend"
        # Deadlines draw nothing from the RNG (the plan stays what it was): a critical job
        # must end two hours after its scheduled time plus its run (its criticalStart is
        # two hours after it); one job in 40 has a tight deadline, which many miss.
        if job.critical:
            job.deadline = stream.sched_time + 2 * 3600 + estimated
        elif index % 40 == 21:
            job.deadline = stream.sched_time + estimated * 1.5
        run = Run(f"{job.id}R01", 1, ws, estimated)
        job.runs.append(run)
        layout.runs[run.id] = (job, run)
        jobs.append(job)


def _link(pred: Job, succ: Job) -> None:
    pred.succs.append(succ)
    succ.preds.append(pred)


def new_run(job: Job, runs: dict[str, tuple[Job, Run]], rerun: bool) -> Run:
    """The job's next run (it becomes the last run), registered in ``runs``."""
    number = len(job.runs) + 1
    run = Run(id=f"{job.id}R{number:02d}", number=number, workstation=job.workstation,
              estimated=job.estimated, rerun=rerun)  # fmt: skip
    job.runs.append(run)
    runs[run.id] = (job, run)
    return run
