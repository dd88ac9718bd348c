"""The flow drawn: every menu, question and answer as a Graphviz graph, rendered to SVG by
Debian's `dot` (a subprocess with a timeout). Each node links to its page in the console."""
from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from . import scriptview

STYLE = {  # type -> dot attributes: plain shapes and soft colours, readable when printed
    "menu": 'shape=box style="rounded,filled" fillcolor="#dbeafe"',
    "language": 'shape=box style="rounded,filled" fillcolor="#dbeafe"',
    "question": 'shape=box style="filled" fillcolor="#fef3c7"',
    "number": 'shape=box style="filled" fillcolor="#fef3c7"',
    "branch": 'shape=diamond style="filled" fillcolor="#f3f4f6"',
    "outcome": 'shape=note style="filled" fillcolor="#dcfce7"',
    "answer": 'shape=note style="filled" fillcolor="#dcfce7"',
}
DEFAULT_STYLE = 'shape=box style="rounded,filled" fillcolor="#ede9fe"'
# the clusters, by flow name
SECTION_LABELS = {"menus": "Menus", "questionnaire": "Questionnaire", "directory": "Addresses"}


class FlowError(Exception):
    """The picture cannot be drawn (no `dot`, or it failed)."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_source(script: Any, counts: dict[str, int], link: Callable[[str], str]) -> str:
    """The graph in the dot language: one cluster per flow file, each node labelled with
    its id, its French words and how many times it was entered."""
    views = scriptview.nodes(script)
    lines = ["digraph flow {", ('graph [rankdir=LR fontname="Helvetica" fontsize=12 '
                                'nodesep=0.25 ranksep=0.6 bgcolor="white"];'),
             'node [fontname="Helvetica" fontsize=10 margin="0.12,0.06"];',
             'edge [fontname="Helvetica" fontsize=9 color="#6b7280"];']
    for section in dict.fromkeys(v.section for v in views):
        lines.append(f"subgraph {_quote('cluster_' + section)} {{")
        lines.append(f'label={_quote(SECTION_LABELS.get(section, section))} '
                     f'style="rounded" color="#9ca3af";')
        for view in (v for v in views if v.section == section):
            words = scriptview.short_text(script, view.messages[0] if view.messages else None, 34)
            label = f"{view.id}\n{words}\n{counts.get(view.id, 0)} entered" if words else \
                f"{view.id}\n{counts.get(view.id, 0)} entered"
            lines.append(f"{_quote(view.id)} [label={_quote(label)} "
                         f"{STYLE.get(view.type, DEFAULT_STYLE)} href={_quote(link(view.id))} "
                         f'target="_top" tooltip={_quote(view.type + ": " + view.id)}];')
        lines.append("}")
    known = {v.id for v in views}
    for view in views:
        for key, target in view.edges:
            if target in known:
                lines.append(f"{_quote(view.id)} -> {_quote(target)} [label={_quote(key)}];")
    lines.append("}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=32)
def render_svg(source: str, timeout: float = 10.0) -> str:
    """SVG of a dot graph (the same graph is drawn once per process)."""
    dot = shutil.which("dot")
    if dot is None:
        raise FlowError("Graphviz is not installed (apt-get install graphviz)")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise FlowError("Graphviz took too long") from error
    if done.returncode != 0:
        raise FlowError(done.stderr.decode(errors="replace")[:500])
    return done.stdout.decode()


def inline_svg(svg: str) -> str:
    """The <svg> element alone, to put in a page (without the XML prolog and doctype)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""
