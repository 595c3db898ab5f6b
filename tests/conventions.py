"""Hand-made transcripts, one per label convention of real exports (no one's real transcript).

`write_folder` writes them; `WORDS` holds, per document id that `corpus
init` gives it and speaker label, the counted words (alphabetic tokens of
3+ letters, counted by hand) and the role.
"""

from __future__ import annotations

from pathlib import Path

from formats import make_pdf

ZOOM_VTT = """\
WEBVTT

1
00:00:01.000 --> 00:00:04.000
Lena Moritz (SL): Thanks for joining. How is the new rent policy landing?

2
00:00:04.500 --> 00:00:09.000
Tomas O'Hare’s iPad: Badly, to be honest. Tenants are worried.

3
00:00:09.000 --> 00:00:12.000
The arrears letters went out too early.

4
00:00:12.500 --> 00:00:15.000
Lena Moritz (SL): What would you change, Greta?

5
00:00:15.000 --> 00:00:19.000
GRETA VANCE: I agree with Tomas about visits.

6
00:00:19.000 --> 00:00:21.000
GRETA VANCE: Visits build trust.

7
00:00:21.000 --> 00:00:24.000
Tomas O'Hare’s iPad: Slower letters and more visits.
"""
OTTER_TXT = """\
Speaker 1  0:03
So tell me about the repairs backlog?

Speaker 2  0:09
It doubled after the storms. We hired two surveyors.

Speaker 1  0:20
Did that help?

Speaker 2  0:24
Only a little.
"""
REV_TXT = """\
Interviewer (00:00:05):
What does a good housing officer need?

Respondent (00:00:11):
Patience, mostly. And good notes.

Interviewer (00:00:20):
Anything else?

Respondent (00:00:23):
Knowing the law.
"""
TWO_INTERVIEWERS_TXT = """\
Interviewer 1: Thank you for coming. Could you describe your role?
interviewee: I manage a team of twelve income officers.
Interviewer2 : How has that changed since the pandemic?
interviewee: We moved to phone contact and home visits stopped.
Interviewer 1: Did visits come back?
interviewee: Some did, for vulnerable tenants.
"""
INT_R1_TXT = """\
INT: Where do you work now?
R1: At a housing association in the north.
int: And before that?
r1: A council, for ten years.
"""
QA_TXT = """\
q: What training did you get?
a: Very little, mostly shadowing.
Q: Would a qualification help?
A: Yes, the CIH one.
"""
QUALCODER_TXT = """\
[id1] What made you apply for this job?
[id2] I wanted to help people.
[id1] And now?
[id2] I still do, most days.
"""
ONE_LINE_TXT = (
    "Interviewer: Welcome to the interview about homelessness services in the city. Could you start "
    "by telling me about your current responsibilities and how long you have held them? Respondent: "
    "I have been the team leader for prevention for about six years now, and before that I was a "
    "caseworker in the same service. Interviewer: What has changed most over that time? Respondent: "
    "The numbers, above all, and the lack of affordable homes to offer people who come to us.\n")
NOTES_TXT = "Note: the visit was rescheduled to Tuesday.\nEveryone agreed.\n"
QDA_PRINT_PAGES = [
    ["Housing Study - Interview 7", "Interviewer", "How do you plan the budget?", "Participant",
     "We start from the rent roll.", "Page 1 of 2"],
    ["Housing Study - Interview 7", "Interviewer", "Who signs it off?", "Participant", "The board does.",
     "Page 2 of 2"],
]
RESPONSES_CSV = ("id,respondent,sector,comment\nr1,S1,ALMO,More staff for repairs please\n"
                 "r2,S2,local authority,Clearer pathways into management roles\n")
OLD_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def write_folder(root: Path) -> Path:
    files = {"zoom-meeting.vtt": ZOOM_VTT, "otter.txt": OTTER_TXT, "rev.txt": REV_TXT,
             "two-interviewers.txt": TWO_INTERVIEWERS_TXT, "int-r1.txt": INT_R1_TXT, "qa.txt": QA_TXT,
             "qualcoder.txt": QUALCODER_TXT, "one-line.txt": ONE_LINE_TXT, "notes.txt": NOTES_TXT,
             "qda-print.pdf": make_pdf(QDA_PRINT_PAGES), "responses.csv": RESPONSES_CSV,
             "old.doc": OLD_DOC}
    root.mkdir(parents=True)
    for name, content in files.items():
        target = root / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


# (document, label) -> (counted words, role); the label as `corpus init` maps it (first spelling).
I, P, U = "interviewer", "participant", "unlabelled"
WORDS = {
    ("zoom-meeting", "Lena Moritz (SL)"): (9 + 5, I),
    ("zoom-meeting", "Tomas O'Hare’s iPad"): (5 + 7 + 5, P),     # cue 3 continues Tomas's turn
    ("zoom-meeting", "GRETA VANCE"): (5 + 3, P),
    ("otter", "Speaker 1"): (5 + 3, I),
    ("otter", "Speaker 2"): (7 + 2, P),
    ("rev", "Interviewer"): (6 + 2, I),
    ("rev", "Respondent"): (5 + 3, P),
    ("two-interviewers", "Interviewer 1"): (9 + 4, I),
    ("two-interviewers", "Interviewer2"): (7, I),
    ("two-interviewers", "interviewee"): (5 + 7 + 5, P),
    ("int-r1", "INT"): (4 + 3, I),
    ("int-r1", "R1"): (4 + 4, P),
    ("qa", "q"): (5 + 3, I),
    ("qa", "a"): (4 + 4, P),
    ("qda-print", "Interviewer"): (5 + 3, I),
    ("qda-print", "Participant"): (5 + 3, P),
    ("qualcoder", "id1"): (7 + 2, I),
    ("qualcoder", "id2"): (3 + 3, P),
    ("one-line", "Interviewer"): (8 + 15 + 7, I),
    ("one-line", "Respondent"): (20 + 13, P),
    ("notes", ""): (8, U),                                      # no label: unlabelled
}
