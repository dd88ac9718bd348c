"""What texts cost, in SMS segments: how messages are packed into SMS bodies (one rule for
the sender and the check), the whole questionnaire by SMS, and the copy texted after a call.

- `pack`: messages share a body while it stays within their budget (`Script.sms_budget`),
  else the next one starts a new body; in a copy, a message in another language than the
  one before (the French note for the counter) starts its own body, so French stays GSM-7.
- The questionnaire: every reply a texter gets from TEST to the outcome (with its longest
  addition), on the path that costs the most; budget per language in `settings.yaml`
  `sms_questionnaire`.
- The copy: what `1` texts after a call's answer (`dialogue.nodes.sms_copy` builds it the
  same way: the caisse, the answer's `copy` form, and for the counter staff the answer's
  French `copy` form); budget `sms_budgets.copy`, in total.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..sms_segments import count, fold_for_sms, split
from ..text import fill, plain
from . import paths
from .code_messages import M
from .schema import AnswerNode, CaisseNode, ComedeNode, NodeBase, OutcomeNode
from .script import REFERENCE_LANG, Script

Piece = tuple[str, str, str]  # message id, its language, its text (placeholders filled)

# the caisse in a copy, as the Caisse node shows one with an address and a number
CAISSE = (M.CPAM_TOWN, M.CPAM_CAISSE, M.CPAM_CHECK)


def pack(script: Script, pieces: Sequence[Piece], kind: str | None = None) -> list[str]:
    """SMS bodies for messages (French marks removed, folded to GSM-7 where the language
    allows), as the sender sends them."""
    groups: list[tuple[list[str], list[str], list[str]]] = []  # ids, langs, texts

    def render(langs: list[str], texts: list[str]) -> str:
        body = "\n".join(texts)
        if all(script.languages[c].sms_fold for c in langs):
            body = fold_for_sms(body)  # French, English: a stray ê or ’ must not double it
        return body

    def limit(ids: list[str], body: str) -> int:
        return script.sms_budget(ids, count(body).encoding, kind)

    for msg_id, code, text in pieces:
        text = plain(text)
        if not text:
            continue
        if groups:
            ids, langs, texts = groups[-1]
            other_language = kind == "copy" and langs[-1] != code
            joined = render(langs + [code], texts + [text])
            if not other_language and count(joined).segments <= limit(ids + [msg_id], joined):
                ids.append(msg_id)
                langs.append(code)
                texts.append(text)
                continue
        groups.append(([msg_id], [code], [text]))
    bodies = []
    for ids, langs, texts in groups:
        body = render(langs, texts)
        bodies.extend(split(body, limit(ids, body)))
    return bodies


def segments(bodies: Sequence[str]) -> int:
    return sum(count(b).segments for b in bodies)


@dataclass
class SmsCost:
    lang: str
    questionnaire: int = 0  # segments from TEST to the outcome, longest path
    questionnaire_path: list[str] = field(default_factory=list)
    copy: int = 0  # segments of the costliest copy after a call
    copy_of: str = ""
    encoding: str = "GSM-7"


class Costs:
    """Texts of messages with sample values, as the check measures them."""

    def __init__(self, script: Script, values: dict[str, str]):
        self.script, self.values = script, values

    def piece(self, lang: str, msg_id: str, channel: str = "sms") -> Piece:
        msg = self.script.message(lang, msg_id) or self.script.message(REFERENCE_LANG, msg_id)
        text = msg.text(channel) if msg is not None else ""
        return msg_id, lang, fill(text, self.values, missing="1234")

    def reply(self, lang: str, msg_ids: Sequence[str], kind: str | None = None) -> int:
        return segments(pack(self.script, [self.piece(lang, m) for m in msg_ids], kind))

    # -- the questionnaire --------------------------------------------------
    def questionnaire(self, lang: str, start: str) -> tuple[int, list[str]]:
        """The costliest way from `start` to an outcome: segments and nodes (`paths.ways`:
        each prompt on the way, then the outcome with every addition the facts allow)."""
        script = self.script
        best: tuple[int, list[str]] = (0, [])
        for path, facts in paths.ways(script, start):
            node = script.nodes[path[-1]]
            if not isinstance(node, OutcomeNode):
                continue
            spent = 0
            for node_id in path[:-1]:
                prompt = getattr(script.nodes[node_id], "prompt", None)
                if prompt:
                    spent += self.reply(lang, [prompt])
            # every addition these facts allow, as the engine adds all that hold
            spent += self.reply(lang, [node.message, *paths.possible_adds(self.script, node, facts)])
            if spent > best[0]:
                best = (spent, path)
        return best

    # -- the copy after a call ----------------------------------------------
    def copy_pieces(self, lang: str, node: NodeBase, adds: Sequence[str] = ()) -> list[Piece]:
        """What `1` texts after this answer (as `dialogue.nodes.sms_copy` builds it)."""
        if isinstance(node, OutcomeNode):
            ids = [M.COUNTER_INTRO, *CAISSE, node.message, *adds]
            pieces = [self.piece(lang, m, "copy") for m in ids]
            if lang != REFERENCE_LANG:
                pieces.append(self.piece(REFERENCE_LANG, node.message, "copy"))
            return pieces
        if isinstance(node, CaisseNode):
            return [self.piece(lang, m, "copy") for m in (M.COUNTER_INTRO, *CAISSE)]
        if isinstance(node, ComedeNode):
            return [self.piece(lang, m, "copy") for m in (node.message, M.COMEDE_CONTACT,
                                                          M.COMEDE_CHECK)]
        if isinstance(node, AnswerNode):
            return [self.piece(lang, node.message, "copy")]
        return []

    def costliest_copy(self, lang: str) -> tuple[int, str]:
        """The costliest copy: each answer, an outcome with every set of additions that can
        hold together (those the facts of a way to it allow)."""
        forms: dict[str, set[tuple[str, ...]]] = {n.id: {()} for n in self.script.nodes.values()}
        for path, facts in paths.ways(self.script, self.script.main):
            node = self.script.nodes[path[-1]]
            if isinstance(node, OutcomeNode):
                forms[node.id].add(tuple(paths.possible_adds(self.script, node, facts)))
        worst = (0, "")
        for node in self.script.nodes.values():
            for adds in forms[node.id]:
                pieces = self.copy_pieces(lang, node, adds)
                if pieces:
                    n = segments(pack(self.script, pieces, "copy"))
                    if n > worst[0]:
                        worst = (n, " + ".join([node.id, *adds]))
        return worst


def measure(script: Script, values: dict[str, str]) -> list[SmsCost]:
    costs = Costs(script, values)
    quiz = script.commands.get("quiz")
    out = []
    for lang, spec in script.languages.items():
        cost = SmsCost(lang, encoding="GSM-7" if spec.sms_fold else "UCS-2")
        if quiz is not None and quiz.goto:
            cost.questionnaire, cost.questionnaire_path = costs.questionnaire(lang, quiz.goto)
        cost.copy, cost.copy_of = costs.costliest_copy(lang)
        out.append(cost)
    return out


def faults(script: Script, costs: list[SmsCost]) -> list[str]:
    out = []
    budgets = script.sms_questionnaire
    for c in costs:
        limit = budgets.get(c.lang, budgets.get("other"))
        if limit is not None and c.questionnaire > limit:
            out.append(f"sms {c.lang}: the questionnaire takes {c.questionnaire} segments from "
                       f"TEST to an outcome, budget {limit}: shorten the prompts on "
                       f"{' > '.join(c.questionnaire_path)}")
        copy_limit = script.sms_budget([], c.encoding, "copy")
        if c.copy > copy_limit:
            out.append(f"sms {c.lang}: the copy of {c.copy_of} texted after a call takes "
                       f"{c.copy} {c.encoding} segments, budget {copy_limit}: shorten its "
                       f"`copy:` form")
    return out


def format_costs(costs: list[SmsCost]) -> list[str]:
    return [f"sms {c.lang}: questionnaire {c.questionnaire} segments (to "
            f"{c.questionnaire_path[-1] if c.questionnaire_path else '-'}), costliest copy "
            f"after a call {c.copy} {c.encoding} segments ({c.copy_of})" for c in costs]


def sample_values(script: Script, today: dt.date) -> dict[str, str]:
    from .timing import Clock  # the values the listening times use

    return Clock(script, today).values
