import pytest
from django.core.management import call_command

from candidates.models import DossierState
from directory.demo import EVALUATORS, seed_directory
from directory.selectors import directory_sites
from organisations.demo import seed_foundation
from organisations.models import OrganisationKind, Site
from referrals.demo import seed_referrals
from referrals.models import Referral, ReferralState

pytestmark = pytest.mark.django_db


def test_the_demo_directory_is_idempotent_and_has_referrals_in_every_state():
    call_command("load_referentiels", verbosity=0)
    orgs = seed_foundation()
    created = seed_directory(orgs) + seed_referrals(orgs)
    counts = (Site.objects.count(), Referral.objects.count())
    assert created > 40
    assert seed_directory(orgs) + seed_referrals(orgs) == 0
    assert (Site.objects.count(), Referral.objects.count()) == counts

    listed = directory_sites()
    regions = set(listed.values_list("organisation__region", flat=True))
    assert len(regions) >= 14  # mainland regions, Corsica, La Réunion, Martinique
    assert not listed.filter(organisation__name__contains="suspendue").exists()
    assert (
        listed.filter(organisation__kind=OrganisationKind.EVALUATOR).count()
        == sum(len(sites) for key, (*_, sites) in EVALUATORS.items() if key != "suspended")
        + Site.objects.filter(organisation__in=[orgs["nord"], orgs["sud"]]).count()
    )

    referrals = Referral.objects.filter(from_organisation=orgs["ft"], organisation=orgs["nord"])
    assert set(referrals.values_list("state", flat=True)) == set(ReferralState.values)
    accepted = referrals.get(state=ReferralState.ACCEPTED)
    assert accepted.dossier.state == DossierState.INFORMATION
    assert referrals.get(state=ReferralState.DECLINED).decline_reason
