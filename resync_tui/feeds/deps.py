"""Dependency chains for the job detail: neighbours with live status, and the root-cause walk.

``DepsDetailLoader`` extends the detail screen's loader (same cache keys for the
dependency structure, same breaker) with:

* ``dependencies(job_id)``: predecessors and successors as ``DepNode`` rows, each with
  its LIVE status: the structure (which jobs) may come from the cache, a status never
  does: it is the live jobs view's (refreshed every poll), else the engine's answer;
* ``why_waiting(job_id)``: ``model.rootcause.walk_root_causes`` over the same reads,
  bounded in depth and in reads, with the workstations the app knows are unlinked.

``ClientNeighbourReader`` is the bare walk over the HWA client (no cache, no
breaker): the bench's baseline and a reader for tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from resync_tui.feeds._calls import hwa_call
from resync_tui.feeds.cache_stats import cached_read
from resync_tui.feeds.detail import JobLookup, RuntimeDetailLoader, _structure, _structure_from
from resync_tui.feeds.runtime import Runtime
from resync_tui.hwa.client import HwaClient
from resync_tui.hwa.models import FlowNode
from resync_tui.model.jobs_view import JobRow
from resync_tui.model.rootcause import DepNode, RootCauseReport, walk_root_causes

__all__ = [
    "ClientNeighbourReader",
    "DepsDetailLoader",
    "Neighbours",
    "UnlinkedLookup",
    "node_from_flow",
]

UnlinkedLookup = Callable[[], Mapping[str, str]]
"""Workstation name -> its problem in words ("not linked"), from the workstations feed."""


@dataclass(frozen=True, slots=True)
class Neighbours:
    predecessors: tuple[DepNode, ...] = ()
    successors: tuple[DepNode, ...] = ()
    errors: tuple[str, ...] = ()
    """"predecessors unavailable: engine unreachable"... (the other side may still show)."""


def node_from_flow(node: FlowNode) -> DepNode:
    """A ``FlowNodeInPlanV2`` as the walk sees it (status as sent, or None)."""
    common = node.last_run_common_status or node.common_status or ""
    return DepNode(id=node.id or "", name=node.name or "",
                   type=str(node.flow_node_type or "JOB").upper(),
                   stream=node.job_stream_name or "", workstation=node.workstation or "",
                   status=node.status, common_status=str(common))


class ClientNeighbourReader:
    """Predecessors straight from the client: one engine read per node, nothing cached."""

    def __init__(self, client: HwaClient) -> None:
        self.client = client
        self.reads = 0

    async def predecessors(self, node: DepNode) -> list[DepNode]:
        self.reads += 1
        return [node_from_flow(n) for n in await self.client.predecessors(node.id)]


class DepsDetailLoader(RuntimeDetailLoader):
    """``RuntimeDetailLoader`` plus followable neighbours and "why is this waiting"."""

    def __init__(self, runtime: Runtime, jobs: JobLookup | None = None,
                 unlinked: UnlinkedLookup | None = None, *, max_depth: int = 10,
                 max_reads: int = 100) -> None:
        super().__init__(runtime, jobs)
        self._unlinked = unlinked
        self.max_depth = max_depth
        self.max_reads = max_reads

    async def _neighbours(self, kind: str, job_id: str) -> list[DepNode]:
        """The structure through the cache, statuses live (jobs view, else the engine)."""
        rt = self._rt
        fetch = rt.client.predecessors if kind == "predecessors" else rt.client.successors
        live: list[FlowNode] | None = None

        async def read_live() -> list[FlowNode]:
            nonlocal live
            live = await hwa_call(rt, lambda: fetch(job_id), breaker=rt.hwa_api,
                                  operation=kind)
            return live

        async def load() -> list[dict[str, str]]:
            return [_structure(node) for node in await read_live()]

        key = self._key("deps", kind, job_id)
        cached = rt.cache.peek(key, "dependencies")  # an L1 hit: nothing to await
        structure = _structure_from(cached if cached is not None else await cached_read(
            rt.cache, "dependencies", key, load, ttl=self._long_ttl))
        if structure is None:
            structure = await load()
        by_id: dict[str, DepNode] = {}
        if live is None:
            missing = False
            for item in structure:
                row = self._row(item["id"]) if item["type"] == "JOB" else None
                if row is None:
                    missing = True
                    continue
                by_id[item["id"]] = DepNode(
                    id=item["id"], name=item["name"], type=item["type"], stream=item["stream"],
                    workstation=item["workstation"], status=row.status,
                    common_status=row.common_status)
            if missing:  # the view does not know one (a stream, or no view): ask the engine
                with contextlib.suppress(Exception):
                    await read_live()
        if live is not None:
            by_id.update((n.id or "", node_from_flow(n)) for n in live)
        return [by_id.get(item["id"]) or DepNode(
            id=item["id"], name=item["name"], type=item["type"], stream=item["stream"],
            workstation=item["workstation"], status=None) for item in structure]

    async def dependencies(self, job_id: str) -> Neighbours:
        found: dict[str, tuple[DepNode, ...]] = {}
        errors: list[str] = []
        for kind in ("predecessors", "successors"):
            try:
                found[kind] = tuple(await self._neighbours(kind, job_id))
            except Exception as exc:  # shown in the tab; the other side may still load
                text = str(exc).strip().splitlines()
                errors.append(f"{kind} unavailable: {text[0] if text else type(exc).__name__}")
        return Neighbours(found.get("predecessors", ()), found.get("successors", ()),
                          tuple(errors))

    def row_for(self, node: DepNode) -> JobRow:
        """The job to open from a neighbour: the live view's row, else one from the node."""
        return self._row(node.id) or JobRow(
            job_id=node.id, stream=node.stream, job=node.name, workstation=node.workstation,
            status=node.status or "", common_status=node.common_status)

    async def predecessors_of(self, node: DepNode) -> list[DepNode]:
        return await self._neighbours("predecessors", node.id)

    async def why_waiting(self, job_id: str) -> RootCauseReport:
        row = self._row(job_id)
        start = DepNode(id=job_id, name=row.job if row else job_id,
                        stream=row.stream if row else "",
                        workstation=row.workstation if row else "",
                        status=row.status if row else None)
        return await walk_root_causes(_Reader(self), start, unlinked=self._unlinked,
                                      max_depth=self.max_depth, max_reads=self.max_reads)


class _Reader:
    def __init__(self, loader: DepsDetailLoader) -> None:
        self._loader = loader

    async def predecessors(self, node: DepNode) -> list[DepNode]:
        return await self._loader.predecessors_of(node)
