"""Engines: a corpus reduced partition by partition, on this machine or a Dask cluster.

A corpus is cut into partitions of whole documents (`partitions.plan`: about
`PARTITION_BYTES` of transcript files each, never reading them to decide).
A stage reduces each partition on its own to a small partial result — counts
per word form for each scope (`stages.count_words`), codings
(`stages.code_corpus`) — and the partials are merged in partition order, so
peak memory is one partition's tokens plus the result, whatever the corpus's
size. Tables are equal to the whole-corpus path's for any partitioning
(tested with random partitionings).

`local` runs the partitions one after another in this process; `dask` sends
each to a worker of a `dask.distributed` cluster (`--scheduler ADDRESS`, or a
`LocalCluster` with one single-threaded worker process per CPU). Only the
partition's description travels to a worker (document ids, or the file of a
packed partition: `hcrisis corpus pack`), never its text; the corpus's
manifest, settings and codebook are sent to each worker once.
"""

from __future__ import annotations

from hcrisis.engine.run import ENGINES, Engine, open_engine

__all__ = ["ENGINES", "Engine", "open_engine"]
