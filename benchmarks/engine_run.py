"""One command of a benchmark in its own process: `freq`, `code` or `terms` of a corpus, or
`reproduce` of a study, with an engine.

    python benchmarks/engine_run.py freq CORPUS OUT [--engine dask --workers 2]
    python benchmarks/engine_run.py terms CORPUS OUT --engine none   # the whole corpus in memory
    python benchmarks/engine_run.py reproduce STUDY OUT [--engine dask --workers 2]

Prints one JSON line: wall seconds (process start-up included, measured by
the caller), CPU seconds and peak resident MB of this process and, with the
Dask engine, of each worker (asked of the workers before the cluster
closes: the peak of the worker process since it started) or, with the local
engine's forked processes (`code`), of the largest of them (their CPU
seconds added), and the number of partitions. The CLI's own functions are
called, as `hcrisis freq`, `hcrisis code`, `hcrisis terms` and `hcrisis
reproduce --no-cache` call them (`--engine none`: the library's path without
an engine; `reproduce` without Dask runs the runner's own path, without the
CLI's early tokeniser process; its outputs are copied to OUT).
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path


def usage(who: int = resource.RUSAGE_SELF) -> tuple[float, float]:
    """CPU seconds and peak resident MB of the calling process (or of its ended children:
    their CPU seconds added, the peak of the largest)."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def reproduce(study: Path, out: Path, engine) -> Path:
    """`hcrisis reproduce STUDY --no-cache` (on `engine`), its outputs copied to `out`; the
    study's corpus folder."""
    import shutil

    from hcrisis.study.runner import reproduce as run_study

    run = run_study(study, cache=False, engine=engine)
    shutil.copytree(run.out, out)
    return run.study.corpus_path


def main(argv: list[str]) -> int:
    command, corpus, out = argv[0], Path(argv[1]), Path(argv[2])
    engine_name = argv[argv.index("--engine") + 1] if "--engine" in argv else "local"
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else None
    from hcrisis.cli import one_blas_thread
    one_blas_thread()      # as the executable does, before numpy is imported
    from hcrisis.engine.run import local_processes, open_engine
    from hcrisis.engine.partitions import open_source

    processes = local_processes() if command == "code" else 1     # as the commands choose
    with open_engine("local" if engine_name == "none" else engine_name, workers=workers,
                     processes=processes) as engine:
        if command == "freq":
            from hcrisis.ingest.segments import ALL
            from hcrisis.text.runs import run_freq
            run_freq(corpus, [ALL], out, engine=engine, allow_identifiers=True)
        elif command == "terms":
            from hcrisis.ingest.segments import ALL
            from hcrisis.text.runs import run_terms
            run_terms(corpus, [ALL], out, engine=None if engine_name == "none" else engine, allow_identifiers=True)
        elif command == "reproduce":
            corpus = reproduce(corpus, out, engine if engine.name == "dask" else None)
        else:
            from hcrisis.coding.apply import run_code
            run_code(corpus, Path(__file__).resolve().parents[1] / "codebooks" / "thesis.yaml", out, engine=engine,
                     allow_identifiers=True)
        workers_use = list(engine.client.run(usage).values()) if engine.name == "dask" else []
    if engine.name == "local" and processes > 1:     # the forked processes (and the figures' one)
        workers_use = [usage(resource.RUSAGE_CHILDREN)]
    cpu, mb = usage()
    print(json.dumps({"cpu": cpu + sum(c for c, _ in workers_use), "main_mb": mb,
                      "worker_mb": [m for _, m in workers_use],
                      "partitions": len(open_source(corpus).partitions())}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
