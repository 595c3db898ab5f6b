"""Exchange with QDA tools (NVivo, ATLAS.ti, MAXQDA, QualCoder) through REFI-QDA.

REFI-QDA (the Rotterdam Exchange Format Initiative's QDA standard, MIT
licence) defines a Project file (`.qdpx`: a zip holding `project.qde`, XML in
namespace `urn:QDA-XML:project:1.0`, and the sources under `sources/`) and a
Codebook file (`.qdc`). `refi_export` writes both from a corpus, a codebook
and codings; `refi_import` reads what the tools write into a corpus folder,
a `codebook.yaml` and `codings.csv`. `archive` holds the zip and XML guards
(every input is untrusted), `positions` the character-offset conventions.
"""
