"""Per-keystroke cost of the ``/`` filter's query terms on a 200k-job plan.

Types a query one character at a time into ``JobsView.set_filter`` (what the jobs pane
calls on every ``Input.Changed``) and times each keystroke; the baseline is a plain
substring filter typed the same way in the same run. The plan is the one
the simulator's (``resync-tui sim``'s, seed 1), read and mapped as the app does
(``bench_plan_fetch.read_plan``); the queries use its names. Figures one per line, then
one JSON object.

``first_keystroke_ms``: the slowest first keystroke after an empty filter (the view
builds every row's haystack then, and drops them when the filter is emptied again);
it is among the keystrokes the percentiles count.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from datetime import UTC, datetime

from bench_plan_fetch import read_plan

from resync_tui.model.jobs_view import JobsView

TYPED_QUERY = "group=failed ws=AGT_@ !job=@LOAD rc>0 finance"
TYPED_WORDS = "billing_0 send_"
EVERY_TERM = ("status=ABEND,FAIL ws=AGT_@ stream=BILLING_@ job=@_@ folder=/SALES/@ rc>=0 "
              "group=failed")


def keystrokes(view: JobsView, text: str) -> list[float]:
    """Milliseconds of each keystroke typing ``text``, then erasing back to empty."""
    times: list[float] = []
    typed = [text[:n] for n in range(1, len(text) + 1)]
    for value in [*typed, *reversed(typed[:-1]), ""]:
        begin = time.perf_counter()
        view.set_filter(value)
        len(view)  # what the table asks next
        times.append((time.perf_counter() - begin) * 1000)
    return times


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    view = JobsView(clock=lambda: datetime.now(UTC))
    view.apply(asyncio.run(read_plan(args.rows)))
    gc.collect()
    gc.freeze()
    figures: dict[str, float] = {"rows": args.rows}
    words = keystrokes(view, TYPED_WORDS)
    terms = keystrokes(view, TYPED_QUERY)
    every = keystrokes(view, EVERY_TERM)
    figures["first_keystroke_ms"] = round(max(words[0], terms[0], every[0]), 2)
    figures["substring_keystroke_p50_ms"] = p(words, 0.5)
    figures["substring_keystroke_p99_ms"] = p(words, 0.99)
    figures["query_keystroke_p50_ms"] = p(terms, 0.5)
    figures["query_keystroke_p99_ms"] = p(terms, 0.99)
    figures["query_keystroke_max_ms"] = round(max(terms), 2)
    figures["every_term_keystroke_p50_ms"] = p(every, 0.5)
    figures["every_term_keystroke_p99_ms"] = p(every, 0.99)
    figures["query_p50_ratio_vs_substring"] = round(
        statistics.median(terms) / max(statistics.median(words), 0.001), 2)
    figures["query_p99_ratio_vs_substring"] = round(
        figures["query_keystroke_p99_ms"] / max(figures["substring_keystroke_p99_ms"], 0.001), 2)
    targets = {"query_keystroke_p99_ms": 100, "every_term_keystroke_p99_ms": 100}
    for name, value in figures.items():
        target = f"  (target <= {targets[name]})" if name in targets else ""
        print(f"{name}: {value}{target}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
