"""The registry of step types a study file can name (`steps: - {id, type, settings}`).

A step type is a function `fn(ctx)` (`hcrisis.study.runner.StepContext`) in a
module named here by string: the runner imports a type's module only when a
study names the type, so nothing imports `hcrisis.thesis` unless a study
(`studies/thesis.yaml`) names a `thesis.*` type.

`reads` lists the types of the steps whose results it needs (the study may
name the steps in `reads:`; by default the runner takes the study's first
step of each type); `writes` is its folder under the study's outputs. Word
counts and tokens are shared by every step of a run without being results
(`StepContext.counter`, `.tokens`), so text steps read no other step. A new step
type is a function in a module under `hcrisis/study/steps/` (or under
`hcrisis/thesis/` for that one study's own) and a line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from hcrisis.errors import InputError


@dataclass(frozen=True)
class StepType:
    name: str
    target: str                 # "module:function"
    summary: str
    reads: tuple[str, ...] = ()
    writes: str = "tables"
    final: bool = False         # runs after every other step and its background work (the report)
    # leaves work running in other processes (`StepContext.defer`): run as early as the steps
    # it reads allow, so that work overlaps the steps declared before it
    background: bool = False
    # slow imports of the calls it submits (`StepContext.submit`), done in a process forked as the run starts
    preload: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    def function(self) -> Callable:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


_GENERIC = "hcrisis.study.steps"
# what the agreement baseline imports (`hcrisis.coding.agreement.baseline_predictions`)
_BASELINE = ("sklearn.model_selection", "sklearn.linear_model", "sklearn.pipeline",
             "sklearn.feature_extraction.text", "threadpoolctl")
STEP_TYPES = {t.name: t for t in [
    StepType("describe", f"{_GENERIC}.corpus:describe",
             "documents, segments, participants and words, overall and by each declared attribute"),
    StepType("frequencies", f"{_GENERIC}.text:frequencies",
             "word-frequency table of `all` and of every segment (freq_<segment>)"),
    StepType("keyness", f"{_GENERIC}.text:keyness", "keyness of declared `pairs` and of each segment "
             "against the rest (keyness_<a>_vs_<b>)"),
    StepType("clouds", f"{_GENERIC}.text:clouds", "a word cloud per segment (all unless `segments` "
             "narrows them) and comparison clouds of `compare` pairs", writes="figures", background=True),
    StepType("terms", f"{_GENERIC}.text:terms", "multi-word terms per segment, and the used-terms cloud",
             writes=""),
    StepType("coding", f"{_GENERIC}.coding:coding", "apply the study's codebook: codings.csv and "
             "quotations per code", writes="coding"),
    StepType("matrix", f"{_GENERIC}.coding:matrix", "matrix coding by each declared attribute "
             "(or those in `by`), with figures", reads=("coding",), writes="coding", background=True),
    StepType("cooccurrence", f"{_GENERIC}.coding:cooccurrence", "pairs of codes on the same units",
             reads=("coding",), writes="coding"),
    StepType("agreement", f"{_GENERIC}.coding:agreement", "the coding against a gold codings CSV "
             "(`gold`)", reads=("coding",), writes="coding", preload=_BASELINE, background=True),
    StepType("qdpx", f"{_GENERIC}.exchange:qdpx", "the corpus with the coding as a REFI-QDA project "
             "(<study>.qdpx) for NVivo, ATLAS.ti, MAXQDA and QualCoder", reads=("coding",), writes="coding"),
    StepType("checks", f"{_GENERIC}.checks:checks", "declared published numbers and claims "
             "(`checks`, or a `file` holding them) checked against the corpus"),
    StepType("report", f"{_GENERIC}.report:report", "reproduction.md: every check and the steps' "
             "report sections", writes="", final=True),
    StepType("html", f"{_GENERIC}.publish:html", "report.html: the study's results as one self-contained "
             "page (`file`, `allow_identifiers`)", reads=("report",), writes="", final=True),
    StepType("workbook", f"{_GENERIC}.publish:workbook", "tables.xlsx: every table of the study as a "
             "sheet of an Excel workbook (`file`)", reads=("report",), writes="", final=True),
    StepType("thesis.design", "hcrisis.thesis.design:design", "thesis chapter 4 study-design tables "
             "against their published values"),
    StepType("thesis.excerpts", "hcrisis.thesis.quotes:excerpts", "the thesis's excerpt corpus by "
             "source type and sector"),
    StepType("thesis.denominator", "hcrisis.thesis.chapter5:denominator",
             "the denominator implied by §5.2's percentages"),
    StepType("thesis.themes", "hcrisis.thesis.coding:themes", "chapter 5's key themes voiced in "
             "the coding", reads=("coding",), writes="coding"),
    StepType("thesis.agreement", "hcrisis.thesis.coding:agreement", "the coding against the "
             "author's placement of each quotation (its section), with the targets",
             reads=("coding",), writes="coding", preload=_BASELINE, background=True),
]}


def step_type(name: str, where: str | None = None) -> StepType:
    if name not in STEP_TYPES:
        raise InputError(f"unknown step type '{name}'" + (f" at {where}" if where else ""),
                         fix=f"use one of {', '.join(STEP_TYPES)}")
    return STEP_TYPES[name]
