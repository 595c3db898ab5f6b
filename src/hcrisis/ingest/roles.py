"""Speaker roles from labels: who asks (interviewer roles) and who answers.

Interview and meeting transcripts mark roles with conventional labels. An
interviewer role is `Interviewer`, `Moderator`, `Facilitator`, `Researcher`,
`Host`, `Int`, `I`, `Q` and their numbered variants (`Interviewer 2`,
`Interviewer2`, `INT-1`); each numbered variant is its own speaker. A
participant role is `Interviewee`, `Participant`, `Respondent`, `A`, `R`, `P`
and numbered variants (`R1`, `Participant 7`); a display name may carry its
role in brackets (`Dana O'Neil (Host)`). `Speaker 1`-style labels of
transcription services and people's names carry no role: `corpus init`
guesses one (the speaker who asks most) and says so.
"""

from __future__ import annotations

import re

INTERVIEWER = "interviewer"
PARTICIPANT = "participant"
UNLABELLED = "unlabelled"

_NUMBER = r"(?:[ \t]?[-#]?[ \t]?\d{1,3})?"
_INTERVIEWER = re.compile(
    rf"(?:interviewer|moderator|facilitator|researcher|co-?host|host|int|iv|i|q){_NUMBER}",
    re.IGNORECASE)
_PARTICIPANT = re.compile(
    rf"(?:interviewee|participant|respondent|resp|ie|a|r|p){_NUMBER}", re.IGNORECASE)
# Labels that name a position in the recording, not a person nor a role.
_NEUTRAL = re.compile(rf"(?:speaker|person|guest|unknown|attendee|member|voice|caller|spk|s)"
                      rf"{_NUMBER}", re.IGNORECASE)


# A meeting's display name with its role in brackets: "Dana O'Neil (Host)".
_TAGGED = re.compile(r".{1,200}?[ \t]\((?P<role>[^()]{3,30})\)")


def label_role(label: str) -> str | None:
    """`interviewer`, `participant`, or None when the label does not say; a name with
    a role in brackets (`Ann Lee (Moderator)`) takes that role."""
    tagged = _TAGGED.fullmatch(label.strip())
    return _role(tagged["role"] if tagged else label)


def _role(label: str) -> str | None:
    """The role a label is (not carries): `Interviewer 2`, `R1`."""
    label = label.strip()
    if _INTERVIEWER.fullmatch(label):
        return INTERVIEWER
    if _PARTICIPANT.fullmatch(label):
        return PARTICIPANT
    return None


def is_role_label(label: str) -> bool:
    """A conventional role or position label (`Interviewer 1`, `R2`, `Speaker 3`): not a name
    (`Dana O'Neil (Host)` is a name with a role)."""
    return _role(label) is not None or bool(_NEUTRAL.fullmatch(label.strip()))
