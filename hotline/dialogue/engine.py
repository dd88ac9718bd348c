"""The dialogue engine: `step(script, session, event, world) -> (session, reply)`.

Pure: the same inputs always give the same outputs. A trigger (`start`) opens a
conversation, resumes (text, keys, speech, timeout) continue it. Node types are the
vocabulary of ivr_scripts/flow/: menu, question, number, branch, outcome, answer, postcode,
caisse, comede, language, resume, help.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..content.script import Command, Node, Script
from . import rules
from .model import Event, Expect, Reply, Say, Session, World
from .text import as_key, as_number, as_postcode, fold

MAX_MISSES = 3  # a prompt is said again twice after silence or a wrong key, then goodbye
MAX_STACK = 30
MAX_HOPS = 20  # automatic branch steps in a row: a guard against a loop in the data
RESUMABLE = {"question", "number", "outcome", "postcode", "caisse"}


def step(script: Script, session: Session, event: Event, world: World) -> tuple[Session, Reply]:
    s = dataclasses.replace(session, stack=list(session.stack), facts=dict(session.facts),
                            pending=dict(session.pending))
    s.step += 1
    turn = _Turn(script, s, event, world)
    reply = turn.sms() if event.channel == "sms" else turn.voice()
    reply.lang = s.lang
    if reply.expect is not None and not reply.silent:
        # a reply that did not say what it waits for waits for what its node asks
        node = script.node(s.node)
        if node is not None and reply.expect == Expect():
            reply.expect = _expect(node, s)
    return s, reply


def _expect(node: Node, s: Session) -> Expect:
    if node.type == "number":
        return Expect("number")
    if node.type == "postcode" and "confirm_postcode" not in s.pending:
        return Expect("postcode")
    return Expect("key", yes_no=bool(node.get("yes_no")))


class _Turn:
    """One step of one conversation: holds the inputs so the handlers stay short."""

    def __init__(self, script: Script, s: Session, event: Event, world: World):
        self.script, self.s, self.event, self.world = script, s, event, world
        self.channel = event.channel

    # -- channels ---------------------------------------------------------
    def sms(self) -> Reply:
        text = self.event.value
        match = self._command(text)
        if match and match[0].action == "opt_out":
            if self.s.opted_out:
                return Reply(silent=True, expect=None)
            self.s.opted_out = True
            return Reply([Say.of("stop.confirm", lang=self.s.lang or match[2] or "fr")],
                         expect=None)
        if match and match[0].action == "opt_in":
            self.s.opted_out = False
            self.s.lang = self.s.lang or match[2] or "fr"
            return self._with([Say.of("start.confirm")], self.enter(self.script.main, push=False))
        if self.s.opted_out:
            return Reply(silent=True, expect=None)
        if self.s.lang is None:
            return self._first_contact(text, match)
        if match:
            return self.run_command(*match)
        if not text:
            return self._with([Say.of("help.short")], self.present_current())
        return self.answer(text)

    def voice(self) -> Reply:
        kind = self.event.kind
        if kind == "start":
            return self._call_starts()
        if self.s.lang is None or self.s.node is None:
            self.s.node = self.script.language_node
        if kind == "repeat":
            return self.present_current()
        if kind == "timeout" or (kind in ("keys", "speech") and not self.event.value):
            return self.miss("no_input")
        value = self.event.value
        if kind == "speech":
            key = self.script.yes_no_key(self.s.lang, value)
            low = self.event.confidence is not None and self.event.confidence < 0.4
            if key is None or low:
                return self.miss("invalid")
            value = key
        return self.answer(value)

    # -- triggers ---------------------------------------------------------
    def _call_starts(self) -> Reply:
        s, script = self.s, self.script
        if s.lang is None or s.lang not in self.world.voice_languages:
            s.stack.clear()
            return self.enter(script.language_node, push=False)
        node = script.node(s.node)
        if node is not None and node.type in RESUMABLE:
            s.pending["resume"] = node.id
            return self.enter(script.settings["resume"], push=False)
        s.stack.clear()
        return self._with([Say.of("welcome")], self.enter(script.main, push=False))

    def _first_contact(self, text: str, match: tuple[Command, str, str | None] | None) -> Reply:
        """No language yet: the language menu; a command waits for the choice."""
        s, script = self.s, self.script
        if match and match[0].takes == "language":
            code = self._language(match[1])
            if code:
                return self._choose_language(code)
        if s.node == script.language_node:
            key = as_key(text)
            code = script.by_key(key) if key else None
            if code:
                return self._choose_language(code)
            if match:
                s.lang = match[2] or "fr"
                return self.run_command(*match)
        elif match or as_postcode(text):
            s.pending["after_language"] = text
        s.node = script.language_node
        return self.present(script.nodes[script.language_node])

    def _choose_language(self, code: str) -> Reply:
        s = self.s
        s.lang = code
        s.misses = 0
        waiting = s.pending.pop("after_language", None)
        if waiting and self.channel == "sms":
            s.node = self.script.main
            match = self._command(waiting)
            if match:
                return self.run_command(*match)
        s.stack.clear()
        welcome = [Say.of("welcome")] if self.channel == "voice" else []
        return self._with(welcome, self.enter(self.script.main, push=False))

    # -- commands (SMS words) --------------------------------------------
    def _command(self, text: str) -> tuple[Command, str, str | None] | None:
        node = self.script.node(self.s.node)
        match = self.script.match_command(text)
        in_quiz = node is not None and node.section == "quiz"
        if match and match[0].id == "menu" and fold(text) == "0" and in_quiz:
            return None  # 0 in the questionnaire means urgent care, not the menu
        if match is None and (node is None or node.type not in ("number", "postcode")):
            postcode = as_postcode(text)
            if postcode and "cpam" in self.script.commands:
                return self.script.commands["cpam"], postcode, None
        return match

    def run_command(self, cmd: Command, arg: str, word_lang: str | None) -> Reply:
        if cmd.takes == "language":
            code = self._language(arg) if arg else None
            if code:
                self.s.lang = code
                return self._with([Say.of("language.changed")],
                                  self.enter(self.script.main, push=False))
            return self.enter(self.script.language_node)
        if cmd.takes == "postcode" and arg:
            return self.lookup_postcode(arg, self.script.nodes[cmd.goto])
        return self.enter(cmd.goto)

    def _language(self, word: str) -> str | None:
        wanted = fold(word)
        for lang in self.script.languages.values():
            if wanted in (fold(lang.code), lang.key, fold(lang.name), fold(lang.english_name)):
                return lang.code
        return None

    # -- moving -----------------------------------------------------------
    def enter(self, node_id: str, push: bool = True, says: list[Say] | None = None,
              hops: int = 0) -> Reply:
        """Go to a node and present it; automatic nodes (branches) run straight through."""
        s, script = self.s, self.script
        node = script.nodes[node_id]
        if push and s.node and s.node != node_id:
            current = script.node(s.node)
            if current is not None and current.type != "branch":
                s.stack = (s.stack + [s.node])[-MAX_STACK:]
        if node.get("reset"):
            s.facts.clear()
        s.node = node_id
        s.misses = 0
        if node.type == "branch":
            if hops >= MAX_HOPS:
                return self._with(says or [], self.enter(script.main, push=False))
            return self._branch(node, says or [], hops)
        return self._with(says or [], self.present(node))

    def _branch(self, node: Node, says: list[Say], hops: int) -> Reply:
        facts = self.s.facts
        if node.get("compute") == "ceilings":
            facts.update(rules.compute(self.script.parameters, facts, self.world.today))
        for case in node.get("cases") or []:
            if "when" not in case or rules.holds(case["when"], facts):
                facts.update(case.get("set") or {})
                return self.enter(case["next"], push=False, says=says, hops=hops + 1)
        return self.enter(node.get("else"), push=False, says=says, hops=hops + 1)

    def back(self) -> Reply:
        s = self.s
        while s.stack:
            target = s.stack.pop()
            if target in self.script.nodes:
                return self.enter(target, push=False)
        return self.enter(self.script.main, push=False)

    def present_current(self) -> Reply:
        node = self.script.node(self.s.node) or self.script.nodes[self.script.main]
        self.s.node = node.id
        return self.present(node)

    def _missed(self) -> Reply | None:
        """Count a wrong answer or a silence; by voice the third one ends the call."""
        self.s.misses += 1
        if self.channel == "voice" and self.s.misses >= MAX_MISSES:
            return Reply([Say.of("goodbye")], expect=None)
        return None

    def miss(self, why: str) -> Reply:
        """A wrong key or silence: say so and ask again; the third time, goodbye (voice)."""
        return self._missed() or self._with([Say.of(why)], self.present_current())

    # -- presenting -------------------------------------------------------
    def present(self, node: Node) -> Reply:
        """What a node says when the person arrives at it (or asks to hear it again)."""
        voice = self.channel == "voice"
        t = node.type
        if t == "language":
            codes = self.world.voice_languages if voice else tuple(self.script.languages)
            says = [Say.of(node.prompt or "language.option", lang=c) for c in codes]
            if voice and len(codes) < len(self.script.languages):
                # the others are served by SMS: say so in the languages most callers share
                says += [Say.of("language.sms_only", lang=c) for c in ("fr", "en") if c in codes]
            return Reply(says)
        if t in ("menu", "question", "number", "postcode", "resume"):
            return Reply([self._say_filled(node.prompt)])
        if t == "outcome":
            self.s.facts["outcome"] = node.id
            says = [self._say_filled(node.get("message"))]
            for add in node.get("adds") or []:
                if rules.holds(add["when"], self.s.facts):
                    says.append(self._say_filled(add["message"]))
            if voice:
                says.append(Say.of(node.get("footer", "voice.after_outcome")))
            return Reply(says, outcome=node.get("code"))
        if t == "caisse":
            return self._caisse_reply(node)
        if t == "comede":
            return self._comede_reply(node)
        # answer, help: a message and, by voice, what the keys do now
        return self._footered(node, [self._say_filled(node.get("message"))])

    def _say_filled(self, msg_id: str) -> Say:
        """A message with the values its words use: the person's facts, else this year's
        amounts. Only those: two people who get the same words get the same Say (and the
        channels can reuse what they rendered for it)."""
        wanted = self.script.placeholders(msg_id)
        if not wanted:
            return Say.of(msg_id)
        facts = self.s.facts
        params = {k: facts[k] for k in wanted
                  if k in facts and isinstance(facts[k], (int, float, str))}
        if len(params) < len(wanted):
            amounts = rules.reference_amounts(self.script.parameters, self.world.today)
            params.update((k, amounts[k]) for k in wanted if k not in params and k in amounts)
        return Say.of(msg_id, **params)

    def _with(self, first: list[Say], reply: Reply) -> Reply:
        reply.says = first + reply.says
        return reply

    # -- answering --------------------------------------------------------
    def answer(self, value: str) -> Reply:
        """Text or keys at the current node."""
        s, script = self.s, self.script
        node = script.node(s.node)
        if node is None:
            node = script.nodes[script.main]
            s.node = node.id
        key = as_key(value)
        if node.type == "number":
            return self._number(node, value)
        if node.type == "postcode":
            if "confirm_postcode" in s.pending:
                return self._confirm_postcode(node, key)
            if key == "*":
                return self.back()
            if key == "0" and self.channel == "sms":
                return self.enter(script.main, push=False)
            return self.lookup_postcode(value, node)
        if key is None and node.type == "question" and node.get("yes_no"):
            key = script.yes_no_key(s.lang, value)
        if key is None:
            if self.channel == "sms" and node.type != "question":
                return Reply([Say.of("help.short")])
            return self.miss("invalid")
        if key == "*":
            return self.back()
        if key == "9":
            s.misses = 0
            return self.present(node)
        if node.type == "language":
            code = script.by_key(key)
            if code and (self.channel == "sms" or code in self.world.voice_languages):
                return self._choose_language(code)
            if code:
                return self._sms_only(code)
            return self.miss("invalid")
        if node.type == "resume":
            target = s.pending.pop("resume", None)
            if key == "1" and target in script.nodes:
                return self.enter(target, push=False)
            if key in ("1", "2"):
                s.facts.clear()
                s.stack.clear()
                return self._with([Say.of("welcome")], self.enter(script.main, push=False))
            s.pending["resume"] = target
            return self.miss("invalid")
        if key in node.options:
            option = node.options[key]
            s.facts.update(option.set)
            return self.enter(option.next)
        if key == "0":
            if node.section == "quiz":
                return self.enter(script.urgent_node)
            return self.enter(script.main, push=False)
        if node.type in ("menu", "question"):
            return self.miss("invalid")
        return self._after_answer(node, key)

    def _after_answer(self, node: Node, key: str) -> Reply:
        """Keys after an answer: 1 copy by SMS (voice); by SMS a digit picks from the menu before."""
        s, script = self.s, self.script
        if self.channel == "voice":
            if key == "1":
                if not self.world.outbound_sms:
                    return self._with([Say.of("sms.unavailable")], self._footer(node))
                reply = self._with([Say.of("sms.queued")], self._footer(node))
                reply.texts = self._sms_copy(node)
                return reply
            if key == "3" and node.type == "outcome" and script.settings.get("find_cpam"):
                return self.enter(script.settings["find_cpam"])
            if key == "2" and node.type == "comede":
                contact = self._open_comede()
                if contact is not None:
                    return Reply([Say.of("comede.connecting")], expect=None, dial=contact.phone)
            return self.miss("invalid")
        parent = script.node(s.stack[-1]) if s.stack else None
        if parent is not None and parent.type == "menu" and key in parent.options:
            s.stack.pop()
            s.node = parent.id
            return self.answer(key)
        return self._with([Say.of("help.short")], Reply([]))

    def _sms_only(self, code: str) -> Reply:
        """A language the call cannot be held in: its texts go by SMS, and the call ends."""
        self.s.lang = code
        spoken = [c for c in (code, "fr", "en") if c in self.world.voice_languages or c == code]
        if not self.world.outbound_sms:
            return Reply([Say.of("language.sms_text_us", lang=c) for c in spoken], expect=None)
        reply = Reply([Say.of("language.sms_sent", lang=c) for c in spoken], expect=None)
        reply.texts = [Say.of("welcome", lang=code), Say.of("help", lang=code)]
        return reply

    def _sms_copy(self, node: Node) -> list[Say]:
        """What `1` sends after a call's answer. After an outcome or a caisse: a note to show
        at the counter (the caisse, the outcome with its documents), in the caller's
        language and, for the staff, in French."""
        if node.type not in ("outcome", "caisse"):
            return self.present_in("sms", node).says
        says = []
        outcome = self.script.node(self.s.facts.get("outcome"))
        for part in (self.script.node(self.script.settings.get("caisse", "cpam.result"))
                     if self.s.facts.get("postcode") else None, outcome):
            if part is not None:
                says.extend(x for x in self.present_in("sms", part).says)
        if not says:
            return self.present_in("sms", node).says
        says = [Say.of("counter.intro")] + says
        if self.s.lang != "fr":
            says += [dataclasses.replace(x, lang="fr") for x in says]
        return says

    def _open_comede(self):
        """A Comede line with a number and opening hours that is open right now."""
        directory, world = self.world.directory, self.world
        if directory is None or world.weekday is None or world.now_minutes is None:
            return None
        from ..directory import is_open

        for contact in (*directory.comede_lines(), *directory.comede_centres()):
            if contact.phone and contact.opening_hours and \
                    is_open(contact.opening_hours, world.weekday, world.now_minutes):
                return contact
        return None

    def _footer(self, node: Node) -> Reply:
        default = "voice.after_outcome" if node.type == "outcome" else "voice.after_answer"
        return Reply([Say.of(node.get("footer", default))])

    def present_in(self, channel: str, node: Node) -> Reply:
        """The same node as another channel would present it (for the SMS copy of a call)."""
        saved = self.channel
        self.channel = channel
        try:
            return self.present(node)
        finally:
            self.channel = saved

    def _number(self, node: Node, value: str) -> Reply:
        s = self.s
        if value.strip() == "*":
            return self.back()
        number = as_number(value)
        if number is None and self.channel == "sms":
            match = self._command(value)
            if match:
                return self.run_command(*match)
        low, high = node.get("min", 0), node.get("max", 10**9)
        if number is None or not (low <= number <= high):
            return self._missed() or self._with([Say.of(node.get("error", "invalid"))],
                                                self.present(node))
        s.facts[node.get("fact")] = number
        return self.enter(node.get("next"))

    # -- directory --------------------------------------------------------
    def lookup_postcode(self, text: str, node: Node) -> Reply:
        """A postcode typed at a postcode prompt or after `CPAM`."""
        s = self.s
        directory = self.world.directory
        if s.node != node.id:
            self.enter(node.id)
        if directory is None:
            return self._with([Say.of("postcode.unavailable")], self.present(node))
        found = directory.lookup(text)
        if found.status != "ok":
            return self._missed() or self._with(
                [Say.of(f"postcode.{found.status}", postcode=found.postcode)], self.present(node))
        if self.channel == "voice":  # keys are easy to mistype: read the town back
            s.pending["confirm_postcode"] = found.postcode
            return Reply([Say.of("postcode.confirm", town=found.town, postcode=found.postcode,
                                 departement=found.departement_name or found.town)])
        s.facts["postcode"] = found.postcode
        return self.enter(node.get("next"))

    def _confirm_postcode(self, node: Node, key: str | None) -> Reply:
        s = self.s
        if key == "1":
            s.facts["postcode"] = s.pending.pop("confirm_postcode")
            return self.enter(node.get("next"))
        if key in ("2", "*"):
            s.pending.pop("confirm_postcode")
            return self.present(node)
        if key == "9":
            postcode = s.pending.pop("confirm_postcode")
            return self.lookup_postcode(postcode, node)
        ended = self._missed()
        if ended:
            return ended
        postcode = s.pending.pop("confirm_postcode")
        return self._with([Say.of("invalid")], self.lookup_postcode(postcode, node))

    def _caisse_reply(self, node: Node) -> Reply:
        directory = self.world.directory
        postcode = self.s.facts.get("postcode")
        found = directory.lookup(postcode) if directory and postcode else None
        if found is None or found.status != "ok":
            return self.enter(self.script.settings["find_cpam"], push=False)
        says = [Say.of("cpam.town", town=found.town, postcode=found.postcode,
                       departement=found.departement_name or found.town)]
        if found.multi_caisse:
            says.append(Say.of("cpam.several", departement=found.departement_name))
        for caisse in found.caisses:
            if caisse.address and caisse.phone:
                says.append(Say.of("cpam.caisse", name=caisse.name, address=caisse.address,
                                   phone=caisse.phone, as_of=caisse.as_of))
            elif caisse.address:  # no number in the data: none is made up
                says.append(Say.of("cpam.caisse_no_phone", name=caisse.name,
                                   address=caisse.address, as_of=caisse.as_of))
            else:
                says.append(Say.of("cpam.caisse_no_address", name=caisse.name))
        if any(not c.confirmed for c in found.caisses) or found.multi_caisse:
            says.append(Say.of("cpam.check"))
        return self._footered(node, says)

    def _comede_reply(self, node: Node) -> Reply:
        """What Comede is, then the contacts the data has a number for (nearest first when
        the person gave a postcode); a number not confirmed recently is said to be old."""
        directory = self.world.directory
        says = [Say.of(node.get("message", "comede.info"))]
        if directory is None:
            return self._footered(node, says)
        contacts = [c for c in (*directory.comede_lines(), *directory.comede_centres()) if c.phone]
        postcode = self.s.facts.get("postcode")
        found = directory.lookup(postcode) if postcode else None
        if found is not None and found.status == "ok" and found.comede is not None \
                and found.comede.phone:
            nearest = found.comede
            says.append(Say.of("comede.nearest", name=nearest.name, address=nearest.address,
                               phone=nearest.phone))
            contacts = [c for c in contacts if c.record_id != nearest.record_id]
        for contact in contacts:
            says.append(Say.of("comede.contact", name=contact.name, address=contact.address,
                               phone=contact.phone))
        if not contacts and not any(s.id == "comede.nearest" for s in says):
            says.append(Say.of("comede.no_phone"))  # no number is better than a wrong one
        shown = contacts + ([found.comede] if found is not None and found.comede else [])
        if any(c.phone and not c.confirmed for c in shown):
            says.append(Say.of("comede.check"))
        if self.channel == "voice":
            if self._open_comede() is not None:
                says.append(Say.of("comede.connect"))
            else:
                hours = [c for c in shown if c.phone and c.opening_hours]
                for c in hours:
                    says.append(Say.of("comede.hours", name=c.name, hours=c.opening_hours))
        return self._footered(node, says)

    def _footered(self, node: Node, says: list[Say]) -> Reply:
        if self.channel == "voice":
            says.append(Say.of(node.get("footer", "voice.after_answer")))
        return Reply(says)
