"""A tiny two-document corpus and study for the freq, kwic and chapter5 tests."""

from __future__ import annotations

from pathlib import Path

from conftest import write

MANIFEST = """\
name: freqtiny
attributes:
  sector: {}
  source_type: {}
  role_label: {}
participants: participants.csv
documents:
  - id: la1
    file: la1.txt
    kind: national interview
    attributes: {sector: local authority, source_type: national interview}
    participants: [P01]
  - id: ha1
    file: ha1.txt
    kind: focus group
    attributes: {sector: housing association, source_type: focus group}
    speakers: {P1: F01, P2: F02, Moderator: interviewer}
  - id: almo1
    file: almo1.txt
    kind: national interview
    attributes: {sector: ALMO, source_type: national interview}
    participants: [P03]
"""
LA1 = ("Interviewer: Tell me about housing and managing people.\n"
       "R: Yeah, you know, housing is about people. Managing people, managed budgets.\n"
       "I mean the houses matter, um, and tenants.\n")
HA1 = ("Moderator: What about tenants?\n"
       "P1: Tenants and customers. Housing tenants.\n"
       "P2: Communication with tenants, sort of honesty. Managers manage.\n")
ALMO1 = "Interviewer: And values?\nR: Yes, yes.\n"   # the ALMO segment: words, none of them counted
STUDY = """\
study: tiny
corpus: corpus
outputs: out
design: design
segments:
  - id: la
    label: Local authority
    where: {sector: local authority}
  - id: ha
    label: Housing association
    where: {sector: housing association}
  - id: almo
    label: ALMO
    where: {sector: ALMO}
settings:
  freq: {min_length: 3}
"""


def make_study(root: Path, study: str = STUDY) -> Path:
    """corpus/ (two documents), study.yaml; return the study file."""
    corpus = root / "corpus"
    write(corpus / "manifest.yaml", MANIFEST)
    write(corpus / "participants.csv", "participant_id,role_label\nP01,Director\nF01,Officer\nF02,Officer\n"
                                       "P03,Chief\n")
    write(corpus / "la1.txt", LA1)
    write(corpus / "ha1.txt", HA1)
    write(corpus / "almo1.txt", ALMO1)
    return write(root / "study.yaml", study)
