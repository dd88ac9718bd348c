"""One handler per node type: what the node says when the person arrives, and what it does
with their answer. `handler(node)` picks it; the engine (`engine.Turn`) gives the moves
they share (enter, back, miss) and the channel's policy."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..content import rules
from ..content.code_messages import POSTCODE_STATUS, M
from ..content.schema import (
    CaisseNode,
    ComedeNode,
    LanguageNode,
    NodeBase,
    NumberNode,
    OutcomeNode,
    PostcodeNode,
    QuestionNode,
    WithOptions,
    condition_as_data,
)
from ..text import as_key, as_number
from .events import (
    CopyRequested,
    DialRequested,
    InputNotUnderstood,
    LanguageChanged,
    PostcodeFound,
    QuestionAnswered,
)
from .model import Reply, Say

if TYPE_CHECKING:
    from ..directory import ComedeContact
    from .engine import Turn


class Handler:
    """Keys that work at every prompt: * back, 9 repeat, 0 where the node's flow says."""

    def present(self, t: Turn, node: NodeBase) -> Reply:
        return Reply([t.say_filled(node.messages()[0])])

    def answer(self, t: Turn, node: NodeBase, value: str) -> Reply:
        key = self.key_of(t, node, value)
        if key is None:
            return self.not_a_key(t, node)
        if key == "*":
            return t.back()
        if key == "9":
            t.s.misses = 0
            return t.present(node)
        return self.on_key(t, node, key)

    def key_of(self, t: Turn, node: NodeBase, value: str) -> str | None:
        return as_key(value)

    def not_a_key(self, t: Turn, node: NodeBase) -> Reply:
        if t.policy.help_for_words_at_menus:
            t.emit(InputNotUnderstood(t.policy.name, node.id))
            return Reply([Say.of(M.HELP_SHORT)])
        return t.miss(M.INVALID)

    def on_key(self, t: Turn, node: NodeBase, key: str) -> Reply:
        return self.zero(t, node, key) or t.miss(M.INVALID)

    @staticmethod
    def zero(t: Turn, node: NodeBase, key: str) -> Reply | None:
        """0: where the node's flow sends it (urgent care in the questionnaire), else the
        main menu."""
        if key != "0":
            return None
        if node.zero:
            return t.enter(node.zero)
        return t.enter(t.script.main, push=False)


class Options(Handler):
    """Menus and questions: a key picks an option."""

    def key_of(self, t: Turn, node: NodeBase, value: str) -> str | None:
        key = as_key(value)
        if key is None and isinstance(node, QuestionNode) and node.yes_no:
            key = t.script.yes_no_key(t.s.lang, value)
        return key

    def not_a_key(self, t: Turn, node: NodeBase) -> Reply:
        if isinstance(node, QuestionNode):
            return t.miss(M.INVALID)
        return super().not_a_key(t, node)

    def on_key(self, t: Turn, node: NodeBase, key: str) -> Reply:
        assert isinstance(node, WithOptions)
        option = node.options.get(key)  # type: ignore[call-overload]
        if option is None:
            return self.zero(t, node, key) or t.miss(M.INVALID)
        if isinstance(node, QuestionNode):
            t.emit(QuestionAnswered(node.id, key))
        t.s.facts.update(option.set)
        return t.enter(option.next)


class Language(Handler):
    """Each language named in its own words; by voice only those a call can be held in."""

    def present(self, t: Turn, node: NodeBase) -> Reply:
        assert isinstance(node, LanguageNode)
        every = tuple(t.script.languages)
        codes = every if t.policy.all_languages else t.world.voice_languages
        says = [Say.of(node.prompt, lang=c) for c in codes]
        if not t.policy.all_languages:  # those a call cannot be held in, by SMS, named in
            # a voice their speakers understand until they are recorded (Pashto in Dari)
            says += [Say.of(M.LANGUAGE_SMS_OPTION, lang=c) for c in t.world.sms_menu_languages
                     if c not in codes]
        named = set(codes) | set(t.world.sms_menu_languages)
        if any(c not in named for c in every):
            # the others are served by SMS: say so in the languages most callers share
            says += [Say.of(M.LANGUAGE_SMS_ONLY, lang=c) for c in ("fr", "en") if c in codes]
        return Reply(says)

    def on_key(self, t: Turn, node: NodeBase, key: str) -> Reply:
        code = t.script.by_key(key)
        if code and (t.policy.all_languages or code in t.world.voice_languages):
            return choose_language(t, code)
        if code:
            return sms_only(t, code)
        return t.miss(M.INVALID)


def sms_only(t: Turn, code: str) -> Reply:
    """A language the call cannot be held in: its texts go by SMS, and the call ends."""
    t.s.lang = code
    t.emit(LanguageChanged(code))
    spoken = [c for c in (code, "fr", "en") if c in t.world.voice_languages or c == code]
    if not t.can_text():
        return Reply([Say.of(M.LANGUAGE_SMS_TEXT_US, lang=c) for c in spoken], expect=None)
    t.emit(CopyRequested((Say.of(M.WELCOME, lang=code), Say.of(M.HELP, lang=code)), code))
    return Reply([Say.of(M.LANGUAGE_SMS_SENT, lang=c) for c in spoken], expect=None)


def choose_language(t: Turn, code: str) -> Reply:
    s = t.s
    s.lang = code
    s.misses = 0
    t.emit(LanguageChanged(code))
    waiting = s.pending.pop("after_language", None)
    if waiting and t.policy.takes_words:
        s.node = t.script.main
        reply = t.words(waiting)
        if reply is not None:
            return reply
    s.stack.clear()
    welcome = [Say.of(M.WELCOME)] if t.policy.welcomes_after_language else []
    return t.enter(t.script.main, push=False, says=welcome)


class Resume(Handler):
    """1 goes on where the caller stopped, 2 starts again."""

    def on_key(self, t: Turn, node: NodeBase, key: str) -> Reply:
        s, script = t.s, t.script
        target = s.pending.pop("resume", None)
        if key == "1" and target in script.nodes:
            return t.enter(target, push=False)
        if key in ("1", "2"):
            s.facts.clear()
            s.stack.clear()
            return t.enter(script.main, push=False, says=[Say.of(M.WELCOME)])
        s.pending["resume"] = target
        return t.miss(M.INVALID)


class Number(Handler):
    """Digits that are a number (household size, income): 0 is a number here."""

    def answer(self, t: Turn, node: NodeBase, value: str) -> Reply:
        assert isinstance(node, NumberNode)
        if value.strip() == "*":
            return t.back()
        number = as_number(value)
        if number is None:
            reply = t.words(value)
            if reply is not None:
                return reply
        if number is None or not (node.min <= number <= node.max):
            t.emit(InputNotUnderstood(t.policy.name, node.id))
            return t.missed() or t.with_first([Say.of(node.error)], t.present(node))
        t.s.facts[node.fact] = number
        t.emit(QuestionAnswered(node.id, str(number)))
        return t.enter(node.next)


class Postcode(Handler):
    """Five digits: the town is read back by voice, then the caisse."""

    def answer(self, t: Turn, node: NodeBase, value: str) -> Reply:
        assert isinstance(node, PostcodeNode)
        key = as_key(value)
        if "confirm_postcode" in t.s.pending:
            return confirm_postcode(t, node, key)
        if key == "*":
            return t.back()
        if key == "0" and t.policy.zero_leaves_postcode:
            return t.enter(t.script.main, push=False)
        return lookup_postcode(t, value, node)


def lookup_postcode(t: Turn, text: str, node: NodeBase) -> Reply:
    """A postcode typed at a postcode prompt or after `CPAM`."""
    assert isinstance(node, PostcodeNode)
    s, directory = t.s, t.world.directory
    if s.node != node.id:
        t.arrive(node.id)
    if directory is None:
        return t.with_first([Say.of(M.POSTCODE_UNAVAILABLE)], t.present(node))
    found = directory.lookup(text)
    if found.status != "ok":
        t.emit(InputNotUnderstood(t.policy.name, node.id))
        return t.missed() or t.with_first(
            [Say.of(POSTCODE_STATUS.get(found.status, M.POSTCODE_INVALID),
                    postcode=found.postcode)], t.present(node))
    if t.policy.confirms_postcode:  # keys are easy to mistype: read the town back
        s.pending["confirm_postcode"] = found.postcode
        return Reply([Say.of(M.POSTCODE_CONFIRM, town=found.town, postcode=found.postcode,
                             departement=found.departement_name or found.town)])
    return postcode_known(t, node, found.postcode, found.departement_code)


def postcode_known(t: Turn, node: PostcodeNode, postcode: str, departement: str) -> Reply:
    t.s.facts["postcode"] = postcode
    if departement:
        t.emit(PostcodeFound(departement))
    return t.enter(node.next)


def confirm_postcode(t: Turn, node: PostcodeNode, key: str | None) -> Reply:
    s = t.s
    if key == "1":
        postcode = s.pending.pop("confirm_postcode")
        directory = t.world.directory
        found = directory.lookup(postcode) if directory else None
        return postcode_known(t, node, postcode, found.departement_code if found else "")
    if key in ("2", "*"):
        s.pending.pop("confirm_postcode")
        return t.present(node)
    if key == "9":
        return lookup_postcode(t, s.pending.pop("confirm_postcode"), node)
    t.emit(InputNotUnderstood(t.policy.name, node.id))
    ended = t.missed()
    if ended:
        return ended
    postcode = s.pending.pop("confirm_postcode")
    return t.with_first([Say.of(M.INVALID)], lookup_postcode(t, postcode, node))


class AfterAnswer(Handler):
    """Information, a questionnaire answer, a caisse, Comede: by voice, keys then act on
    what was said (1 copy by SMS, 3 find my CPAM, 2 connect); by SMS a digit picks again
    from the menu the answer came from."""

    def on_key(self, t: Turn, node: NodeBase, key: str) -> Reply:
        option = getattr(node, "options", {}).get(key)
        if option is not None:  # an answer that goes on (a child's: 2, your own situation)
            t.s.facts.update(option.set)
            return t.enter(option.next)
        zero = self.zero(t, node, key)
        if zero is not None:
            return zero
        if not t.policy.keys_act_on_answer:
            return menu_before(t, key)
        if key == "1":
            return self.copy(t, node)
        if key == "3" and isinstance(node, OutcomeNode):
            return t.enter(t.script.places.find_cpam)
        if key == "2" and isinstance(node, ComedeNode):
            contact = open_comede(t)
            if contact is not None and contact.phone:
                t.emit(DialRequested(contact.phone))
                return Reply([Say.of(M.COMEDE_CONNECTING)], expect=None)
        return t.miss(M.INVALID)

    def copy(self, t: Turn, node: NodeBase) -> Reply:
        if not t.can_text():
            return t.with_first([Say.of(M.SMS_UNAVAILABLE)], footer(t, node))
        t.emit(CopyRequested(tuple(sms_copy(t, node)), t.s.lang or "fr"))
        return t.with_first([Say.of(M.SMS_QUEUED)], footer(t, node))

    def present(self, t: Turn, node: NodeBase) -> Reply:
        return t.footered(node, [t.say_filled(node.messages()[0])])


def footer(t: Turn, node: NodeBase) -> Reply:
    return Reply([t.footer(node, outcome=isinstance(node, OutcomeNode))])


def menu_before(t: Turn, key: str) -> Reply:
    """By SMS, a digit after an answer picks from the menu the answer came from."""
    s = t.s
    parent = t.script.node(s.stack[-1]) if s.stack else None
    if isinstance(parent, WithOptions) and key in parent.options:
        s.stack.pop()
        s.node = parent.id
        return t.answer(key)
    t.emit(InputNotUnderstood(t.policy.name, s.node))
    return Reply([Say.of(M.HELP_SHORT)])


def sms_copy(t: Turn, node: NodeBase) -> list[Say]:
    """What `1` sends after a call's answer, each message in its `copy` form where it has
    one (the channel picks it). After an outcome or a caisse: a note to show at the counter
    (the caisse, the outcome with its documents) in the caller's language, and for the
    staff the outcome's French copy (its own SMS, see `content.sms_cost`), within the copy
    budget in total."""
    if not isinstance(node, (OutcomeNode, CaisseNode)):
        return t.as_sms(node)
    script, facts = t.script, t.s.facts
    caisse = script.node(script.places.caisse) if facts.get("postcode") else None
    outcome = script.node(facts.get("outcome"))
    says: list[Say] = []
    for part in (caisse, outcome):
        if part is not None:
            says.extend(t.as_sms(part))
    if not says:
        return t.as_sms(node)
    says = [Say.of(M.COUNTER_INTRO), *says]
    if t.s.lang != "fr" and isinstance(outcome, OutcomeNode):
        first = next(x for x in says if x.id == outcome.message)
        says.append(dataclasses.replace(first, lang="fr"))
    return says


class Outcome(AfterAnswer):
    def present(self, t: Turn, node: NodeBase) -> Reply:
        assert isinstance(node, OutcomeNode)
        t.s.facts["outcome"] = node.id
        says = [t.say_filled(node.message)]
        for add in node.adds:
            if rules.holds(condition_as_data(add.when), t.s.facts):
                says.append(t.say_filled(add.message))
        return t.footered(node, says, outcome=True)


class Caisse(AfterAnswer):
    def present(self, t: Turn, node: NodeBase) -> Reply:
        directory = t.world.directory
        postcode = t.s.facts.get("postcode")
        found = directory.lookup(postcode) if directory and postcode else None
        if found is None or found.status != "ok":
            return t.enter(t.script.places.find_cpam, push=False)
        says = [Say.of(M.CPAM_TOWN, town=found.town, postcode=found.postcode,
                       departement=found.departement_name or found.town)]
        if found.multi_caisse:
            says.append(Say.of(M.CPAM_SEVERAL, departement=found.departement_name))
        for caisse in found.caisses:
            if caisse.address and caisse.phone:
                says.append(Say.of(M.CPAM_CAISSE, name=caisse.name, address=caisse.address,
                                   phone=caisse.phone, as_of=caisse.as_of))
            elif caisse.address:  # no number in the data: none is made up
                says.append(Say.of(M.CPAM_CAISSE_NO_PHONE, name=caisse.name,
                                   address=caisse.address, as_of=caisse.as_of))
            else:
                says.append(Say.of(M.CPAM_CAISSE_NO_ADDRESS, name=caisse.name))
        if any(not c.confirmed for c in found.caisses) or found.multi_caisse:
            says.append(Say.of(M.CPAM_CHECK))
        return t.footered(node, says)


class Comede(AfterAnswer):
    """What Comede is, then the contacts the data has a number for (nearest first when the
    person gave a postcode); a number not confirmed recently is said to be old."""

    def present(self, t: Turn, node: NodeBase) -> Reply:
        assert isinstance(node, ComedeNode)
        directory = t.world.directory
        says = [Say.of(node.message)]
        if directory is None:
            return t.footered(node, says)
        contacts = [c for c in (*directory.comede_lines(), *directory.comede_centres())
                    if c.phone]
        postcode = t.s.facts.get("postcode")
        found = directory.lookup(postcode) if postcode else None
        nearest = found.comede if found is not None and found.status == "ok" else None
        if nearest is not None and nearest.phone:
            says.append(Say.of(M.COMEDE_NEAREST, name=nearest.name, address=nearest.address,
                               phone=nearest.phone))
            contacts = [c for c in contacts if c.record_id != nearest.record_id]
        for contact in contacts:
            says.append(Say.of(M.COMEDE_CONTACT, name=contact.name, address=contact.address,
                               phone=contact.phone))
        if not contacts and (nearest is None or not nearest.phone):
            says.append(Say.of(M.COMEDE_NO_PHONE))  # no number is better than a wrong one
        shown = contacts + ([nearest] if nearest is not None else [])
        if any(c.phone and not c.confirmed for c in shown):
            says.append(Say.of(M.COMEDE_CHECK))
        if t.policy.keys_act_on_answer:
            if open_comede(t) is not None:
                says.append(Say.of(M.COMEDE_CONNECT))
            else:
                for c in shown:
                    if c.phone and c.opening_hours:
                        says.append(Say.of(M.COMEDE_HOURS, name=c.name, hours=c.opening_hours))
        return t.footered(node, says)


def open_comede(t: Turn) -> ComedeContact | None:
    """A Comede line with a number and opening hours that is open right now."""
    directory, world = t.world.directory, t.world
    if directory is None or world.weekday is None or world.now_minutes is None:
        return None
    for contact in (*directory.comede_lines(), *directory.comede_centres()):
        if directory.open_now(contact, world.weekday, world.now_minutes):
            return contact
    return None


class Branch(Handler):
    """Never waits: arriving runs straight through to where its cases lead."""

    def present(self, t: Turn, node: NodeBase) -> Reply:
        return t.enter(node.id, push=False)


_HANDLERS: dict[str, Handler] = {
    "menu": Options(), "question": Options(), "language": Language(), "resume": Resume(),
    "number": Number(), "postcode": Postcode(), "answer": AfterAnswer(),
    "help": AfterAnswer(), "outcome": Outcome(), "caisse": Caisse(), "comede": Comede(),
    "branch": Branch(),
}


def handler(node: NodeBase) -> Handler:
    return _HANDLERS[node.type]
