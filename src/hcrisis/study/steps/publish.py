"""Step types `html` and `workbook`: the run's results as report.html and tables.xlsx.

Both run after the other steps and the `report` step (whose checks.csv they
show), from the files under the outputs folder (`hcrisis.report`); the page
is written in a forked process while the workbook is written. Setting
`allow_identifiers: true` on `html` shows identifiers in quotations (masked
by default). A partial run (`--only`) leaves the full run's files as they are.
"""

from __future__ import annotations

from hcrisis.report import REPORT_HTML, TABLES_XLSX, start_for_run, write_for_run
from hcrisis.study.runner import StepContext


def html(ctx: StepContext) -> None:
    if not ctx.run.partial:
        allow = bool(ctx.settings.get("allow_identifiers", False))
        # written in another process while the workbook is written in this one
        ctx.defer(start_for_run(ctx.run, "html", ctx.out / ctx.settings.get("file", REPORT_HTML), allow))


def workbook(ctx: StepContext) -> None:
    if not ctx.run.partial:
        ctx.wrote(write_for_run(ctx.run, "workbook", ctx.out / ctx.settings.get("file", TABLES_XLSX), False))
