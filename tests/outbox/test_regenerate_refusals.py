"""Documents refused a new version (tests/outbox/test_regenerate.py): another organisation, another role, no reason
or too long a one. Nothing is written, so each kind of document is built once for the module (tests/shared.py),
away from test_regenerate.py's tests that need a transaction of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import PermissionDenied

from organisations.models import AuditLog, Role
from outbox.models import SideEffect
from outbox.services import DocumentRefusal, document_regenerate
from tests.factories import MembershipFactory, OrganisationFactory
from tests.juries.factories import make_certifpro
from tests.outbox.test_regenerate import MAKERS, MODELS, REASON, Made, admin_of
from tests.shared import shared_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", params=sorted(MAKERS))
def made_once(request, django_db_setup, django_db_blocker) -> Iterator[Made]:
    """Each kind of document built once (tests/shared.py) for the tests that only see it refused: about half a
    second per document, a few PDFs each, for 54 tests."""
    with shared_rows(django_db_blocker):
        made = MAKERS[request.param]()
        made.kind = request.param  # type: ignore[attr-defined]
        yield made


@pytest.fixture
def refused(made_once) -> Made:
    """The shared document read again: nothing a refusal may have set on the instance reaches the next test."""
    document = type(made_once.document)._default_manager.get(pk=made_once.document.pk)
    made = Made(document, made_once.owner, made_once.dossier_id)
    made.kind = made_once.kind  # type: ignore[attr-defined]
    return made


def test_another_organisations_administrator_finds_no_such_document(refused):
    with pytest.raises(MODELS[refused.kind].DoesNotExist):
        document_regenerate(document=refused.document, by=admin_of(OrganisationFactory()), reason=REASON)
    assert not SideEffect.objects.filter(kind__endswith="_regenerate").exists()


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER, Role.JURY_MEMBER, Role.FT_ADVISOR])
def test_no_other_role_may_ask_even_in_the_owning_organisation(refused, role):
    with pytest.raises(PermissionDenied):
        document_regenerate(
            document=refused.document, by=MembershipFactory(organisation=refused.owner, role=role), reason=REASON
        )
    assert not SideEffect.objects.filter(kind__endswith="_regenerate").exists()


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reason_is_required(refused, reason):
    before = AuditLog.objects.count()
    with pytest.raises(DocumentRefusal, match="Indiquez le motif"):
        document_regenerate(document=refused.document, by=make_certifpro(), reason=reason)
    assert AuditLog.objects.count() == before
    assert not SideEffect.objects.filter(kind__endswith="_regenerate").exists()


def test_a_reason_longer_than_1000_characters_is_refused(refused):
    with pytest.raises(DocumentRefusal, match="1000 caractères"):
        document_regenerate(document=refused.document, by=make_certifpro(), reason="x" * 1001)
