"""The dossier's state diagram, drawn from its state machine: every transition declared on `Dossier.state`
(django-fsm-2's own list) is an arrow, every step a box, in layers that follow the journey. No hand-made picture:
a transition added to the model is drawn on the next page load. The dossier's history (its DossierEvents) marks
the steps it went through, the transitions it took, and its current step.

Layout, computed here and only formatted by the template (an SVG, no script):
- a step's layer is the longest chain of forward transitions leading to it from the first step (forward: towards
  a step declared later in DossierState, the journey's order); the steps of a layer sit side by side, in that
  order, so that the journey runs down the first column;
- a transition to the next layer runs from the bottom of its source to the top of its target; a longer forward one
  leaves the source's right side; a transition back up (a jury's deferral, a revoked decision) runs on the left of
  the first column, or up the gap on the left of a box further right.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy
from django_fsm import State, Transition

from candidates.models import Dossier, DossierEvent, DossierState

if TYPE_CHECKING:
    import datetime

    from django_stubs_ext import StrOrPromise

BOX_WIDTH = 168
BOX_HEIGHT = 46
COLUMN_GAP = 56
ROW_GAP = 34
MARGIN = 56
LINE_HEIGHT = 16
# Beyond this a label goes on two lines.
LINE_LENGTH = 20

# How the diagram names each transition: what happens, not the button that does it (a transition taken by a
# service on its own has no button). A transition missing here is named by its button's label, or its name.
TRANSITION_LABELS: dict[str, StrOrPromise] = {
    "open": gettext_lazy("Ouverture du dossier"),
    "start_prior_evaluation": gettext_lazy("Début de l'évaluation préalable"),
    "start_final_evaluation": gettext_lazy("Début de l'évaluation finale"),
    "submit_to_jury": gettext_lazy("Soumission au jury"),
    "withdraw": gettext_lazy("Abandon"),
    "close_prior_evaluation": gettext_lazy("Clôture de l'évaluation préalable"),
    "close_final_evaluation": gettext_lazy("Clôture de l'évaluation finale"),
    "start_training": gettext_lazy("Début de la formation"),
    "award": gettext_lazy("Certification délivrée par le jury"),
    "defer": gettext_lazy("Ajournement par le jury"),
    "refuse": gettext_lazy("Refus du jury"),
    "mark_absent": gettext_lazy("Absence de la personne candidate au jury"),
    "revoke_decision": gettext_lazy("Révocation de la décision par Certif'Pro"),
    "expire": gettext_lazy("Délai de 5 ans écoulé"),
    "transfer": gettext_lazy("Changement d'organisme"),
}


@dataclass(frozen=True)
class Edge:
    name: str
    source: str
    target: str
    label: str
    path: str  # the SVG path's `d`
    taken: bool


@dataclass(frozen=True)
class Node:
    state: str
    label: str
    lines: list[tuple[float, str]]  # (baseline y, text)
    x: float
    y: float
    cx: float  # the labels' centre
    current: bool
    visited: bool


@dataclass(frozen=True)
class PathStep:
    label: str
    at: datetime.datetime


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    box_width: int
    box_height: int
    nodes: list[Node]
    edges: list[Edge]
    # What the drawing (not the text under it) depends on besides the state machine: the current step, the steps
    # visited and the arrows taken. The machine is the code's; with the language, this keys the rendered SVG.
    drawing_key: tuple[str, tuple[str, ...], tuple[tuple[str, str, str], ...]]
    current_label: str
    path: list[PathStep]  # the steps entered so far, in order
    possible: list[tuple[str, str]]  # (transition, target step) from the current step


def transition_label(transition: Transition) -> str:
    return str(TRANSITION_LABELS.get(transition.name) or transition.custom.get("label") or transition.name)


def declared_edges(transitions: Iterable[Transition], states: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(name, source, target, label) for every declared transition: one per source, one per possible target of a
    transition that returns its target (RETURN_VALUE); "*" and "+" sources stand for every step (but the target)."""
    edges: list[tuple[str, str, str, str]] = []
    for transition in transitions:
        # A transition whose target depends on its source says so (custom "edges": {source: [targets]}).
        if (known := transition.custom.get("edges")) is not None:
            if transition.source in known:
                label = transition_label(transition)
                edges.extend((transition.name, str(transition.source), str(t), label) for t in known[transition.source])
            continue
        targets = transition.target.allowed_states if isinstance(transition.target, State) else [transition.target]
        sources = states if transition.source in ("*", "+") else [transition.source]
        for source in sources:
            for target in targets:
                if target is None or (transition.source == "+" and source == target):
                    continue
                edges.append((transition.name, str(source), str(target), transition_label(transition)))
    return sorted(set(edges), key=lambda edge: (states.index(edge[1]), states.index(edge[2]), edge[0]))


def layers(states: Sequence[str], edges: Iterable[tuple[str, str, str, str]]) -> dict[str, int]:
    """Longest chain of forward transitions from the first step (states in journey order)."""
    rank = {state: n for n, state in enumerate(states)}
    layer = dict.fromkeys(states, 0)
    forward = sorted(
        ((source, target) for _name, source, target, _label in edges if rank[source] < rank[target]),
        key=lambda pair: rank[pair[0]],
    )
    for source, target in forward:  # sources in journey order: each is final before it is read
        layer[target] = max(layer[target], layer[source] + 1)
    return layer


def _split(label: str) -> list[str]:
    if len(label) <= LINE_LENGTH or " " not in label:
        return [label]
    middle = len(label) // 2
    cut = min((i for i, char in enumerate(label) if char == " "), key=lambda i: abs(i - middle))
    return [label[:cut], label[cut + 1 :]]


def _edge_path(source: Node, target: Node, span: int, source_column: int) -> str:
    """The SVG path of one transition, per the module's routing rules."""
    w, h = BOX_WIDTH, BOX_HEIGHT
    if span == 1:  # next layer: bottom to top
        x1, y1, x2, y2 = source.x + w / 2, source.y + h, target.x + w / 2, target.y
        bend = (y2 - y1) / 2
        return f"M{x1:g},{y1:g} C{x1:g},{y1 + bend:g} {x2:g},{y2 - bend:g} {x2:g},{y2:g}"
    if span > 1:  # further down: out of the right side
        x1, y1 = source.x + w, source.y + h / 2
        bulge = 20 + 6 * span
        if target.x > source.x:
            x2, y2 = target.x + w / 2, target.y
            return f"M{x1:g},{y1:g} C{x1 + bulge:g},{y1:g} {x2:g},{y2 - bulge:g} {x2:g},{y2:g}"
        x2, y2 = target.x + w, target.y + h / 2
        return f"M{x1:g},{y1:g} C{x1 + bulge:g},{y1:g} {x2 + bulge:g},{y2:g} {x2:g},{y2:g}"
    if source_column == 0:  # back up, on the left of the first column
        x1, y1, x2, y2 = source.x, source.y + h / 2, target.x, target.y + h / 2
        bulge = 16 + 8 * -span
        return f"M{x1:g},{y1:g} C{x1 - bulge:g},{y1:g} {x2 - bulge:g},{y2:g} {x2:g},{y2:g}"
    # Back up from a box further right: up the gap on its left, into the target's right side.
    x1, y1, x2, y2 = source.x, source.y + h / 2, target.x + w, target.y + h / 2
    lane = source.x - COLUMN_GAP / 2
    return f"M{x1:g},{y1:g} C{lane:g},{y1:g} {lane:g},{y2:g} {x2:g},{y2:g}"


def draw(
    *,
    states: Sequence[tuple[str, str]],
    transitions: Iterable[Transition],
    current: str,
    events: Iterable[Any],
) -> Diagram:
    """The diagram of a state machine (`states`: value and label in journey order), marked with a history
    (`events`, oldest first, each with `transition`, `from_state`, `to_state`, `at`)."""
    values = [value for value, _label in states]
    labels = dict(states)
    edges = declared_edges(transitions, values)
    layer = layers(values, edges)
    columns: dict[int, int] = {}
    column: dict[str, int] = {}
    for value in values:
        column[value] = columns.get(layer[value], 0)
        columns[layer[value]] = column[value] + 1
    events = list(events)
    taken = {(e.transition, e.from_state, e.to_state) for e in events if e.transition}
    visited = {state for e in events for state in (e.from_state, e.to_state) if state} | {current}

    nodes = {}
    for value in values:
        x = MARGIN + column[value] * (BOX_WIDTH + COLUMN_GAP)
        y = MARGIN / 2 + layer[value] * (BOX_HEIGHT + ROW_GAP)
        lines = _split(labels[value])
        first = y + BOX_HEIGHT / 2 - (len(lines) - 1) * LINE_HEIGHT / 2 + 5
        nodes[value] = Node(
            state=value,
            label=labels[value],
            lines=[(first + n * LINE_HEIGHT, line) for n, line in enumerate(lines)],
            x=x,
            y=y,
            cx=x + BOX_WIDTH / 2,
            current=value == current,
            visited=value in visited,
        )
    drawn = [
        Edge(
            name=name,
            source=source,
            target=target,
            label=label,
            path=_edge_path(nodes[source], nodes[target], layer[target] - layer[source], column[source]),
            taken=(name, source, target) in taken,
        )
        for name, source, target, label in edges
    ]
    width = MARGIN * 2 + max(columns.values()) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = int(MARGIN + (max(layer.values()) + 1) * (BOX_HEIGHT + ROW_GAP) - ROW_GAP)
    return Diagram(
        width=width,
        height=height,
        box_width=BOX_WIDTH,
        box_height=BOX_HEIGHT,
        # Untaken arrows first, so that the path taken is drawn over them.
        nodes=list(nodes.values()),
        edges=sorted(drawn, key=lambda edge: edge.taken),
        drawing_key=(
            current,
            tuple(node.state for node in nodes.values() if node.visited),
            tuple((edge.name, edge.source, edge.target) for edge in drawn if edge.taken),
        ),
        current_label=labels[current],
        path=[PathStep(labels[e.to_state], e.at) for e in events if e.to_state and e.to_state != e.from_state],
        possible=[(edge.label, labels[edge.target]) for edge in drawn if edge.source == current],
    )


def dossier_transitions() -> list[Transition]:
    # get_field() is typed as any field or relation; `state` is the FSMField.
    field: Any = Dossier._meta.get_field("state")
    return list(field.get_all_transitions(Dossier))


def dossier_diagram(dossier: Dossier, events: Iterable[DossierEvent]) -> Diagram:
    """The dossier's diagram; `events` as the page loaded them (any order)."""
    return draw(
        states=[(value, str(label)) for value, label in DossierState.choices],
        transitions=dossier_transitions(),
        current=dossier.state,
        events=sorted(events, key=lambda event: (event.at, event.pk)),
    )
