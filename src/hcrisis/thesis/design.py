"""The study design (thesis ch. 4) and corpus descriptives as tables.

The design data under `corpora/study-design/` encode the thesis's sampling:
one row per national interview (§4.5.6, Table 6), per case-study interview
(§4.5.15) and per focus group (§4.5.15), plus the published gender splits.
The `thesis.design` step type regenerates Table 6, the case-study table and
the gender splits from those rows and checks each against the published
values in `published.yaml` (the study's `design:` folder).
"""

from __future__ import annotations

import pandas as pd

from hcrisis.ingest.corpus import read_csv_table
from hcrisis.errors import CorpusError
from hcrisis.study.runner import DIFFERS, REPRODUCED, StepContext
from hcrisis.yamlspec import Field, load_validated
from hcrisis.tables import write_table

_PUBLISHED = Field("map", keys={
    "source": Field("str"),
    "values": Field("list", required=True, items=Field("map", keys={
        "id": Field("str", required=True),
        "section": Field("str", required=True),
        "quantity": Field("str", required=True),
        "value": Field("any", required=True),
        "note": Field("str"),
    })),
})


def load_published(folder) -> dict[str, dict]:
    data, _ = load_validated(folder / "published.yaml", _PUBLISHED)
    return {v["id"]: v for v in data["values"]}


def design_tables(folder) -> dict[str, pd.DataFrame]:
    """Table 6, the case-study table, focus groups and gender, from design rows."""
    interviews = read_csv_table(folder / "interviews.csv")
    groups = read_csv_table(folder / "focus_groups.csv")
    gender = read_csv_table(folder / "gender.csv")
    national = interviews[interviews["series"] == "national interview"]
    table6 = (national.groupby("organisation_type", sort=False).size()
              .rename("interviews").reset_index())
    case = interviews[interviews["series"] == "case-study interview"]
    cs_table = (case.groupby(["case_study", "organisation_type"], sort=True).size()
                .rename("senior_managers_interviewed").reset_index())
    fg = groups.assign(min_size=groups["min_size"].astype(int), max_size=groups["max_size"].astype(int))
    fg_table = (fg.groupby(["case_study", "organisation_type"], sort=True)
                .agg(focus_groups=("focus_group_id", "count")).reset_index())
    gender = gender.assign(female=gender["female"].astype(int), male=gender["male"].astype(int))
    gender["total"] = gender["female"] + gender["male"]
    gender["female_pct"] = (100 * gender["female"] / gender["total"]).round(1)
    gender["male_pct"] = (100 * gender["male"] / gender["total"]).round(1)
    gender = gender[["series", "female", "male", "total", "female_pct", "male_pct", "section"]]
    return {"table6_national_interviews": table6, "case_study_interviews": cs_table,
            "focus_groups": fg_table, "gender": gender, "_fg_rows": fg}


def _status(published, computed) -> str:
    return REPRODUCED if str(published) == str(computed) else DIFFERS


def design(ctx: StepContext) -> None:
    """The design tables (§4.5) and a check per published value."""
    folder = ctx.study.resolve("design")
    if folder is None or not (folder / "published.yaml").exists():
        raise CorpusError("study design folder has no published.yaml", path=folder or ctx.study.path,
                          fix="declare `design:` with the published reference values")
    for path in [*sorted(folder.glob("*.csv")), folder / "published.yaml"]:
        ctx.read(path)
    pub = load_published(folder)
    tables = design_tables(folder)
    fg_rows = tables.pop("_fg_rows")
    out = ctx.out
    titles = {"table6_national_interviews": "Table 6 – National interviews by type of organisation (§4.5.6)",
              "case_study_interviews": "Case-study senior managers interviewed (§4.5.15)",
              "focus_groups": "Focus groups per case study (§4.5.15)",
              "gender": "Gender of interviewees (§4.5.6, §4.5.15)"}
    for name, df in tables.items():
        ctx.wrote(write_table(df, out / name, title=titles[name]))
    _check_design(ctx, pub, tables, fg_rows)


def _check_design(ctx: StepContext, pub: dict, tables: dict, fg_rows: pd.DataFrame) -> None:
    t6 = tables["table6_national_interviews"].set_index("organisation_type")["interviews"]
    for key, ref in sorted(pub.items()):
        kind, _, item = key.partition(":")
        if kind == "table6":
            computed = int(t6.get(item, 0))
        elif kind == "table6_total":
            computed = int(t6.sum())
        elif kind == "case_study":
            cs = tables["case_study_interviews"].groupby("organisation_type")["senior_managers_interviewed"].sum()
            computed = int(cs.sum()) if item == "total" else int(cs.get(item, 0))
        elif kind == "focus_groups":
            computed = {"total": len(fg_rows), "min_size": int(fg_rows["min_size"].min()),
                        "max_size": int(fg_rows["max_size"].max()),
                        "per_case_study": int(fg_rows.groupby("case_study").size().max())}[item]
        elif kind == "gender":
            series, _, field = item.partition(".")
            row = tables["gender"].set_index("series").loc[series]
            computed = row[field]
            computed = int(computed) if field in ("female", "male", "total") else float(computed)
        else:
            continue
        published = ref["value"]
        status = _status(published, computed)
        if isinstance(published, (int, float)) and isinstance(computed, float):
            status = REPRODUCED if abs(float(published) - computed) < 1.0 else DIFFERS
        ctx.check(ref["section"], ref["quantity"], str(published), str(computed), status, ref.get("note", ""))
