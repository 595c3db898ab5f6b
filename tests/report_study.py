"""A small study that is not the thesis: library users, with its own attributes and codebook.

Two branches (central, village) and two kinds of visitor (student, retiree)
declared with their values and descriptions; a four-code codebook about
access and services; segments with figures and a comparison cloud. One
participant's name and an e-mail address are in the text, for the
identifier masking, and a turn holds a spreadsheet formula.
"""

from __future__ import annotations

from pathlib import Path

from conftest import write

FILES = {
    "corpus/manifest.yaml": """\
name: library-users
description: Interviews with public library users (fictional test corpus)
attributes:
  branch: {description: Library branch, values: [central, village]}
  visitor: {description: Kind of visitor, values: [student, retiree]}
participants: participants.csv
documents:
  - id: u1
    file: u1.txt
    kind: interview
    attributes: {branch: central}
    participants: [S1]
  - id: u2
    file: u2.txt
    kind: interview
    attributes: {branch: village}
    participants: [R1]
  - id: g1
    file: g1.txt
    kind: focus group
    attributes: {branch: central}
    speakers: {Moderator: interviewer, Ann: S2, Bob: R2}
""",
    "corpus/participants.csv": """\
participant_id,visitor,name
S1,student,Alice Jones
R1,retiree,Robert Stone
S2,student,Ann Lee
R2,retiree,Bob Hill
""",
    "corpus/u1.txt": """\
Interviewer: How do you use the library?
R: I come for the wifi and the computers, mostly to study. The opening hours suit me in term time.
The computers are quick and the internet rarely drops. I borrow novels too, and I tell my friend Alice about new books.
Interviewer: Anything else?
R: Write to alice@example.org if you want my notes. =HYPERLINK("http://bad.example") is what I typed once.
""",
    "corpus/u2.txt": """\
Interviewer: What brings you to the village library?
R: Books, always books. I read two novels a week and the librarian orders books for me.
The bus only comes twice a day, so the opening hours matter; parking is easy though.
I never use the computers, but my grandson uses the wifi.
""",
    "corpus/g1.txt": """\
Moderator: Welcome. What would you change?
Ann: Longer opening hours in exams. The wifi is slow upstairs and the computers are always taken.
Bob: More large print books and novels. The bus stop is far, and parking costs too much.
Ann: More computers, and quiet rooms to study.
Bob: Books for my book club, and a warm room.
""",
    "codebook.yaml": """\
codebook: library
version: "0.1"
codes:
  - id: access
    label: Getting to the library
    definition: How users reach the library and when it is open.
    codes:
      - id: opening_hours
        label: Opening hours
        rules: {keywords: [hour], phrases: [opening hours]}
      - id: travel
        label: Travel and parking
        rules: {keywords: [bus, parking]}
  - id: services
    label: What the library offers
    codes:
      - id: reading
        label: Books and reading
        rules: {keywords: [book, novel]}
      - id: digital
        label: Computers and wifi
        rules: {keywords: [computer, wifi, internet]}
""",
    "study.yaml": """\
study: library
title: How people use their public library
description: A fictional study of library users, to show the report works for any study.
corpus: corpus
codebook: codebook.yaml
outputs: outputs
segments:
  - id: central
    label: Central library users
    figure: "1"
    where: {branch: central}
  - id: village
    label: Village library users
    figure: "2"
    where: {branch: village}
  - id: students
    label: Students
    where: {visitor: student}
settings:
  clouds: {max_words: 30}
steps:
  - {id: describe, type: describe}
  - {id: frequencies, type: frequencies}
  - {id: keyness, type: keyness, settings: {pairs: [[central, village]]}}
  - {id: clouds, type: clouds, settings: {segments: [central, village], compare: [[central, village]]}}
  - {id: terms, type: terms}
  - {id: coding, type: coding}
  - {id: matrix, type: matrix, settings: {by: [branch, visitor]}}
  - {id: cooccurrence, type: cooccurrence}
  - id: published
    type: checks
    settings:
      checks:
        - {type: count, section: "2", quantity: people interviewed, segment: all, of: participants, published: 4}
        - {type: count, section: "3", quantity: mentions of books, segment: all, words: [books], published: 9}
        - {type: present, section: "3", quantity: wifi is mentioned, items: [{segment: all, words: [wifi]}]}
  - {id: report, type: report}
  - {id: html, type: html}
  - {id: workbook, type: workbook}
""",
}


def write_library_study(folder: Path) -> Path:
    """The study's files under `folder`; returns the study file."""
    for name, text in FILES.items():
        write(folder / name, text)
    return folder / "study.yaml"
