"""The root-cause walk over a real simulator chain: a failed job three levels up is found
with its chain, a held one too, and the bounds are kept and said."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from resync_tui.feeds.deps import ClientNeighbourReader
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.simulator import Simulator
from resync_tui.hwa.simulator.model import Job
from resync_tui.model.rootcause import DepNode, RootCauseReport, walk_root_causes

DEADLINE = 30.0


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(jobs=300, seed=1, user="demo", password="demo", time_scale=0.0)
    simulator.start_in_thread(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        simulator.stop()


def _client(sim: Simulator) -> HwaClient:
    return HwaClient(sim.base_url, user="demo", password="demo", connect_timeout=2.0,
                     read_timeout=5.0, call_timeout=10.0)


def chain_of(sim: Simulator, length: int) -> list[Job]:
    """[job, pred, pred of pred, ...]: a chain of single predecessors ``length`` deep, all
    of them still waiting (HOLD), so that nothing on it is satisfied yet."""
    for job in sim.plan.jobs:
        chain = [job]
        while (len(chain) <= length and len(chain[-1].preds) == 1
               and chain[-1].preds[0].status == "HOLD" and chain[-1].status == "HOLD"):
            chain.append(chain[-1].preds[0])
        if len(chain) > length:
            return chain
    raise AssertionError(f"no chain of {length} in the plan")


def start_of(job: Job) -> DepNode:
    return DepNode(id=job.id, name=job.name, stream=job.stream.name,
                   workstation=job.workstation.name, status=job.status)


async def walk(sim: Simulator, job: Job, **bounds: int) -> tuple[RootCauseReport, int]:
    async with _client(sim) as client:
        reader = ClientNeighbourReader(client)
        report = await asyncio.wait_for(walk_root_causes(reader, start_of(job), **bounds),
                                        DEADLINE)
        return report, reader.reads


async def test_failed_job_three_levels_up_is_found_with_its_chain(sim: Simulator) -> None:
    chain = chain_of(sim, 3)
    job, broken = chain[0], chain[3]
    sim.plan.set_status(broken, "ABEND")
    report, _ = await walk(sim, job)
    failed = [c for c in report.causes if c.kind == "failed"]
    assert [c.node.id for c in failed] == [broken.id]
    assert failed[0].reason == "ABEND"
    assert [n.id for n in failed[0].chain] == [p.id for p in chain[1:4]]
    assert report.causes[0].kind == "failed"  # what an operator must fix comes first
    assert not report.bound_note


async def test_held_predecessor_is_a_root_cause(sim: Simulator) -> None:
    chain = chain_of(sim, 2)
    sim.plan.act(chain[2].id, "hold")
    report, _ = await walk(sim, chain[0])
    held = [c for c in report.causes if c.kind == "held"]
    assert [c.node.id for c in held] == [chain[2].id]
    assert [n.id for n in held[0].chain] == [chain[1].id, chain[2].id]


async def test_depth_bound_is_kept_and_said(sim: Simulator) -> None:
    chain = chain_of(sim, 4)
    sim.plan.set_status(chain[4], "ABEND")
    report, _ = await walk(sim, chain[0], max_depth=2)
    assert report.stopped_at_depth
    assert not [c for c in report.causes if c.kind == "failed"]  # beyond the bound
    assert report.bound_note == "stopped at depth 2: more may exist"
    assert report.depth_reached == 2


async def test_read_bound_is_kept_and_said(sim: Simulator) -> None:
    chain = chain_of(sim, 4)
    report, reads = await walk(sim, chain[0], max_reads=2)
    assert reads == 2 == report.reads
    assert report.stopped_at_reads
    assert report.bound_note == "after 2 reads: more may exist"


async def test_unlinked_workstation_of_a_ready_predecessor_is_the_cause(
        sim: Simulator) -> None:
    """A predecessor with nothing upstream of it waits on its workstation, when that one
    is not linked; further up the chain an unlinked one does not stop the walk."""
    job = next(j for j in sim.plan.jobs if j.status == "HOLD" and len(j.preds) == 1
               and j.preds[0].status == "HOLD" and not j.preds[0].preds)
    pred = job.preds[0]
    ws = pred.workstation.name
    async with _client(sim) as client:
        report = await asyncio.wait_for(walk_root_causes(
            ClientNeighbourReader(client), start_of(job),
            unlinked={ws: "not linked"}), DEADLINE)
    assert [(c.kind, c.reason, c.node.id) for c in report.causes] == [
        ("unlinked", f"workstation {ws} not linked", pred.id)]
