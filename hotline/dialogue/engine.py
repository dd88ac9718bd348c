"""The dialogue engine: `step(script, session, input, world) -> (session, reply, events)`.

Pure: the same inputs always give the same outputs, and the session given is not changed.
A trigger (`start`) opens a conversation, resumes (text, keys, speech, timeout) continue
it. This module moves through the tree (enter, back, branch, misses); what each node type
says and does with an answer is in `nodes`, the SMS words in `words`, what differs between
a text and a call in `policy`.
"""
from __future__ import annotations

from ..content import rules
from ..content.code_messages import M
from ..content.schema import (
    BranchNode,
    NodeBase,
    NumberNode,
    OutcomeNode,
    PostcodeNode,
    QuestionNode,
    condition_as_data,
)
from ..content.script import Script
from . import nodes, words
from .events import ConversationStarted, Event, InputNotUnderstood, NodeEntered, OutcomeReached
from .model import Expect, Input, Reply, Say, Session, World
from .policy import POLICIES, ChannelPolicy

MAX_STACK = 30
MAX_HOPS = 20  # automatic branch steps in a row: a guard against a loop in the data
RESUMABLE = ("question", "number", "outcome", "postcode", "caisse")
ANY_KEY = Expect()  # what a reply waits for when it does not say


def step(script: Script, session: Session, input: Input,
         world: World) -> tuple[Session, Reply, list[Event]]:
    s = session.copy()
    policy = POLICIES[input.channel]
    turn = Turn(script, s, input, world, policy)
    # a call starts with a trigger; a text starts a conversation when none is going
    if input.kind == "start" or (policy.takes_words and s.step == 0):
        lang = s.lang if policy.all_languages or s.lang in world.voice_languages else None
        turn.emit(ConversationStarted(input.channel, lang))
    s.step += 1
    reply = words.on_text(turn) if policy.takes_words else on_call_input(turn)
    if reply.expect is not None and not reply.silent and reply.expect == ANY_KEY:
        # a reply that did not say what it waits for waits for what its node asks
        node = script.node(s.node)
        if node is not None:
            reply.expect = expect_at(node, s)
    return s, reply, turn.events


def expect_at(node: NodeBase, s: Session) -> Expect:
    if isinstance(node, NumberNode):
        return Expect("number")
    if isinstance(node, PostcodeNode) and "confirm_postcode" not in s.pending:
        return Expect("postcode")
    # isinstance, not getattr: a pydantic model raises (and catches) for a missing field
    return Expect("key", yes_no=isinstance(node, QuestionNode) and node.yes_no)


def on_call_input(t: Turn) -> Reply:
    """A call starts, or the caller pressed keys, spoke or said nothing."""
    kind, s = t.input.kind, t.s
    if kind == "start":
        return call_starts(t)
    if s.lang is None or s.node is None:
        s.node = t.script.language_node
    if kind == "repeat":
        return t.present_current()
    if kind == "timeout" or (kind in ("keys", "speech") and not t.input.value):
        return t.miss(M.NO_INPUT)
    value = t.input.value
    if kind == "speech":
        key = t.script.yes_no_key(s.lang, value)
        confidence = t.input.confidence
        if key is None or (confidence is not None and confidence < 0.4):
            return t.miss(M.INVALID)
        value = key
    return t.answer(value)


def call_starts(t: Turn) -> Reply:
    s, script = t.s, t.script
    if s.lang is None or s.lang not in t.world.voice_languages:
        s.stack.clear()
        return t.enter(script.language_node, push=False)
    node = script.node(s.node)
    if node is not None and node.type in RESUMABLE:
        s.pending["resume"] = node.id
        return t.enter(script.places.resume, push=False)
    s.stack.clear()
    return t.enter(script.main, push=False, says=[Say.of(M.WELCOME)])


class Turn:
    """One step of one conversation: the inputs, the session being changed, the events so
    far, and the moves every node type shares."""

    def __init__(self, script: Script, s: Session, input: Input, world: World,
                 policy: ChannelPolicy):
        self.script, self.s, self.input, self.world, self.policy = script, s, input, world, policy
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def words(self, text: str) -> Reply | None:
        """The answer to an SMS word typed at a prompt that waits for something else."""
        return words.words_at_a_prompt(self, text)

    # -- moving -----------------------------------------------------------
    def enter(self, node_id: str, push: bool = True, says: list[Say] | None = None,
              hops: int = 0) -> Reply:
        """Go to a node and present it; branches run straight through."""
        node = self.arrive(node_id, push)
        if isinstance(node, BranchNode):
            if hops >= MAX_HOPS:
                return self.enter(self.script.main, push=False, says=says)
            return self._branch(node, says or [], hops)
        if isinstance(node, OutcomeNode):
            self.emit(OutcomeReached(node.id, node.code))
        return self.with_first(says or [], self.present(node))

    def arrive(self, node_id: str, push: bool = True) -> NodeBase:
        """Be at a node (the one left goes on the back stack), without presenting it."""
        s, script = self.s, self.script
        node = script.nodes[node_id]
        if push and s.node and s.node != node_id:
            current = script.node(s.node)
            if current is not None and not isinstance(current, BranchNode):
                s.stack = (s.stack + [s.node])[-MAX_STACK:]
        if node.reset:
            s.facts.clear()
        s.node = node_id
        s.misses = 0
        self.emit(NodeEntered(node_id))
        return node

    def _branch(self, node: BranchNode, says: list[Say], hops: int) -> Reply:
        facts = self.s.facts
        if node.compute == "ceilings":
            facts.update(rules.compute(self.script.parameters, facts, self.world.today))
        for case in node.cases:
            if case.when is None or rules.holds(condition_as_data(case.when), facts):
                facts.update(case.set)
                return self.enter(case.next, push=False, says=says, hops=hops + 1)
        assert node.else_ is not None  # the schema makes sure a branch has a way out
        return self.enter(node.else_, push=False, says=says, hops=hops + 1)

    def back(self) -> Reply:
        s = self.s
        while s.stack:
            target = s.stack.pop()
            if target in self.script.nodes:
                return self.enter(target, push=False)
        return self.enter(self.script.main, push=False)

    def present(self, node: NodeBase) -> Reply:
        """What a node says when the person arrives at it (or asks to hear it again)."""
        return nodes.handler(node).present(self, node)

    def present_current(self) -> Reply:
        node = self.script.node(self.s.node) or self.script.nodes[self.script.main]
        self.s.node = node.id
        return self.present(node)

    def as_sms(self, node: NodeBase) -> list[Say]:
        """The node as a text would present it (the SMS copy of a call's answer)."""
        copy = Turn(self.script, self.s.copy(), self.input, self.world, POLICIES["sms"])
        return copy.present(node).says

    # -- answering --------------------------------------------------------
    def answer(self, value: str) -> Reply:
        """Text or keys at the current node."""
        node = self.script.node(self.s.node)
        if node is None:
            node = self.script.nodes[self.script.main]
            self.s.node = node.id
        return nodes.handler(node).answer(self, node, value)

    def missed(self) -> Reply | None:
        """Count a wrong answer or a silence; the policy's last one says goodbye."""
        self.s.misses += 1
        limit = self.policy.misses_before_goodbye
        if limit is not None and self.s.misses >= limit:
            return Reply([Say.of(M.GOODBYE)], expect=None)
        return None

    def miss(self, why: str) -> Reply:
        """A wrong key or silence: say so and ask again (or goodbye, see `missed`)."""
        if why == M.INVALID:
            self.emit(InputNotUnderstood(self.policy.name, self.s.node))
        return self.missed() or self.with_first([Say.of(why)], self.present_current())

    # -- saying -----------------------------------------------------------
    def say_filled(self, msg_id: str) -> Say:
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

    def footered(self, node: NodeBase, says: list[Say], outcome: bool = False) -> Reply:
        """An answer, and by voice what the keys do now."""
        if self.policy.says_footers:
            says.append(self.footer(node, outcome))
        return Reply(says)

    def footer(self, node: NodeBase, outcome: bool = False) -> Say:
        """Which keys do what after an answer; `1 = SMS` only to whom a text can reach."""
        # a pydantic model raises (and catches) for a field it does not have: asked first
        custom = node.footer if "footer" in type(node).model_fields else None  # type: ignore[attr-defined]
        if custom:
            return Say.of(custom)
        if self.can_text():
            return Say.of(M.AFTER_OUTCOME if outcome else M.AFTER_ANSWER)
        return Say.of(M.AFTER_OUTCOME_NO_SMS if outcome else M.AFTER_ANSWER_NO_SMS)

    def can_text(self) -> bool:
        """Whether a copy by SMS can reach this person (a mobile, not opted out, and an
        account to send from)."""
        return self.world.outbound_sms and self.world.can_text and not self.s.opted_out

    @staticmethod
    def with_first(first: list[Say], reply: Reply) -> Reply:
        reply.says = first + reply.says
        return reply
