"""The job detail screen: fields, runs, dependencies, job log on demand, errors inline."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from textual.app import App
from textual.widgets import DataTable, Log, Static, TabbedContent

from resync_tui.feeds.jobs_view import JobRow
from resync_tui.ui.screens.job_detail import JobDetailLoader, JobDetailScreen

JOB = JobRow(
    job_id="JOB1", stream="PAYROLL", job="CALC", workstation="CPU1", status="ABEND", run_id="R2"
)


class _PlainLoader:
    """Serves fixed data; ``log_error`` makes the job log fail like an unreachable engine."""

    def __init__(self, log_error: Exception | None = None) -> None:
        self.log_error = log_error
        self.log_calls: list[str] = []

    async def job(self, job_id: str) -> Mapping[str, str]:
        return {"Name": "CALC", "Folder": "/HR/", "Priority": "[bold]10[/]"}

    async def runs(self, job_id: str) -> list[Mapping[str, str]]:
        return [
            {"Run": "R2", "Status": "ABEND", "RC": "12"},
            {"Run": "R1", "Status": "SUCC", "RC": "0"},
        ]

    async def predecessors(self, job_id: str) -> list[str]:
        return ["PAYROLL.EXTRACT", "\x1b]0;pwned\x07HR.LOAD"]

    async def successors(self, job_id: str) -> list[str]:
        raise ConnectionError("engine unreachable")

    async def job_log(self, run_id: str) -> str:
        self.log_calls.append(run_id)
        await asyncio.sleep(0)
        if self.log_error is not None:
            raise self.log_error
        return "=== JOB LOG ===\r\n\x1b[31mERROR\x1b[0m disk full\n[red]not markup[/]\nEXIT 12\n"


class _Host(App[None]):
    def __init__(self, loader: JobDetailLoader) -> None:
        super().__init__()
        self.loader = loader

    def on_mount(self) -> None:
        self.push_screen(JobDetailScreen(JOB, self.loader))


async def _settle(app: App[None]) -> None:
    await app.workers.wait_for_complete()


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_fields_runs_and_dependencies_are_shown_as_plain_text() -> None:
    app = _Host(_PlainLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        fields = screen.query_one("#job-detail-fields", DataTable)
        assert [str(fields.get_row_at(i)[1]) for i in range(fields.row_count)] == [
            "CALC", "/HR/", "[bold]10[/]"
        ]
        runs = screen.query_one("#job-detail-runs", DataTable)
        assert runs.row_count == 2
        preds = _text(screen.query_one("#job-detail-preds", Static))
        assert "PAYROLL.EXTRACT" in preds and "HR.LOAD" in preds and "pwned" not in preds
        succs = _text(screen.query_one("#job-detail-succs", Static))
        assert succs == "successors unavailable: engine unreachable"


async def test_job_log_is_loaded_only_when_asked_and_sanitized() -> None:
    loader = _PlainLoader()
    app = _Host(loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        assert loader.log_calls == []
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        assert loader.log_calls == ["R2"]
        assert app.screen.query_one(TabbedContent).active == "tab-log"
        log = app.screen.query_one("#job-detail-log", Log)
        assert list(log.lines) == [
            "=== JOB LOG ===", "ERROR disk full", "[red]not markup[/]", "EXIT 12"
        ]
        await pilot.press("l")
        await _settle(app)
        assert loader.log_calls == ["R2"]  # already shown: no second fetch


async def test_log_error_is_shown_inline_and_l_retries() -> None:
    loader = _PlainLoader(log_error=ConnectionError("engine unreachable"))
    app = _Host(loader)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        status = app.screen.query_one("#job-detail-log-status", Static)
        assert _text(status) == "job log unavailable: engine unreachable"
        loader.log_error = None
        await pilot.press("l")
        await _settle(app)
        await pilot.pause()
        assert loader.log_calls == ["R2", "R2"]
        assert "4 lines" in _text(status)


async def test_escape_closes_the_screen() -> None:
    app = _Host(_PlainLoader())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app)
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, JobDetailScreen)
