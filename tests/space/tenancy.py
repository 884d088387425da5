"""The staff URL of the space in the tenancy registry: the counsellor's button that sends a link. The candidate's own
URLs are no organisation's: they are checked person against person in tests/space/test_tenancy.py."""

from organisations.models import Role
from tests.journey import DossierFactory
from tests.tenancy_registry import Target, TenantURL


def _dossier_with_email(organisation):
    dossier = DossierFactory(organisation=organisation, opened=True)
    return Target(kwargs={"pk": dossier.pk}, actor=dossier.team.counsellor)


TENANT_URLS = [
    TenantURL("space:link_send", Role.COUNSELLOR, _dossier_with_email, method="post"),
]
