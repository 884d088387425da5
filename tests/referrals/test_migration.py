"""Referrals moved from candidates to their own app: the rows, their constraints and their content type (which
the append-only audit log points at) come along."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from organisations.models import AuditLog, Role
from referrals.models import Referral, ReferralState
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory
from tests.journey import DossierFactory
from tests.migrations_support import migrated_to

# The last migration before the move, and the referrals app not migrated at all.
BEFORE_MOVE = [("candidates", "0006_candidate_identity_trigram"), ("referrals", None)]


@pytest.mark.django_db(transaction=True)
def test_the_move_to_the_referrals_app_keeps_the_rows_and_the_content_type():
    content_type = ContentType.objects.get_for_model(Referral)
    organisation, agency = OrganisationFactory(), OrganisationFactory(france_travail=True)
    site = SiteFactory(organisation=organisation)
    advisor = MembershipFactory(organisation=agency, role=Role.FT_ADVISOR).user
    counsellor = MembershipFactory(organisation=organisation, role=Role.COUNSELLOR).user
    dossier = DossierFactory(organisation=organisation)
    sent_at = timezone.now() - datetime.timedelta(days=3)
    fields = {
        "organisation_id": organisation.pk,
        "site_id": site.pk,
        "from_organisation_id": agency.pk,
        "advisor_id": advisor.pk,
        "certification": "clea",
        "civility": "mme",
        "first_name": "Nadia",
        "last_name": "Benali",
        "birth_date": datetime.date(1988, 4, 12),
        "birth_place": "Roubaix",
        "email": "nadia@example.org",
        "phone": "06 12 34 56 78",
        "postcode": "59100",
        "city": "Roubaix",
        "education_level": "3",
        "note": "Disponible le matin.",
        "consent_at": sent_at,
        "consent_text": "J'accepte que France Travail transmette mon identité.",
        "state": "accepted",
        "sent_at": sent_at,
        "answered_at": sent_at + datetime.timedelta(days=1),
        "answered_by_id": counsellor.pk,
        "decline_reason": "",
        "dossier_id": dossier.pk,
    }
    # Leaving the block migrates to the latest state: the move under test.
    with migrated_to(BEFORE_MOVE) as old_apps:
        with pytest.raises(LookupError):
            old_apps.get_model("referrals", "Referral")
        # Going back relabelled the very same content type row.
        old_content_type = old_apps.get_model("contenttypes", "ContentType").objects.get(
            app_label="candidates", model="referral"
        )
        assert old_content_type.pk == content_type.pk
        old_referral = old_apps.get_model("candidates", "Referral").objects.create(**fields)
        old_apps.get_model("organisations", "AuditLog").objects.create(
            action="referral.accept", object_type=old_content_type, object_id=str(old_referral.pk)
        )

    referral = Referral.objects.get(pk=old_referral.pk)
    assert {name: getattr(referral, name) for name in fields} == fields
    assert referral.state == ReferralState.ACCEPTED and referral.dossier == dossier
    assert ContentType.objects.get_for_model(Referral).pk == content_type.pk
    assert not ContentType.objects.filter(app_label="candidates", model="referral").exists()
    assert AuditLog.objects.get(object_type=content_type, object_id=str(referral.pk)).action == "referral.accept"
    assert Permission.objects.get(codename="view_referral").content_type_id == content_type.pk
    # The renamed table kept its constraints: one referral per dossier.
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(**{**fields, "first_name": "Autre"})
