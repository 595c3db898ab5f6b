"""The report as one HTML page (Jinja2, autoescaped; templates shipped in `templates/`)."""

from __future__ import annotations

from functools import lru_cache

from hcrisis.report.build import Report


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("hcrisis.report", "templates"),
                       autoescape=select_autoescape(["html", "html.j2"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_html(report: Report, workbook_name: str | None) -> str:
    """The page's text; `workbook_name` is the workbook written beside it, if any."""
    from importlib import metadata

    return _environment().get_template("report.html.j2").render(
        report=report, workbook_name=workbook_name, version=metadata.version("hcrisis"))
