"""A planted benchmark for the identifier scanner without a trained model.

Sentences in the voice of housing interviews, each identifier marked
`<<kind:text>>`; the rest holds ordinary capitalised words (places,
organisations, months, sentence starts, given names that are also words) that
must not be flagged. Recall and precision are over marked items: a finding is
right when it covers exactly a marked item of the same kind.
"""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from hcrisis.ingest.names import find_names, name_lists
from hcrisis.ingest.privacy import Scanner

PLANTED = """\
<<name:Anna>> was lovely when I started, she showed me the rota.
My manager <<name:Kupor>> said we could not afford the repairs.
I rang <<name:Mrs Patel>> at the Sheffield office in March.
We moved to Leeds and then to Manchester for the new contract.
<<name:David Thompson>> chairs the board at Clarion Housing now.
You can email me on <<email:r.okafor@example.org>> any time.
My mobile is <<phone:07700 900123>> if you need it.
The office line is <<phone:0114 496 0123>> during the week.
From abroad they dial <<phone:+44 (0)20 7946 0018>> instead.
Her old number was <<phone:(0161) 496 0000>> but that is gone.
The office is at <<postcode:S1 2HE>> near the station.
Post it to <<postcode:SW1A 1AA>> please.
His National Insurance number is <<ni_number:PW 26 38 41 B>> on the form.
The tenant gave <<ni_number:AB123456D>> as her number.
See <<url:https://www.linkedin.com/in/priya-sharma-housing>> for her profile.
Sheffield City Council has a new housing strategy.
Will we get the funding? Nobody knows yet.
Grace periods for arrears were extended in May.
Hope is not a strategy, as the director said.
The Regulator of Social Housing visited in June.
We met <<name:Siobhan>> and <<name:Tom>> at the conference in Birmingham.
<<name:Oliver>> from finance explained the business plan.
Then <<name:Mwangi>> told me the budget had gone.
I worked with <<name:Dr Hughes>> on the damp and mould report.
Housing officers need resilience and patience.
London boroughs face the same pressures as Bristol.
Mark the date: the inspection is on Monday.
The Chartered Institute of Housing runs the course.
<<name:Fatima>> and I shared a caseload for two years.
Later <<name:Joseph Clarke>> took over the asset team.
Universal Credit changed how tenants pay rent.
Every Friday we review the voids with the repairs team.
I asked <<name:Claire>> whether the Leeds pilot worked.
Acme Homes and Places for People merged their call centres.
My colleague <<name:Nkechi>> handled the complaints.
It was Christmas before the boiler was fixed.
Our chief executive, <<name:Sarah Mitchell>>, wrote to every tenant.
Get in touch at <<email:housing.team@council.example.gov.uk>> for help.
Ring <<phone:020 7946 0958>> for the repairs line.
Mention <<url:https://example.org/people/jsmith>> in the bid.
Northern Ireland has a different regulator altogether.
Back in April <<name:Gareth>> ran the estate walkabouts.
I spoke to <<name:Ms Okonkwo>> about the transfer list.
The Decent Homes Standard still applies to our stock.
Yes, and <<name:Priya>> kept the tenants' panel going.
Leicester and Nottingham share a repairs framework.
Text me on <<phone:07911 123456>> after five.
We sent it to <<postcode:LS1 4AP>> but it came back.
Our trainee, <<name:Callum>>, wants to do the CIH level 4.
Summer is always busy with lettings.
<<name:Aisha Begum>> answered most of the questions herself.
The Grenfell Tower inquiry changed everything about safety.
"""
_MARK = re.compile(r"<<(?P<kind>\w+):(?P<text>[^>]+)>>")


def planted() -> tuple[str, set[tuple[str, int, int]]]:
    """The text without marks, and the marked items as (kind, start, end)."""
    text, gold, at = [], set(), 0
    pos = 0
    for m in _MARK.finditer(PLANTED):
        text.append(PLANTED[pos:m.start()])
        at += m.start() - pos
        gold.add((m.group("kind"), at, at + len(m.group("text"))))
        text.append(m.group("text"))
        at += len(m.group("text"))
        pos = m.end()
    text.append(PLANTED[pos:])
    return "".join(text), gold


def test_planted_benchmark_recall_and_precision():
    text, gold = planted()
    found = {(f.kind, f.start, f.end) for f in Scanner().find(text)}
    hits = found & gold
    recall, precision = len(hits) / len(gold), len(hits) / len(found)
    print(f"privacy benchmark: {len(gold)} planted, {len(found)} found, {len(hits)} right: "
          f"recall {recall:.3f}, precision {precision:.3f}")
    assert len(gold) == 34
    assert (len(found), len(hits)) == (34, 34)
    assert recall >= 0.95 and precision >= 0.90


def test_names_rules():
    assert find_names("Anna was lovely.") == [(0, 4)]
    assert find_names("Will we cope? Grace periods help.") == []          # words, not names
    assert find_names("We met in Florence and at Florence Street.") == []  # place prepositions, places
    assert find_names("my manager Kupor said no") == [(11, 16)]           # context, not in the lists
    assert find_names("Anna’s team") == [(0, 4)]                            # possessive left out
    assert "Will" not in name_lists().given and "Grace" in name_lists().common


@given(st.lists(st.sampled_from(["housing", "the", "rent", "in", "Sheffield", "Council", "and",
                                 "Monday", "repairs", "tenants", ".", ",", "Homes"]), max_size=30))
def test_no_name_in_text_without_names(words):
    assert find_names(" ".join(words)) == []


def test_shipped_name_lists_are_the_built_ones():
    """data/names/ is what `make names` builds from the pinned Faker version."""
    from importlib import resources

    from hcrisis.ingest.names import build_name_lists

    folder = resources.files("hcrisis").joinpath("data/names")
    for name, text in build_name_lists().items():
        assert folder.joinpath(name).read_text("utf-8") == text
