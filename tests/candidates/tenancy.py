"""The candidates URLs that take an id, each made for the organisation under test."""

from __future__ import annotations

from typing import Any

from candidates.services import correction_request_create
from organisations.models import Organisation, Role
from tests.journey import DossierFactory
from tests.tenancy_registry import TenantList, TenantURL


def correction_request(organisation: Organisation) -> dict[str, Any]:
    """An open correction request of one of the organisation's candidates, as their space writes it."""
    dossier = DossierFactory(organisation=organisation, state="opened")
    correction = correction_request_create(
        candidate=dossier.candidate, dossier=dossier, message="Mon prénom s'écrit avec un tréma."
    )
    return {"pk": correction.pk}


TENANT_URLS = [
    TenantURL("journey:dossier_detail", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL(
        "candidates:dossier_open",
        Role.COUNSELLOR,
        lambda org: {"pk": DossierFactory(organisation=org, state="information").pk},
    ),
    TenantURL(
        "candidates:dossier_withdraw",
        Role.COUNSELLOR,
        lambda org: {"pk": DossierFactory(organisation=org, state="opened").pk},
    ),
    TenantURL("candidates:candidate_correct", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL("candidates:dossier_note", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL(
        "candidates:dossier_note",
        Role.ORG_ADMIN,
        lambda org: {"pk": DossierFactory(organisation=org).pk},
        method="post",
        data={"text": "Elle veut en parler à son employeur."},
    ),
    TenantURL("candidates:dossier_take_time", Role.COUNSELLOR, lambda org: {"pk": DossierFactory(organisation=org).pk}),
    TenantURL(
        "candidates:dossier_take_time",
        Role.COUNSELLOR,
        lambda org: {"pk": DossierFactory(organisation=org).pk},
        method="post",
        data={"reminder_on": ""},
    ),
    TenantURL("candidates:correction_request", Role.COUNSELLOR, correction_request),
    TenantURL(
        "candidates:correction_request",
        Role.ORG_ADMIN,
        correction_request,
        method="post",
        data={"answer": "C'est corrigé."},
    ),
]


def transferred_away(organisation: Organisation) -> str:
    """A dossier of the organisation that moved to another one: the organisation lists it among those gone."""
    from tests.candidates.transfer_support import move, new_organisation

    dossier = DossierFactory(organisation=organisation, state="opened")
    to, team = new_organisation()
    move(dossier, to, by=team.counsellor)
    return dossier.reference


TENANT_LISTS = [
    TenantList("candidates:transferred_away_list", Role.COUNSELLOR, transferred_away),
    TenantList("candidates:dossier_list", Role.COUNSELLOR, lambda org: DossierFactory(organisation=org).reference),
    TenantList(
        "candidates:dossier_export",
        Role.COUNSELLOR,
        lambda org: DossierFactory(organisation=org).reference,
        query={"format": "xlsx"},
    ),
]
