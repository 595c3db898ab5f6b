"""Step type `qdpx`: the corpus and the study's coding as a REFI-QDA project.

Researchers review automatic codings in the tool they hand-code with (NVivo,
ATLAS.ti, MAXQDA, QualCoder); the project is what `hcrisis export qdpx`
writes, from the coding step's own codings and codebook.
"""

from __future__ import annotations

from hcrisis.study.runner import StepContext


def qdpx(ctx: StepContext) -> None:
    """<study>.qdpx (or `file`), with `coder` and `positions` (codepoints or utf16) as settings."""
    from hcrisis.exchange.refi_export import export_qdpx

    coded = ctx.needs("coding")
    name = ctx.settings.get("file", f"{ctx.study.name}.qdpx")
    exported = export_qdpx(ctx.corpus, ctx.out / name, codings=coded["codings"], codebook=coded["codebook"],
                           coder=str(ctx.settings.get("coder", "hcrisis")),
                           positions=str(ctx.settings.get("positions", "codepoints")),
                           allow_identifiers=bool(ctx.settings.get("allow_identifiers", False)))
    ctx.wrote([exported.path])
