"""Segments: named slices of a corpus's segments table, selected by attribute values.

A segment (e.g. "local authority interviews") keeps the rows whose attribute
columns hold one of the wanted values; interviewer turns are left out unless
`include_interviewer` is set. Studies declare segments by id; commands make
them from `--where ATTR=VALUE` or `--by ATTR`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Segment:
    """A named slice of the segments table (e.g. the thesis's Figure 5.2)."""

    id: str
    label: str
    where: dict[str, Any] = field(default_factory=dict)
    figure: str | None = None
    section: str | None = None
    include_interviewer: bool = False

    def mask(self, segments: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of `segments` in this segment."""
        keep = np.ones(len(segments), dtype=bool)
        if not self.include_interviewer and "is_interviewer" in segments:
            keep &= ~segments["is_interviewer"].to_numpy(dtype=bool)
        for column, wanted in self.where.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            keep &= segments[column].isin([str(v) for v in values]).to_numpy()
        return keep


ALL = Segment("all", "All participants")
