"""Step type `report`: reproduction.md, the run's checks and report sections.

A study with no declared checks gets no checks section: the report then
holds only what its steps wrote (corpus, coding, terms...).
"""

from __future__ import annotations

from hcrisis.files import write_atomic
from hcrisis.study.runner import Run, StepContext, checks_table, relative, status_counts
from hcrisis.tables import table_to_markdown, write_table


def render_report(run: Run) -> str:
    title = run.study.data.get("title", run.study.name)
    lines = [f"# Reproduction report: {title}", "",
             f"Study file: `{relative(run.study.path, run.out.parent)}`; corpus: `{run.corpus.name}` "
             f"({len(run.corpus.segments)} segments).", ""]
    if run.partial:
        done = [s.id for s in run.study.steps if s.id in (*run.ran, *run.skipped)]
        lines += ["A partial run: steps " + ", ".join(f"`{s}`" for s in done) + ".", ""]
    if run.checks:
        lines += ["Status counts: " + status_counts(run.checks), "",
                  "## Published numbers and claims", "", table_to_markdown(checks_table(run.checks))]
    for title, body in run.sections:
        lines += [f"## {title}", "", body.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def report(ctx: StepContext) -> None:
    """reproduction.md and, after a full run with checks, checks.csv (the `html` step's status table)."""
    ctx.wrote([write_atomic(ctx.out / ctx.run.report_name, render_report(ctx.run))])
    if ctx.run.checks and not ctx.run.partial:
        ctx.wrote(write_table(checks_table(ctx.run.checks), ctx.out / "checks", title="Published numbers and claims"))
