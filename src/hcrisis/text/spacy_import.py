"""spaCy imported without its command-line package.

spaCy 3's package imports `spacy.cli` only to re-export `spacy.info`, and with
it typer, requests, weasel and httpx: about half of its import time (0.3 of
0.6 CPU-s here), paid by every process that tokenises. spaCy's maintainers
made `spacy.info` lazy for this reason (explosion/spaCy#12962, not in the 3.x
releases hcrisis supports); `import_spacy` does the same from outside: while
spaCy's package is imported, `spacy.cli.info` is a stand-in whose `info`
imports the real one when called, and afterwards `spacy.cli` imports as usual.
Call it before a process's first spaCy import (`hcrisis.text.tokens` does, in
every function that builds or registers with a pipeline); a spaCy that needs
more of its CLI while importing is imported whole.
"""

from __future__ import annotations

import sys
import types

_STAND_INS = ("spacy.cli", "spacy.cli.info")


def import_spacy() -> types.ModuleType:
    """The `spacy` module, imported now (without its CLI) unless it already is."""
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    sys.modules.update(_stand_ins())
    try:
        import spacy
        return spacy
    except ImportError:
        pass
    finally:
        for name in _STAND_INS:
            sys.modules.pop(name, None)
    for name in [n for n in sys.modules if n == "spacy" or n.startswith("spacy.")]:
        del sys.modules[name]     # the part imported with the stand-ins, imported again whole
    import spacy
    return spacy


def _stand_ins() -> dict[str, types.ModuleType]:
    cli, info = types.ModuleType(_STAND_INS[0]), types.ModuleType(_STAND_INS[1])

    def lazy_info(*args, **kwargs):
        from spacy.cli.info import info as real
        return real(*args, **kwargs)

    info.info = lazy_info
    cli.info = info
    return dict(zip(_STAND_INS, (cli, info)))
