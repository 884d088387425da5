"""The generator's other certifications, jury deferrals and France Travail referrals, read from one data set
built once for the module (a few hundred dossiers on five organisations)."""

import io
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from bench.national_dataset import run
from candidates.models import Dossier, DossierEvent
from candidates.models import DossierState as S
from directory.models import Commune
from evaluations.acquisitions import dossier_outcome
from evaluations.models import Evaluation
from juries.models import Certificate, Decision, DecisionKind, Submission, decision_domains_problem
from organisations.models import Habilitation, Membership, OrganisationKind, Role
from referrals.models import Referral, ReferralState
from tests.bench.test_national_dataset import COMMUNES, TODAY
from tests.shared import shared_rows
from training.models import TrainingPlan


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with shared_rows(django_db_blocker):
        Commune.objects.bulk_create(
            Commune(
                insee_code=code,
                name=name,
                name_folded=name.lower(),
                departement=dep,
                departement_name=dep,
                region=region,
                region_name=region,
                postcodes=f"{dep}000",
                population=population,
                latitude=lat,
                longitude=lng,
            )
            for code, name, dep, region, population, lat, lng in COMMUNES
        )
        args = ["--dossiers", "300", "--seed", "11", "--today", TODAY.isoformat(), "--organisations", "5"]
        args += ["--sites-per-organisation", "2", "--training-organisations", "2"]
        # The journeys as the base phase draws them: on PostgreSQL the extras would add their appointments' events
        # to the timelines (tests/bench/test_national_extras.py covers them).
        args.append("--allow-sqlite" if connection.vendor != "postgresql" else "--no-extras")
        run(args, stdout=io.StringIO())
        yield


pytestmark = pytest.mark.usefixtures("world")


def test_the_three_certifications_each_on_its_referentiel_and_habilitation(db):
    shares = Counter(Dossier.objects.values_list("certification", flat=True))
    # 75 / 18 / 7 %: CléA first, every certification present.
    assert shares["clea"] > shares["clea_numerique"] > shares["clea_management"] > 0
    for number, dossier in enumerate(Dossier.objects.select_related("referentiel")):
        if number % 10 == 0:
            dossier.full_clean(exclude=["state"])  # protected FSM field: set by its transitions only
        assert dossier.referentiel.certification == dossier.certification
        assert Habilitation.objects.filter(
            organisation_id=dossier.organisation_id, certification=dossier.certification
        ).exists()
    for evaluation in Evaluation.objects.filter(kind="prior").exclude(dossier__certification="clea")[:10]:
        assert evaluation.results.count() == evaluation.dossier.referentiel.criteria().count()
    for submission in Submission.objects.select_related("session", "dossier"):
        assert submission.session.certification == submission.dossier.certification
    prefixes = {"clea": "CLEA-", "clea_numerique": "CLEANUM-", "clea_management": "CLEAMGT-"}
    for certificate in Certificate.objects.select_related("dossier"):
        assert certificate.certification == certificate.dossier.certification
        assert certificate.number.startswith(prefixes[certificate.certification])
        assert certificate.dossier.reference.startswith(prefixes[certificate.certification])


def test_every_timeline_follows_the_state_machine(db):
    """Each transition starts where the previous one ended and the dossier's state is the last one reached."""
    last_state: dict[int, str] = {}
    events = DossierEvent.objects.exclude(to_state="").order_by("dossier_id", "at", "id")
    for event in events.values("dossier_id", "transition", "from_state", "to_state", "at"):
        assert event["from_state"] == last_state.get(event["dossier_id"], ""), event
        last_state[event["dossier_id"]] = event["to_state"]
    assert dict(Dossier.objects.values_list("id", "state")) == last_state


def test_deferrals_name_domains_and_some_come_back_certified(db):
    deferrals = Decision.objects.filter(kind=DecisionKind.DEFERRED).select_related("submission__dossier__referentiel")
    assert deferrals.exists()
    for decision in Decision.objects.all():
        assert decision_domains_problem(decision.kind, decision.missing_domains) is None
        decision.full_clean()
    back = 0
    for decision in deferrals:
        dossier = decision.submission.dossier
        codes = set(dossier.referentiel.domains.values_list("code", flat=True))
        assert decision.reason and set(decision.missing_domains) <= codes
        transitions = list(
            dossier.events.exclude(transition="").order_by("at", "id").values_list("transition", flat=True)
        )
        after = transitions[transitions.index("defer") + 1 :]
        if dossier.state == S.CERTIFIED:
            back += 1
            # Trained again, evaluated again on the reopened domains, submitted to a later session.
            assert after[:4] == ["start_training", "start_final_evaluation", "close_final_evaluation", "submit_to_jury"]
            decided_on = decision.decided_at.date()
            assert TrainingPlan.objects.filter(dossier=dossier, starts_on__gt=decided_on).exists()
            finals = Evaluation.objects.filter(dossier=dossier, kind="final", started_on__gt=decided_on)
            final = finals.order_by("started_on").first()
            scope = set(final.results.values_list("criterion__subdomain__domain__code", flat=True))
            assert scope == set(decision.missing_domains)
            assert dossier_outcome(dossier).all_validated
        elif dossier.state == S.PARTIALLY_VALIDATED:
            assert after == []
    assert back > 0
    # Two submissions of one dossier go to two sessions, in order.
    resubmitted = Submission.objects.values("dossier").annotate(n=Count("id")).filter(n__gt=1)
    assert resubmitted.exists()


def test_referrals_from_france_travail_agencies(db):
    states = Counter(Referral.objects.values_list("state", flat=True))
    assert states[ReferralState.ACCEPTED] > 0 and states[ReferralState.DECLINED] + states[ReferralState.EXPIRED] > 0
    for referral in Referral.objects.select_related("site", "from_organisation", "dossier__candidate"):
        referral.full_clean(exclude=["state"])  # protected FSM field: set by its transitions only
        assert referral.site.organisation_id == referral.organisation_id
        assert referral.from_organisation.kind == OrganisationKind.FRANCE_TRAVAIL
        assert Membership.objects.filter(
            user_id=referral.advisor_id, organisation=referral.from_organisation, role=Role.FT_ADVISOR
        ).exists()
        events = list(referral.events.order_by("at", "id").values_list("from_state", "to_state"))
        assert events[0] == ("", ReferralState.SENT)
        assert events[-1][1] == referral.state and len(events) == (1 if referral.state == ReferralState.SENT else 2)
        if referral.state == ReferralState.ACCEPTED:
            dossier = referral.dossier
            assert (dossier.organisation_id, dossier.certification) == (
                referral.organisation_id,
                referral.certification,
            )
            assert (dossier.candidate.origin, dossier.candidate.registration_status) == ("france_travail", "job_seeker")
            assert referral.sent_at < referral.answered_at == dossier.created_at
            assert dossier.events.filter(note__startswith="Orienté par France Travail").exists()
        else:
            assert referral.dossier is None
        if referral.state == ReferralState.DECLINED:
            assert referral.decline_reason
