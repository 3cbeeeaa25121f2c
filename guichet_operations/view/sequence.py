"""A dossier's sequence diagram as SVG, drawn on the server: the agencies and the outside parties as
lifelines, each message between two parties as one arrow in the order it was sent, its legal
deadline beside it, a message sent past its deadline and each breach alert marked in red.
A message an agency sends itself (a back-office act, a reminder) is in the timeline, not drawn."""

from __future__ import annotations

from datetime import datetime
from html import escape

from guichet.timeutil import paris
from schemas.base import AGENCIES

OUTSIDE_BEFORE, OUTSIDE_AFTER = ("employeur",), ("travailleur", "ministere")
LANE, MARGIN, TOP, ROW = 150, 80, 70, 44
CHAR = 7  # the width of a character of an alert's label, about, at 11px: the drawing is made wide enough for it
ENGLISH = {
    "aria": "sequence of the dossier's messages",
    "late": "⚠ past its deadline ",
    "deadline": "deadline ",
    "sent": "sent",
    "breach": "⚠ deadline passed: ",
    "warning": "deadline near: ",
}
FRENCH = {
    "aria": "séquence des messages du dossier",
    "late": "⚠ après son délai légal ",
    "deadline": "délai légal ",
    "sent": "envoyé le",
    "breach": "⚠ délai dépassé : ",
    "warning": "échéance proche : ",
}


def parties_of(messages: list[dict]) -> list[str]:
    """The agencies always, the outside parties that take part, then anyone else met."""
    seen = {m["sender"] for m in messages} | {m["recipient"] for m in messages}
    order = [p for p in OUTSIDE_BEFORE if p in seen] + list(AGENCIES) + [p for p in OUTSIDE_AFTER if p in seen]
    return order + sorted(seen - set(order))


def short(moment: datetime | None) -> str:
    return paris(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def drawn(messages: list[dict]) -> list[dict]:
    """The messages that go from one party to another."""
    return [m for m in messages if m["sender"] != m["recipient"]]


def sequence_svg(messages: list[dict], alerts: list[dict], words: dict[str, str] = ENGLISH, step_label=str) -> str:
    """`words`: ENGLISH or FRENCH; `step_label`: how a step's name is shown (the console's French labels)."""
    arrows = drawn(messages)
    parties = parties_of(arrows)
    x = {p: MARGIN + LANE // 2 + i * LANE for i, p in enumerate(parties)}
    events = [(m["sent_at"], 0, "message", m) for m in arrows]
    events += [(a["at"], 1, "alert", a) for a in alerts if a["agency"] in x]
    events.sort(key=lambda e: (e[0], e[1]))
    width = 2 * MARGIN + LANE * len(parties)
    for _, _, kind, item in events:  # an alert's label runs to the right of its lifeline: never cut it
        if kind == "alert":
            width = max(width, x[item["agency"]] + 20 + CHAR * len(_alert_text(item, words, step_label)))
    height = TOP + ROW * (len(events) + 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(words["aria"])}">',
        '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head"/></marker>'
        '<marker id="head-late" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head late"/></marker></defs>',
    ]
    for party in parties:
        kind = "agency" if party in AGENCIES else "outside"
        out.append(
            f'<g class="lifeline {kind}" data-party="{escape(party)}">'
            f'<rect x="{x[party] - 60}" y="10" width="120" height="32" rx="4"/>'
            f'<text x="{x[party]}" y="31" text-anchor="middle">{escape(party)}</text>'
            f'<line x1="{x[party]}" y1="42" x2="{x[party]}" y2="{height - 10}"/></g>'
        )
    for row, (_, _, kind, item) in enumerate(events):
        y = TOP + row * ROW
        out.append(
            _arrow(item, x, y, words, step_label) if kind == "message" else _alert(item, x, y, words, step_label)
        )
    out.append("</svg>")
    return "\n".join(out)


def _arrow(m: dict, x: dict[str, int], y: int, words: dict[str, str], step_label) -> str:
    x1, x2 = x[m["sender"]], x[m["recipient"]]
    late = " late" if m["late"] else ""
    label = step_label(m["type"].split(".", 1)[1] if "." in m["type"] else m["type"])
    deadline = ""
    if m["deadline"]:
        deadline = (
            f'<text class="deadline{late}" x="{(x1 + x2) // 2}" y="{y + 14}" text-anchor="middle">'
            f"{escape(words['late'] if late else words['deadline'])}{escape(short(m['deadline']))}</text>"
        )
    return (
        f'<g class="message{late}" data-message-id="{escape(m["message_id"])}" data-type="{escape(m["type"])}">'
        f"<title>{escape(m['type'])}: {escape(m['sender'])} → {escape(m['recipient'])}, {escape(words['sent'])} "
        f"{escape(short(m['sent_at']))}</title>"
        f'<text class="when" x="4" y="{y}">{escape(short(m["sent_at"])[:10])}</text>'
        f'<text class="when" x="4" y="{y + 12}">{escape(short(m["sent_at"])[11:])}</text>'
        f'<line class="arrow{late}" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" '
        f'marker-end="url(#head{"-late" if late else ""})"/>'
        f'<text class="label" x="{(x1 + x2) // 2}" y="{y - 5}" text-anchor="middle">{escape(label)}</text>'
        f"{deadline}</g>"
    )


def _alert_text(a: dict, words: dict[str, str], step_label) -> str:
    breach = a["kind"] != "avertissement"
    return (words["breach"] if breach else words["warning"]) + step_label(a["step"]) + f" ({short(a['deadline'])})"


def _alert(a: dict, x: dict[str, int], y: int, words: dict[str, str], step_label) -> str:
    cx = x[a["agency"]]
    css = "alert breach" if a["kind"] != "avertissement" else "alert warning"
    return (
        f'<g class="{css}" data-kind="{escape(a["kind"])}"><title>{escape(a["kind"])} {escape(a["step"])}, '
        f"{escape(words['deadline'])}{escape(short(a['deadline']))}</title>"
        f'<path d="M{cx},{y - 8} L{cx + 8},{y} L{cx},{y + 8} L{cx - 8},{y} z"/>'
        f'<text x="{cx + 12}" y="{y + 4}">{escape(_alert_text(a, words, step_label))}</text></g>'
    )
