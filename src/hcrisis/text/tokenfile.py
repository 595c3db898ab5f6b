"""Token arrays on disk: one Apache Arrow IPC (Feather v2) file, read back memory-mapped.

A `hcrisis.text.tokens.Tokens` table has columns of three lengths (per
token, per segment, per word type) and an Arrow file holds one table, so the
file is a table of one row whose columns are lists: per token `type_id` and
`start` (int64), `sent_start` and `space` (uint8); per segment `segment_ids`
and `bounds`; per type the columns of `Tokens.types`; the tokeniser's model
in the schema's metadata. Written uncompressed, so `read_tokens` maps the
file and the per-token columns are numpy views of the mapping, not copies
(bool columns are stored as uint8 and viewed as bool): loading a stored
corpus's tokens costs the type table only, and the pages of the token
columns are read as a stage touches them. Any Arrow reader opens the file
(`pyarrow.feather.read_table`, R's `arrow::read_feather`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hcrisis.files import atomic_path
from hcrisis.text.tokens import Tokens

PER_TOKEN = {"type_id": "int64", "start": "int64", "sent_start": "bool", "space": "bool"}
TYPE_PREFIX = "types."
MODEL_KEY = b"hcrisis.model"


def write_tokens(tokens: Tokens, path: str | Path) -> Path:
    """Write `tokens` to `path` (atomically)."""
    import pyarrow as pa
    from pyarrow import feather

    columns = {name: _list(pa.array(getattr(tokens, name).astype(np.uint8 if kind == "bool" else kind,
                                                                  copy=False)))
               for name, kind in PER_TOKEN.items()}
    columns["segment_ids"] = _list(pa.array(tokens.segment_ids, pa.string()))
    columns["bounds"] = _list(pa.array(tokens.bounds.astype(np.int64, copy=False)))
    for name in tokens.types.columns:
        columns[TYPE_PREFIX + name] = _list(pa.array(tokens.types[name].tolist()))
    table = pa.table(columns).replace_schema_metadata({MODEL_KEY: (tokens.model or "").encode("utf-8")})
    with atomic_path(path) as tmp:
        feather.write_feather(table, str(tmp), compression="uncompressed")
    return Path(path)


def _list(values):
    """One list cell holding `values` (64-bit offsets: any number of tokens)."""
    import pyarrow as pa

    return pa.LargeListArray.from_arrays(pa.array([0, len(values)], pa.int64()), values)


def read_tokens(path: str | Path) -> Tokens:
    """The `Tokens` stored at `path`, per-token columns memory-mapped; ValueError if the
    file's columns do not fit together (a damaged or foreign file)."""
    import pandas as pd
    from pyarrow import feather

    table = feather.read_table(str(path), memory_map=True)

    def cell(name: str):
        return table.column(name).chunk(0).flatten()

    arrays = {}
    for name, kind in PER_TOKEN.items():
        values = cell(name).to_numpy(zero_copy_only=True)
        arrays[name] = values.view(bool) if kind == "bool" else values
    bounds = cell("bounds").to_numpy(zero_copy_only=True)
    segment_ids = cell("segment_ids").to_pylist()
    types = pd.DataFrame({name[len(TYPE_PREFIX):]: cell(name).to_numpy(zero_copy_only=False)
                          for name in table.column_names if name.startswith(TYPE_PREFIX)})
    n = len(arrays["type_id"])
    if (len(bounds) != len(segment_ids) + 1 or bounds[0] != 0 or bounds[-1] != n
            or any(len(a) != n for a in arrays.values()) or (n and arrays["type_id"].max() >= len(types))):
        raise ValueError(f"{path}: token columns of different lengths")
    model = (table.schema.metadata or {}).get(MODEL_KEY, b"").decode("utf-8") or None
    return Tokens(segment_ids=segment_ids, bounds=bounds, types=types, model=model, **arrays)
