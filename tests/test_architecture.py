"""The shape of the package: no import cycle, a dialogue core that knows nothing of Flask,
Twilio or Redis and asks its channel policy rather than testing the channel's name."""
from __future__ import annotations

import ast
from pathlib import Path

import hotline

PACKAGE = Path(hotline.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: set[str] = set()


def _imports(path: Path) -> set[str]:
    """Modules of the package this file imports, anywhere in it (functions too), except
    under `if TYPE_CHECKING:` (types only, never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from .pkg import mod` imports the module; `from .mod import name`, the module
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != me}


def graph() -> dict[str, set[str]]:
    MODULES.update(_module_name(p) for p in PACKAGE.rglob("*.py"))
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


def test_the_package_has_no_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_dialogue_core_knows_nothing_of_flask_twilio_or_redis():
    for path in (PACKAGE / "dialogue").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                 for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                  if isinstance(n, ast.ImportFrom) and not n.level}
        assert not names & {"flask", "twilio", "redis", "rq", "werkzeug"}, path.name


def test_the_dialogue_core_asks_its_policy_not_the_channel_name():
    for path in (PACKAGE / "dialogue").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert 'channel == "' not in text and "channel == '" not in text, path.name


def test_blueprints_do_not_import_the_factory():
    edges = graph()
    for module, imported in edges.items():
        if module.startswith("hotline.channels"):
            assert "hotline.app" not in imported, module
