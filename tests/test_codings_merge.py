"""`hcrisis code`'s external merge (hcrisis.coding.codings): partitions' sorted runs merged
a block at a time give the plain sort of all their codings, whatever the ids, the runs and
the number of keys held."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import hcrisis.coding.codings as codings
from hcrisis.coding.codings import Pieces, Spill, merge

# characters that make ids prefixes of each other, compare differently as UTF-16 or
# bytes, and a NUL (which fixed-width numpy strings would drop)
IDS = st.text(alphabet="ab\x00é\u4e2d\U0001f600Z", max_size=5)


@st.composite
def runs(draw):
    """Codings (segment id, start, code) with distinct segment ids per run, in runs."""
    ids = draw(st.lists(IDS, unique=True, min_size=1, max_size=12))
    keys = sorted({(i, draw(st.integers(0, 3)), draw(st.integers(0, 4))) for i in ids
                   for _ in range(draw(st.integers(1, 4)))})
    owner = {i: draw(st.integers(0, 4)) for i in ids}      # a segment lies in one partition
    parts = [[k for k in keys if owner[k[0]] == r] for r in range(5)]
    return keys, [p for p in parts if p or draw(st.booleans())]


def _pieces(keys: list[tuple[str, int, int]], seed: int) -> Pieces:
    """A run's pieces, given to `Pieces.of` shuffled (it sorts them)."""
    keys = keys[:]
    random.Random(seed).shuffle(keys)
    return Pieces.of(np.array([k[0] for k in keys], dtype=object), np.array([k[1] for k in keys], np.int64),
                     np.array([k[2] for k in keys], np.int64),
                     {"csv": [f"{k!r}\n" for k in keys], "quotes": [f"> {k[0]}|{k[1]}\n\n" for k in keys],
                      "raw": [f"{k[0]}·{k[1]}" for k in keys]})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=runs(), held=st.integers(1, 9), seed=st.integers(0, 99), on_disk=st.booleans())
def test_property_merged_order_is_the_plain_sort(drawn, held, seed, on_disk, tmp_path_factory):
    keys, parts = drawn
    out = tmp_path_factory.mktemp("merge") / "out"
    with Spill(out, held) as spill:
        for p in parts:    # as the process that coded the partition writes it, or as the merging one does
            spill.add(_pieces(p, seed).write(spill.folder) if on_disk else _pieces(p, seed))
        merged = [(b.ids[s], int(t), int(c)) for _, b in merge(spill.runs, held)
                  for s, t, c in zip(b.segment, b.start, b.code)]
        assert merged == keys
        units = [row for chunk in spill.units() for row in chunk.itertuples(index=False)]
        assert [(u.segment_id, u.quote) for u in units] == [(k[0], f"{k[0]}·{k[1]}") for k in keys]
        written = spill.write(out / "codings.csv", "header\n", out / "quotes",
                              lambda code, n: (f"c{code}.md", f"# c{code}: {n}\n\n"))
        assert spill.codings == len(keys) and spill.segments == len({k[0] for k in keys})
    assert (out / "codings.csv").read_text("utf-8") == "header\n" + "".join(f"{k!r}\n" for k in keys)
    for code in range(5):
        mine = [k for k in keys if k[2] == code]
        path = out / "quotes" / f"c{code}.md"
        assert path.is_file() == bool(mine) and (path in written) == bool(mine)
        if mine:
            assert path.read_text("utf-8") == f"# c{code}: {len(mine)}\n\n" + "".join(
                f"> {k[0]}|{k[1]}\n\n" for k in mine)[:-1]
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]      # the runs' folder removed


def test_merge_holds_a_bounded_number_of_keys(tmp_path, monkeypatch):
    """Blocks of `held` keys over all runs, not per run; a batch never more than is held."""
    read = []
    real = codings.Cursor.read
    monkeypatch.setattr(codings.Cursor, "read", lambda self, most: read.append(most) or real(self, most))
    keys = [(f"s{i:04d}", j, 0) for i in range(300) for j in range(2)]
    with Spill(tmp_path / "out") as spill:
        for r in range(6):
            spill.add(_pieces(keys[r::6], r))
        batches = [len(b) for _, b in merge(spill.runs, 60)]
    assert set(read) == {10} and sum(batches) == len(keys) and max(batches) <= 60


def test_a_failed_write_leaves_nothing(tmp_path):
    """An error while the outputs are written: neither codings.csv nor a quotation file."""
    keys = [("a", 0, 0), ("b", 0, 1), ("c", 5, 0)]

    def refuse(code, n):
        if code == 1:
            raise OSError("disk full")
        return f"c{code}.md", "# head\n"

    with Spill(tmp_path / "out") as spill:
        spill.add(_pieces(keys, 0))
        with pytest.raises(OSError):
            spill.write(tmp_path / "out" / "codings.csv", "h\n", tmp_path / "out" / "quotes", refuse)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
