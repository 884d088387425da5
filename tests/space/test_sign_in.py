"""Access without a password (issue 18): asking for a link, the link itself, the candidate's session."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, Dossier, LinkOrigin, SignInLink, token_hash
from organisations.models import AuditLog, Organisation, Role
from outbox.models import SideEffect
from privacy.services import retention_apply
from space.middleware import CandidatePersonMiddleware
from space.services import SESSION_PERSON_KEY, sign_in_link_create, sign_in_link_send
from tests.clients import logged_in_client
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory, SharedDossier
from tests.shared import shared_rows
from tests.space.support import candidate_client, link_for

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1979, 6, 3)


@pytest.fixture(scope="module")
def shared_dossier(django_db_setup, django_db_blocker) -> Iterator[SharedDossier]:
    """Léa Martin's opened dossier in organisation A, built once for the module's tests (tests/shared.py): the links
    and sessions a test makes are rolled back before the next one."""
    with shared_rows(django_db_blocker):
        organisation = OrganisationFactory(name="Évaluateur A")
        yield SharedDossier.of(
            DossierFactory(organisation=organisation, opened=True, email="Lea.Martin@exemple.fr", birth_date=BIRTH)
        )


@pytest.fixture
def org_a(shared_dossier: SharedDossier) -> Organisation:
    """The dossier's organisation (tests/conftest.py's org_a, shared with the dossier)."""
    return Organisation.objects.get(pk=shared_dossier.organisation)


@pytest.fixture
def dossier(shared_dossier: SharedDossier) -> Dossier:
    return shared_dossier.read()


def ask(client: Client, email: str, birth_date: str = "1979-06-03"):
    return client.post(reverse("space:sign_in_request"), {"email": email, "birth_date": birth_date})


def sent_link(message) -> str:
    return re.search(r"http\S+/mon-espace/lien/\S+/", message.body)[0]


def test_asking_with_the_right_address_and_birth_date_mails_a_link_through_the_outbox(
    dossier, fresh_rate_limit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(Client(), "lea.martin@EXEMPLE.fr")
    assert response.status_code == 302
    assert SideEffect.objects.filter(kind="email").count() == 1
    [message] = mail.outbox
    assert message.to == ["Lea.Martin@exemple.fr"]
    url = sent_link(message)
    token = url.rstrip("/").rsplit("/", 1)[1]
    link = SignInLink.objects.get()
    assert link.token_sha256 == token_hash(token) and token not in link.token_sha256  # only the hash is kept
    assert link.origin == LinkOrigin.SELF_REQUEST
    assert link.expires_at - link.created_at == datetime.timedelta(minutes=30)
    assert AuditLog.objects.filter(action="space.link_created").count() == 1


@pytest.mark.parametrize(
    ("email", "birth_date"),
    [("lea.martin@exemple.fr", "1979-06-04"), ("autre@exemple.fr", "1979-06-03")],
)
def test_a_wrong_address_or_birth_date_gets_the_same_answer_and_no_mail(
    dossier, fresh_rate_limit, django_capture_on_commit_callbacks, email, birth_date
):
    right = Client().get(reverse("space:sign_in_requested"))
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(Client(), email, birth_date)
    assert response.status_code == 302 and response["Location"] == reverse("space:sign_in_requested")
    assert mail.outbox == [] and not SignInLink.objects.exists()
    assert "Si ces informations correspondent à un dossier" in right.content.decode()


def test_an_anonymised_person_gets_no_link(dossier, fresh_rate_limit, django_capture_on_commit_callbacks):
    Candidate.objects.filter(pk=dossier.candidate_id).update(anonymised_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        ask(Client(), "lea.martin@exemple.fr")
    assert mail.outbox == []


@pytest.mark.parametrize("typed", ["03/06/1979", "03-06-1979", "03.06.1979", "03 06 1979", "03061979"])
def test_the_birth_date_is_read_as_a_person_in_france_writes_it(
    dossier, fresh_rate_limit, django_capture_on_commit_callbacks, typed
):
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(Client(), "lea.martin@exemple.fr", typed).status_code == 302
    assert len(mail.outbox) == 1


def test_the_form_answers_in_french(db, fresh_rate_limit):
    response = Client().post(reverse("space:sign_in_request"), {"email": "pas-une-adresse", "birth_date": "hier"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Cette adresse e-mail n&#x27;est pas complète" in page
    assert "Cette date n&#x27;est pas valide" in page


def test_asking_is_rate_limited_per_address(dossier, fresh_rate_limit):
    client = Client()
    answers = [ask(client, "lea.martin@exemple.fr").status_code for _ in range(6)]
    assert answers == [302] * 5 + [429]
    assert SignInLink.objects.count() == 5


def test_asking_is_rate_limited_per_client_address(db, fresh_rate_limit):
    client = Client()
    answers = {ask(client, f"personne{n}@exemple.fr").status_code for n in range(21)}
    assert answers == {302, 429}


def test_opening_the_link_spends_nothing_and_the_button_signs_in(dossier):
    token = link_for(dossier)
    client = Client()
    url = reverse("space:sign_in", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "Me connecter" in page.content.decode()
    assert SignInLink.objects.get().used_at is None  # a mail scanner's GET leaves it usable

    response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("space:home")
    assert SignInLink.objects.get().used_at is not None
    assert client.get(reverse("space:dossier", args=[dossier.pk])).status_code == 200
    assert AuditLog.objects.filter(action="space.link_used", object_id=str(dossier.candidate_id)).exists()


def test_a_link_works_once(dossier):
    token = link_for(dossier)
    url = reverse("space:sign_in", args=[token])
    assert Client().post(url).status_code == 302
    again = Client().post(url)
    assert again.status_code == 410
    assert "Ce lien ne marche plus" in again.content.decode()
    assert reverse("space:sign_in_request") in again.content.decode()


def test_a_link_past_its_30_minutes_or_unknown_does_not_work(dossier):
    token = link_for(dossier)
    SignInLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert Client().post(reverse("space:sign_in", args=[token])).status_code == 410
    assert Client().post(reverse("space:sign_in", args=["inconnu"])).status_code == 410


def test_signing_in_gives_a_new_session_key_and_signs_a_staff_member_out(dossier):
    client = logged_in_client(dossier.team.counsellor)
    before = client.session.session_key
    client.post(reverse("space:sign_in", args=[link_for(dossier)]))
    assert client.session.session_key != before
    assert "_auth_user_id" not in client.session
    assert client.session[SESSION_PERSON_KEY] == [dossier.candidate_id]


def test_the_same_person_in_another_organisation_is_one_person(dossier, org_b):
    other = DossierFactory(organisation=org_b, opened=True, email="LEA.MARTIN@exemple.fr", birth_date=BIRTH)
    homonym = DossierFactory(organisation=org_b, opened=True, email="lea.martin@exemple.fr", birth_date=BIRTH)
    Candidate.objects.filter(pk=homonym.candidate_id).update(anonymised_at=timezone.now())
    client = candidate_client(dossier)
    assert sorted(client.session[SESSION_PERSON_KEY]) == sorted([dossier.candidate_id, other.candidate_id])
    home = client.get(reverse("space:home"))
    assert home.status_code == 200  # two dossiers: the list, not a redirect
    assert {d.pk for d in home.context["dossiers"]} == {dossier.pk, other.pk}


def test_a_session_idle_for_30_minutes_ends(dossier, monkeypatch):
    client = candidate_client(dossier)
    url = reverse("space:dossier", args=[dossier.pk])
    later = timezone.now() + datetime.timedelta(minutes=29)
    monkeypatch.setattr(CandidatePersonMiddleware, "now", staticmethod(lambda: later))
    assert client.get(url).status_code == 200  # activity: the clock starts again from here
    much_later = later + datetime.timedelta(minutes=31)
    monkeypatch.setattr(CandidatePersonMiddleware, "now", staticmethod(lambda: much_later))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("space:sign_in_request")
    assert SESSION_PERSON_KEY not in client.session
    assert "30 minutes sans activité" in client.get(response["Location"]).content.decode()


def test_signing_out_ends_the_session(dossier):
    client = candidate_client(dossier)
    assert client.post(reverse("space:sign_out")).status_code == 302
    assert client.get(reverse("space:dossier", args=[dossier.pk])).status_code == 302


def test_candidate_pages_are_never_stored(dossier):
    response = candidate_client(dossier).get(reverse("space:dossier", args=[dossier.pk]))
    assert "no-store" in response["Cache-Control"]


def test_the_counsellor_sends_a_link_from_the_dossier_page(dossier, django_capture_on_commit_callbacks):
    counsellor = dossier.team.counsellor
    client = logged_in_client(counsellor)
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk])).content.decode()
    assert reverse("space:link_send", args=[dossier.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("space:link_send", args=[dossier.pk]))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["Lea.Martin@exemple.fr"] and "/mon-espace/lien/" in message.body
    link = SignInLink.objects.get()
    assert (link.origin, link.sent_by) == (LinkOrigin.COUNSELLOR, counsellor)
    assert AuditLog.objects.filter(action="space.link_created", actor=counsellor.user).exists()


def test_no_button_without_an_address(org_a):
    dossier = DossierFactory(organisation=org_a, opened=True, email="")
    client = logged_in_client(dossier.team.counsellor)
    page = client.get(reverse("journey:dossier_detail", args=[dossier.pk])).content.decode()
    assert reverse("space:link_send", args=[dossier.pk]) not in page
    client.post(reverse("space:link_send", args=[dossier.pk]))
    assert not SignInLink.objects.exists()


def test_the_support_command_prints_a_working_link(dossier):
    out = io.StringIO()
    call_command("candidate_link", dossier.reference, stdout=out)
    url = out.getvalue().strip()
    assert SignInLink.objects.get().origin == LinkOrigin.SUPPORT
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert Client().post(f"/{path}").status_code == 302


def test_a_link_made_by_the_service_says_where_it_came_from(dossier):
    link, token = sign_in_link_create(candidate=dossier.candidate, origin=LinkOrigin.SUPPORT)
    assert link.is_usable() and len(token) >= 43


def test_the_link_s_page_is_never_stored(dossier):
    response = Client().get(reverse("space:sign_in", args=[link_for(dossier)]))
    assert "no-store" in response["Cache-Control"]


def test_only_those_who_follow_the_candidate_send_a_link(dossier, make_member, org_a):
    evaluator = make_member(org_a, role=Role.EVALUATOR)
    with pytest.raises(PermissionDenied):
        sign_in_link_send(dossier=dossier, by=evaluator)
    assert logged_in_client(evaluator).post(reverse("space:link_send", args=[dossier.pk])).status_code == 403
    assert not SignInLink.objects.exists()


def test_spent_links_leave_the_database_30_days_after_they_expire(dossier):
    """The retention table's `sign_in_links` row, applied by the daily job: used or not, a link is deleted 30 days
    after its expiry; a younger one stays."""
    now = timezone.now()
    old, recent = (sign_in_link_create(candidate=dossier.candidate, origin=LinkOrigin.SUPPORT)[0] for _ in range(2))
    SignInLink.objects.filter(pk=old.pk).update(expires_at=now - datetime.timedelta(days=31), used_at=now)
    SignInLink.objects.filter(pk=recent.pk).update(expires_at=now - datetime.timedelta(days=29))
    assert retention_apply(now=now)["sign_in_links"] == 1
    assert list(SignInLink.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_idle_limit_is_a_setting_and_the_message_says_it(dossier, monkeypatch, settings):
    settings.CANDIDATE_SESSION_IDLE = datetime.timedelta(minutes=15)
    client = candidate_client(dossier)
    later = timezone.now() + datetime.timedelta(minutes=16)
    monkeypatch.setattr(CandidatePersonMiddleware, "now", staticmethod(lambda: later))
    response = client.get(reverse("space:dossier", args=[dossier.pk]), follow=True)
    assert "Ma session est finie après 15 minutes sans activité." in response.content.decode()
