import datetime

import pytest
from django.core.exceptions import ValidationError

from organisations.demo import siret_from
from organisations.models import AuditLog, Habilitation, HabilitationStatus, Membership, OrganisationKind, Role
from organisations.services import audit_record
from organisations.validators import validate_insee_code, validate_siret
from tests.factories import HabilitationFactory, OrganisationFactory, UserFactory


@pytest.mark.parametrize("siret", ["73282932000074", "35600000000048", "35600000012341", siret_from("1234567890123")])
def test_valid_sirets_pass(siret):
    validate_siret(siret)


@pytest.mark.parametrize(
    ("siret", "code"),
    [("7328293200007", "siret_format"), ("7328293200007A", "siret_format"), ("73282932000075", "siret_checksum")],
)
def test_invalid_sirets_are_refused_with_a_french_message(siret, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_siret(siret)
    assert excinfo.value.code == code
    assert "SIRET" in excinfo.value.messages[0]


@pytest.mark.parametrize("code", ["59350", "2A004", "97411"])
def test_insee_codes_including_corsica(code):
    validate_insee_code(code)


def test_insee_code_with_letters_elsewhere_is_refused():
    with pytest.raises(ValidationError):
        validate_insee_code("5935A")


@pytest.mark.django_db
def test_habilitation_in_force_only_when_active_and_within_dates():
    today = datetime.date(2026, 11, 23)
    current = HabilitationFactory(valid_from=today - datetime.timedelta(days=1), valid_until=today)
    HabilitationFactory(valid_from=today + datetime.timedelta(days=1), valid_until=today + datetime.timedelta(days=9))
    HabilitationFactory(valid_from=today - datetime.timedelta(days=9), valid_until=today - datetime.timedelta(days=1))
    HabilitationFactory(
        status=HabilitationStatus.SUSPENDED, status_reason="Audit défavorable", valid_from=today, valid_until=today
    )
    assert list(Habilitation.objects.in_force(on=today)) == [current]


@pytest.mark.django_db
def test_suspension_requires_a_reason_and_only_evaluators_are_habilitated():
    habilitation = HabilitationFactory.build(
        organisation=OrganisationFactory(training=True), status=HabilitationStatus.SUSPENDED, status_reason=" "
    )
    with pytest.raises(ValidationError) as excinfo:
        habilitation.full_clean()
    assert set(excinfo.value.message_dict) >= {"organisation", "status_reason"}


@pytest.mark.django_db
def test_a_role_must_exist_in_the_organisation_kind():
    training = OrganisationFactory(training=True)
    membership = Membership(user=UserFactory(), organisation=training, role=Role.COUNSELLOR)
    with pytest.raises(ValidationError) as excinfo:
        membership.full_clean()
    assert "role" in excinfo.value.message_dict
    Membership(user=UserFactory(), organisation=training, role=Role.TRAINER).full_clean()
    assert training.kind == OrganisationKind.TRAINING


@pytest.mark.django_db
def test_the_audit_log_is_append_only():
    entry = audit_record(action="test.action", actor=UserFactory(), organisation=OrganisationFactory())
    entry.action = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().update(action="rewritten")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get().action == "test.action"


@pytest.mark.django_db
def test_user_emails_are_stored_lowercase_and_unique():
    from organisations.models import User

    user = User.objects.create_user(
        "Camille.Martin@Exemple.FR", "une phrase de passe longue", first_name="C", last_name="M"
    )
    assert user.email == "camille.martin@exemple.fr"
