"""The dossier's state diagram is drawn from the state machine (its declared transitions, not a picture) and marks
the dossier's current step and the path its history took."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_fsm import RETURN_VALUE, Transition

from candidates.models import Dossier, DossierState
from journey.diagram import declared_edges, dossier_transitions, draw, layers
from tests.clients import page_text
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

STATES = [(value, str(label)) for value, label in DossierState.choices]
VALUES = [value for value, _label in STATES]


def fsm_edges() -> set[tuple[str, str, str]]:
    """Read straight from django-fsm-2, independently of journey.diagram."""
    edges = set()
    for t in Dossier._meta.get_field("state").get_all_transitions(Dossier):
        targets = t.target.allowed_states if isinstance(t.target, RETURN_VALUE) else [t.target]
        if "edges" in t.custom:  # a target that depends on the source (the move: Dossier.transfer)
            assert set(t.custom["edges"][t.source]) <= set(targets)
            targets = t.custom["edges"][t.source]
        edges |= {(t.name, str(t.source), str(target)) for target in targets}
    return edges


def drawn_edges(html: str) -> set[tuple[str, str, str]]:
    found = re.findall(r'data-transition="(\w+)" data-source="(\w+)" data-target="(\w+)"', html)
    return set(found)


def test_every_declared_transition_is_an_arrow_and_nothing_else(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    html = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk])).content
    edges = drawn_edges(html.decode())
    assert edges == fsm_edges()
    # Both outcomes of a closing evaluation (RETURN_VALUE) are drawn, and the abandonment from each open step.
    assert ("close_prior_evaluation", "prior_evaluation", "ready_for_jury") in edges
    assert ("close_prior_evaluation", "prior_evaluation", "partially_validated") in edges
    assert len({source for name, source, _target in edges if name == "withdraw"}) == 8


def test_a_transition_added_to_the_machine_is_drawn():
    def reopen(instance):  # a transition the model does not declare (yet)
        pass

    extra = Transition(reopen, "withdrawn", "opened", None, [], None, {})
    before = draw(states=STATES, transitions=dossier_transitions(), current="opened", events=[])
    after = draw(states=STATES, transitions=[*dossier_transitions(), extra], current="opened", events=[])
    added = {(e.name, e.source, e.target) for e in after.edges} - {(e.name, e.source, e.target) for e in before.edges}
    assert added == {("reopen", "withdrawn", "opened")}


def test_the_layers_follow_the_journey():
    layer = layers(VALUES, declared_edges(dossier_transitions(), VALUES))
    journey = ["information", "opened", "prior_evaluation", "partially_validated", "in_training", "final_evaluation"]
    assert [layer[state] for state in journey] == [0, 1, 2, 3, 4, 5]
    assert layer["ready_for_jury"] > layer["final_evaluation"]
    assert layer["certified"] == layer["refused"] == layer["submitted_to_jury"] + 1


def test_the_current_step_and_the_path_taken_are_marked(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="in_training")

    response = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk]))

    diagram = response.context["diagram"]
    assert [node.state for node in diagram.nodes if node.current] == ["in_training"]
    taken = {(e.name, e.source, e.target) for e in diagram.edges if e.taken}
    assert taken == set(dossier.events.exclude(from_state="").values_list("transition", "from_state", "to_state"))
    assert taken == {
        ("open", "information", "opened"),
        ("start_prior_evaluation", "opened", "prior_evaluation"),
        ("close_prior_evaluation", "prior_evaluation", "partially_validated"),
        ("start_training", "partially_validated", "in_training"),
    }
    visited = {node.state for node in diagram.nodes if node.visited}
    assert visited == {"information", "opened", "prior_evaluation", "partially_validated", "in_training"}
    html = response.content.decode()
    assert (
        'class="state-diagram__node state-diagram__node--visited state-diagram__node--current" data-state="in_training"'
        in html
    )
    # The text alternative: the path so far in order, and what may follow.
    text = page_text(response)
    path = ["Information", "Dossier ouvert", "Évaluation préalable en cours", "Validation partielle", "En formation"]
    assert [step.label for step in diagram.path] == path
    assert "Début de l'évaluation finale, vers « Évaluation finale en cours »" in text
    assert "Abandon, vers « Abandonné »" in text
    assert "Délai de 5 ans écoulé, vers « Expiré »" in text


def test_the_diagram_is_an_accessible_svg_without_inline_style(org_a, client_for):
    dossier = DossierFactory(organisation=org_a, state="opened")
    html = client_for(dossier.team.counsellor).get(reverse("journey:dossier_detail", args=[dossier.pk])).content
    svg = html.decode().split('<div class="state-diagram"', 1)[1].split("</svg>", 1)[0]
    assert 'role="region" tabindex="0" aria-labelledby="diagram-title"' in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and "viewBox=" in svg
    assert "style=" not in svg and "<script" not in svg
    # Coordinates in the SVG's own syntax, never the French decimal comma of the page's localised numbers.
    assert re.findall(r'\b(?:x|y|cx)="[^"]*,', svg) == []
    assert re.search(r'<text x="\d+(\.\d+)?" y="\d+(\.\d+)?">', svg)


@pytest.fixture
def no_cached_drawings():
    """The drawings are kept in the process: each test starts and ends without any, so none relies on another."""
    from journey.templatetags import journey_tags

    journey_tags._DRAWINGS.clear()
    yield journey_tags._DRAWINGS
    journey_tags._DRAWINGS.clear()


def test_the_drawing_is_rendered_once_per_language_and_path_and_differs_with_them(no_cached_drawings):
    # Issue 22: the SVG is cached in the process, keyed on what it shows besides the machine.
    from types import SimpleNamespace

    from django.template.loader import render_to_string
    from django.utils import translation

    from journey.templatetags.journey_tags import state_diagram_drawing

    taken = SimpleNamespace(transition="open", from_state="information", to_state="opened", at=None, pk=1)
    opened = draw(states=STATES, transitions=dossier_transitions(), current="opened", events=[taken])
    again = draw(states=STATES, transitions=dossier_transitions(), current="opened", events=[taken])
    untaken = draw(states=STATES, transitions=dossier_transitions(), current="opened", events=[])
    with translation.override("fr"):
        first = state_diagram_drawing(opened)
        assert state_diagram_drawing(again) is first
        # What the cache serves is what rendering the same drawing gives, and another path draws another SVG.
        assert first == render_to_string("journey/_state_diagram_svg.html", {"diagram": again})
        assert state_diagram_drawing(untaken) != first
        assert 'state-diagram__node--current" data-state="opened"' in first
        assert 'state-diagram__edge state-diagram__edge--taken" d=' in first
        assert "state-diagram__edge--taken" not in state_diagram_drawing(untaken)
    assert len(no_cached_drawings) == 2
    with translation.override("en"):
        english = state_diagram_drawing(opened)
    # Rendered again for the other language rather than served the French one. The platform ships no English
    # catalogue, so the words are the French source strings and the content is the same.
    assert english is not first and len(no_cached_drawings) == 3
    assert english == first
