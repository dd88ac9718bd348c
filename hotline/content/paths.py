"""The ways a person can go through the tree, for the measures of the content check (how long
a call takes to hear, what the questionnaire costs by SMS).

A way follows the options and the branches forward (not back, not 0), with the facts the
options and branches set on the way: a branch case that those facts decide is taken or
skipped as the engine would (`path == ame_check` never leads to the housing question); a
case that depends on what is not known (income) may go either way. An outcome's additions
are those the facts do not rule out.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import rules
from .schema import (
    AllOf,
    AnyOf,
    BranchNode,
    Condition,
    NodeBase,
    NumberNode,
    OutcomeNode,
    PostcodeNode,
    WithOptions,
    condition_as_data,
)
from .script import Script

Facts = Mapping[str, Any]


def decide(condition: Condition | None, facts: Facts) -> bool | None:
    """Whether a condition holds with these facts: True, False, or None (not known)."""
    if condition is None:
        return True
    if isinstance(condition, AllOf):
        found = [decide(c, facts) for c in condition.all]
        return False if False in found else True if all(found) else None
    if isinstance(condition, AnyOf):
        found = [decide(c, facts) for c in condition.any]
        return True if True in found else False if all(f is False for f in found) else None
    fact, _, value = condition
    if fact not in facts or (isinstance(value, str) and value.startswith("$")):
        return None
    return rules.holds(condition_as_data(condition), facts)


def forward(node: NodeBase, facts: Facts) -> list[tuple[str, dict[str, Any]]]:
    """Where a person can go on from a node, with the facts known there."""
    if isinstance(node, WithOptions):
        return [(o.next, {**facts, **o.set}) for key, o in node.options.items() if key != "0"]
    if isinstance(node, BranchNode):
        out = []
        for case in node.cases:
            found = decide(case.when, facts)
            if found is False:
                continue
            out.append((case.next, {**facts, **case.set}))
            if found is True:
                return out
        return out + ([(node.else_, dict(facts))] if node.else_ else [])
    if isinstance(node, (NumberNode, PostcodeNode)):
        return [(node.next, dict(facts))]
    return []


def ways(script: Script, start: str, ends: Mapping[str, Any] | None = None
         ) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """Every way from `start` to a node where it stops (an answer, or one of `ends`), with
    the facts known on arrival. A node is never visited twice on one way."""
    def walk(node_id: str, path: list[str], facts: dict[str, Any]) -> Iterator[Any]:
        node = script.node(node_id)
        if node is None or node_id in path:
            return
        path = path + [node_id]
        nexts = [] if ends is not None and node_id in ends else forward(node, facts)
        if not nexts:
            yield path, facts
            return
        for target, known in nexts:
            yield from walk(target, path, known)

    yield from walk(start, [], {})


def possible_adds(script: Script, node: OutcomeNode, facts: Facts) -> list[str]:
    """The additions of an outcome these facts do not rule out, all said together as the
    engine does. A fact that only `set:` gives and that no step of this way set is absent,
    as it is for the engine (`housing` when the housing question was skipped)."""
    known = {**dict.fromkeys(script.chosen_facts - set(facts)), **facts}
    return [a.message for a in node.adds if decide(a.when, known) is not False]
