"""A codebook as a readable document (Markdown or HTML), for a methods appendix."""

from __future__ import annotations

import html

from hcrisis.coding.codebook import Code, Codebook

_FIELDS = (("definition", "Definition"), ("when_to_use", "When to use"),
           ("when_not_to_use", "When not to use"), ("example", "Example"))


def _rule_lines(rules: dict) -> list[tuple[str, str]]:
    """(rule kind, readable value) pairs of one code, exclusions last."""
    out = []
    for kind in ("keywords", "phrases", "regex"):
        if rules.get(kind):
            out.append((kind, ", ".join(rules[kind])))
    if rules.get("patterns"):
        out.append(("patterns", " | ".join(str(p) for p in rules["patterns"])))
    if rules.get("near"):
        out.append(("near", "; ".join(f"{' '.join(n['terms'])} within {n['within']}" for n in rules["near"])))
    for kind, values in rules.get("exclude", {}).items():
        if values:
            out.append((f"exclude {kind}", ", ".join(values)))
    return out


def code_facts(code: Code) -> list[tuple[str, str]]:
    """The code's documented fields in a fixed order, for both export formats."""
    d = code.data
    facts = [(title, " ".join(str(d[key]).split())) for key, title in _FIELDS if d.get(key)]
    facts.append(("Unit", f"{code.unit}, at least {code.min_hits} hit(s)"))
    for key, title in (("thesis_sections", "Thesis sections"), ("related", "Related codes")):
        if d.get(key):
            facts.append((title, ", ".join(d[key])))
    return facts + [(f"Rule: {k}", v) for k, v in _rule_lines(code.rules)]


def similarity_note(codebook: Codebook) -> str:
    """One sentence on the codebook's `similarity` setting ("" without one)."""
    sim = codebook.data.get("similarity")
    if not sim:
        return ""
    note = (f"Scores add {sim['weight']:g} × the cosine similarity of the unit and the code's description "
            "(label, definition, when to use, example, rule terms) to the rule score")
    if sim.get("fallback") is not None:
        note += (f"; a segment no rule codes gets its most similar turn or paragraph code when that "
                 f"similarity is at least {sim['fallback']:g}")
    return note + "."


def to_markdown(codebook: Codebook) -> str:
    """The codebook as a Markdown document (for a methods appendix)."""
    d = codebook.data
    lines = [f"# Codebook: {codebook.name}" + (f" (version {d['version']})" if d.get("version") else ""), ""]
    if d.get("description"):
        lines += [" ".join(d["description"].split()), ""]
    lines += [f"{len(codebook.themes)} themes, {len(codebook.codes)} codes.", ""]
    if similarity_note(codebook):
        lines += [similarity_note(codebook), ""]
    for code in codebook.codes:
        lines += [f"{'#' * min(code.depth + 2, 6)} {code.label} (`{code.id}`)", ""]
        lines += [f"- **{k}**: {v.replace('*', chr(92) + '*')}" for k, v in code_facts(code)] + [""]
    return "\n".join(lines).rstrip() + "\n"


def to_html(codebook: Codebook) -> str:
    """The codebook as a standalone HTML page."""
    e = html.escape
    d = codebook.data
    title = f"Codebook: {codebook.name}" + (f" (version {d['version']})" if d.get("version") else "")
    body = [f"<h1>{e(title)}</h1>"]
    if d.get("description"):
        body.append(f"<p>{e(' '.join(d['description'].split()))}</p>")
    body.append(f"<p>{len(codebook.themes)} themes, {len(codebook.codes)} codes.</p>")
    if similarity_note(codebook):
        body.append(f"<p>{e(similarity_note(codebook))}</p>")
    for code in codebook.codes:
        h = min(code.depth + 2, 6)
        colour = code.data.get("colour", "#999999")
        body.append(f'<h{h} id="{e(code.id)}" style="border-left: 0.5em solid {e(colour)}; '
                    f'padding-left: 0.4em">{e(code.label)} <code>{e(code.id)}</code></h{h}>')
        body.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in code_facts(code)) + "</dl>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title></head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
