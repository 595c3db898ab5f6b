"""Step type `describe`: the corpus overall and by each declared attribute."""

from __future__ import annotations

from hcrisis.ingest.corpus import corpus_summary
from hcrisis.study.runner import StepContext
from hcrisis.tables import write_table


def describe(ctx: StepContext) -> None:
    """corpus_overall and corpus_by_<attribute> (settings `by`: default every declared attribute),
    words counted on the run's tokens."""
    tokens = ctx.tokens()
    for by in ctx.settings.get("by", ctx.corpus.attributes):
        ctx.wrote(write_table(corpus_summary(ctx.corpus, by, tokens=tokens), ctx.out / f"corpus_by_{by}",
                              title=f"Corpus {ctx.corpus.name} by {by}"))
    ctx.wrote(write_table(corpus_summary(ctx.corpus, tokens=tokens), ctx.out / "corpus_overall",
                          title=f"Corpus {ctx.corpus.name}"))
