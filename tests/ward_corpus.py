"""A small corpus that has nothing to do with housing: three ward interviews with
attributes `wave` and `role`, and a two-code codebook (the CLI and "From Python" tests)."""

from __future__ import annotations

from pathlib import Path

from conftest import write

MANIFEST = """\
name: ward-interviews
attributes:
  wave: {values: [early, late]}
  role: {values: [nurse, manager]}
participants: participants.csv
documents:
  - {id: w1, file: w1.txt, kind: interview, attributes: {wave: early}, participants: [N1]}
  - {id: w2, file: w2.txt, kind: interview, attributes: {wave: early}, participants: [M1]}
  - {id: w3, file: w3.txt, kind: interview, attributes: {wave: late}, participants: [N2]}
"""
TRANSCRIPTS = {
    "w1.txt": "Interviewer: How are the night shifts?\nR: Night shifts are long. Training helped with the "
              "night shifts.\nInterviewer: And staffing?\nR: Staffing is thin, training is rare.\n",
    "w2.txt": "Q: What worries you?\nA: Rotas and budgets. Budgets decide the rotas, and training waits.\n",
    "w3.txt": "Interviewer: What changed?\nR: New rotas. Night shifts are shorter now and training is weekly.\n"
              "Training on the ward, with the team.\n",
}
CODEBOOK = """\
codebook: ward
codes:
  - id: workload
    label: Workload
    rules: {keywords: [shift, rota, staffing]}
  - id: learning
    label: Learning
    rules: {keywords: ["train*"]}
"""


def make_ward(root: Path) -> Path:
    """root/interviews/ (manifest, registry, three transcripts, codebook.yaml); return the folder."""
    corpus = root / "interviews"
    write(corpus / "manifest.yaml", MANIFEST)
    write(corpus / "participants.csv", "participant_id,role\nN1,nurse\nM1,manager\nN2,nurse\n")
    for name, text in TRANSCRIPTS.items():
        write(corpus / name, text)
    write(corpus / "codebook.yaml", CODEBOOK)
    return corpus
