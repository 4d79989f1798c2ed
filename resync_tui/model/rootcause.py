""""Why is this job waiting": follow unsatisfied predecessors back to their root causes.

Pure walk logic over an async neighbour reader (the feed layer supplies one that reads
through the cache and the breakers; tests supply one over the simulator). The walk is
bounded twice, because a plan can hold 200,000 jobs and every read is an engine call:
``max_depth`` levels of predecessors and ``max_reads`` neighbour reads. When it stops
at a bound it says so, since more causes may lie beyond.

A root cause is where a chain of waiting jobs ends: a predecessor that failed (ABEND,
FAIL, ERROR), is held by an operator, was cancelled, runs (or would run, nothing else
holding it) on a workstation that is not linked, or a prompt/resource/file
dependency (``flowNodeType`` other than JOB and JOBSTREAM, where the API shows one).
A predecessor that is still running, or waits only for its own start time, ends a
chain too: nothing is broken, but it is what the job waits for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from resync_tui.model.status import FAILED_STATUSES

__all__ = [
    "SATISFIED_STATUSES",
    "Cause",
    "DepNode",
    "NeighbourReader",
    "RootCauseReport",
    "walk_root_causes",
]

SATISFIED_STATUSES: Final = frozenset({"SUCC", "SUPPR"})
"""A predecessor in one of these no longer holds its successors back."""
_HELD_COMMON: Final = frozenset({"HELD"})
_RUNNING: Final = frozenset({"EXEC", "INTRO", "WAIT", "READY", "SUCCP", "ABENP"})
_CANCELLED: Final = frozenset({"CANCL", "CANCLP"})
_WORK_TYPES: Final = frozenset({"JOB", "JOBSTREAM", ""})


@dataclass(frozen=True, slots=True)
class DepNode:
    """A predecessor or successor as the walk sees it, with its live status."""

    id: str
    name: str
    type: str = "JOB"
    """``flowNodeType``: JOB, JOBSTREAM, or a prompt/resource/file kind."""
    stream: str = ""
    workstation: str = ""
    status: str | None = None
    """Internal status (ABEND, HOLD...); None when it could not be read."""
    common_status: str = ""
    """``CommonStatusV2`` (HELD marks an operator's hold)."""

    @property
    def label(self) -> str:
        """``STREAM.JOB @ WS`` (unsanitized: the UI passes it through ``safe_text``)."""
        name = self.name or self.id or "?"
        if self.type == "JOB" and self.stream:
            name = f"{self.stream}.{name}"
        if self.type == "JOBSTREAM":
            name = f"stream {name}"
        return f"{name} @ {self.workstation}" if self.workstation else name


class NeighbourReader(Protocol):
    """Where the walk reads a node's predecessors (each call counts as one read)."""

    async def predecessors(self, node: DepNode) -> list[DepNode]: ...


@dataclass(frozen=True, slots=True)
class Cause:
    """One root cause and the chain that leads to it from the job asked about."""

    node: DepNode
    kind: str
    """failed, held, cancelled, unlinked, prompt, running, waiting, unknown."""
    reason: str
    """In words: "ABEND", "held by an operator", "workstation CPU1 not linked"."""
    chain: tuple[DepNode, ...]
    """From the job's direct predecessor down to ``node`` (inclusive)."""

    @property
    def broken(self) -> bool:
        """Whether an operator must act (not merely wait for a running job or a time)."""
        return self.kind in ("failed", "held", "cancelled", "unlinked", "prompt")


@dataclass(frozen=True, slots=True)
class RootCauseReport:
    causes: tuple[Cause, ...] = ()
    reads: int = 0
    depth_reached: int = 0
    stopped_at_depth: bool = False
    stopped_at_reads: bool = False
    errors: tuple[str, ...] = ()
    """Reads that failed (the walk goes on with the other branches)."""
    max_depth: int = 10
    max_reads: int = 100

    @property
    def bound_note(self) -> str:
        """What the walk did not look at, in words; empty when it saw everything."""
        parts = []
        if self.stopped_at_depth:
            parts.append(f"stopped at depth {self.max_depth}")
        if self.stopped_at_reads:
            parts.append(f"after {self.max_reads} reads")
        return " / ".join(parts) + ": more may exist" if parts else ""


def classify(node: DepNode, unlinked: Mapping[str, str]) -> tuple[str, str] | None:
    """(kind, reason) when ``node`` ends a chain by itself, None when the walk goes on."""
    status = node.status
    if node.type not in _WORK_TYPES:
        return "prompt", f"unresolved {node.type.lower()} dependency"
    if status is None:
        return "unknown", "status unknown"
    if status in FAILED_STATUSES:
        return "failed", status
    if node.common_status in _HELD_COMMON:
        return "held", "held by an operator"
    if status in _CANCELLED:
        return "cancelled", "cancelled"
    if status in _RUNNING:
        problem = _ws_problem(node, unlinked)
        if problem:
            return "unlinked", problem
        return "running", f"{status}: still running"
    return None


def _ws_problem(node: DepNode, unlinked: Mapping[str, str]) -> str:
    problem = unlinked.get(node.workstation) if node.workstation else None
    return f"workstation {node.workstation} {problem}" if problem else ""


async def walk_root_causes(
    reader: NeighbourReader,
    start: DepNode,
    *,
    unlinked: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
    max_depth: int = 10,
    max_reads: int = 100,
) -> RootCauseReport:
    """The root causes of ``start`` waiting, breadth first (the nearest causes first).

    ``unlinked``: workstation name -> problem in words ("not linked"), from the
    workstations state the app holds. Every node is read at most once (a diamond or a
    cycle costs nothing more); a failed read is recorded and its branch given up.
    """
    ws = unlinked() if callable(unlinked) else (unlinked or {})
    causes: list[Cause] = []
    errors: list[str] = []
    seen: set[str] = {start.id}
    reads = 0
    depth_reached = 0
    stopped_depth = stopped_reads = False
    level: list[tuple[DepNode, tuple[DepNode, ...]]] = [(start, ())]
    depth = 0
    while level:
        following: list[tuple[DepNode, tuple[DepNode, ...]]] = []
        for node, chain in level:
            if depth >= max_depth:
                stopped_depth = True
                break
            if reads >= max_reads:
                stopped_reads = True
                break
            reads += 1
            try:
                preds = await reader.predecessors(node)
            except Exception as exc:  # one branch lost, the walk goes on
                errors.append(f"{node.label}: {_reason(exc)}")
                continue
            waiting_on = [p for p in preds if p.status not in SATISFIED_STATUSES]
            for pred in waiting_on:
                if pred.id in seen:
                    continue
                seen.add(pred.id)
                path = (*chain, pred)
                depth_reached = max(depth_reached, depth + 1)
                verdict = classify(pred, ws)
                if verdict is not None:
                    causes.append(Cause(pred, verdict[0], verdict[1], path))
                else:
                    following.append((pred, path))
            if not waiting_on:
                # Nothing upstream holds it: its workstation, else its start time, does.
                problem = _ws_problem(node, ws)
                if problem:
                    causes.append(Cause(node, "unlinked", problem, chain or (node,)))
                elif node is not start:
                    causes.append(Cause(node, "waiting", "waiting for its start time", chain))
        if stopped_depth or stopped_reads:
            break
        level = following
        depth += 1
    return RootCauseReport(
        causes=tuple(sorted(causes, key=lambda c: (not c.broken, len(c.chain)))),
        reads=reads, depth_reached=depth_reached, stopped_at_depth=stopped_depth,
        stopped_at_reads=stopped_reads, errors=tuple(errors), max_depth=max_depth,
        max_reads=max_reads)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__
