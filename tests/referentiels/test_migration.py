"""The move of the référentiels from `evaluations` to `referentiels` keeps their rows, their constraints, their
content types (the audit log and the permissions point at them) and every foreign key that points at them: a
dossier's référentiel, a criterion result's criterion, a training plan's target criteria."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction

from candidates.models import Dossier
from evaluations.models import CriterionResult, Evaluation
from referentiels.models import Criterion, Domain, Referentiel, SubDomain
from referentiels.outcomes import compute_outcome
from tests.audit import audit_rows_for
from tests.migrations_support import migrated_to
from training.models import TrainingPlan

# The last migration before the move: evaluations' tables not renamed yet, the referentiels app not migrated.
BEFORE_THE_MOVE = ("evaluations", "0001_initial")
MOVED = ["referentiel", "domain", "subdomain", "criterion"]
MODELS = {"referentiel": Referentiel, "domain": Domain, "subdomain": SubDomain, "criterion": Criterion}
# The foreign keys that point at the moved tables, from the tables that stay where they are and from each other.
POINTING_AT_THEM = {
    ("candidates_dossier", "referentiel_id"): "referentiels_referentiel",
    ("evaluations_criterionresult", "criterion_id"): "referentiels_criterion",
    ("training_trainingplan_target_criteria", "criterion_id"): "referentiels_criterion",
    ("referentiels_domain", "referentiel_id"): "referentiels_referentiel",
    ("referentiels_subdomain", "domain_id"): "referentiels_domain",
    ("referentiels_criterion", "subdomain_id"): "referentiels_subdomain",
}


def referenced_table(table: str, column: str) -> str | None:
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, table)
    return relations[column][1] if column in relations else None


@pytest.mark.django_db(transaction=True)
def test_moving_the_referentiels_keeps_their_rows_constraints_content_types_and_what_points_at_them():
    content_types = {model: ContentType.objects.get_for_model(MODELS[model]).pk for model in MOVED}
    # The historical models of every applied migration, not only the ones evaluations 0001 needs: dossiers get their
    # référentiel in candidates 0002, which comes after it. Leaving the block migrates to the latest state: the move
    # under test.
    with migrated_to([BEFORE_THE_MOVE]) as old:
        with pytest.raises(LookupError):
            old.get_model("referentiels", "Referentiel")
        tables = connection.introspection.table_names()
        assert "evaluations_referentiel" in tables and "referentiels_referentiel" not in tables

        # Going back relabelled the very same content type rows.
        OldContentType = old.get_model("contenttypes", "ContentType")
        for model, pk in content_types.items():
            assert OldContentType.objects.get(app_label="evaluations", model=model).pk == pk
        # A row under the new label too, as post_migrate leaves it when `migrate` ran with the new code before
        # these migrations: the old row, which the audit log points at, must win.
        OldContentType.objects.get_or_create(app_label="referentiels", model="criterion")

        organisation = old.get_model("organisations", "Organisation").objects.create(
            name="Greta Lille Métropole", kind="evaluator", siret="19590000000011", region="32"
        )
        training_org = old.get_model("organisations", "Organisation").objects.create(
            name="AFPA Roubaix", kind="training", siret="82422814200018", region="32"
        )
        User = old.get_model("organisations", "User")
        counsellor, evaluator, trainer = (
            User.objects.create(email=email, first_name=first_name, last_name=last_name, password="!")
            for email, first_name, last_name in [
                ("conseil@greta.example", "Inès", "Roux"),
                ("eval@greta.example", "Marc", "Petit"),
                ("forme@afpa.example", "Léa", "Moreau"),
            ]
        )

        referentiel = old.get_model("evaluations", "Referentiel").objects.create(
            certification="clea", version="2018", title="Référentiel CléA", is_current=True
        )
        domain = old.get_model("evaluations", "Domain").objects.create(
            referentiel=referentiel, code="2", title="Calcul", position=2
        )
        subdomain = old.get_model("evaluations", "SubDomain").objects.create(
            domain=domain, code="2.1", title="Se repérer dans l'univers des nombres", threshold_percent=66, position=1
        )
        OldCriterion = old.get_model("evaluations", "Criterion")
        criteria = [
            OldCriterion.objects.create(
                subdomain=subdomain, code=f"2.1.{i}", title=f"Critère 2.1.{i}", position=i, is_mandatory=i == 1
            )
            for i in (1, 2, 3)
        ]
        candidate = old.get_model("candidates", "Candidate").objects.create(
            organisation=organisation,
            civility="mme",
            first_name="Nadia",
            last_name="Benali",
            birth_date=datetime.date(1988, 4, 12),
            birth_place="Roubaix",
            registration_status="job_seeker",
            education_level="3",
            origin="own_initiative",
            identity_key="benali nadia",
        )
        dossier = old.get_model("candidates", "Dossier").objects.create(
            organisation=organisation,
            candidate=candidate,
            certification="clea",
            referentiel=referentiel,
            counsellor=counsellor,
            reference="CLEA-2026-000042",
            state="in_training",
        )
        evaluation = old.get_model("evaluations", "Evaluation").objects.create(
            organisation=organisation,
            dossier=dossier,
            kind="prior",
            evaluator=evaluator,
            started_on=datetime.date(2026, 10, 5),
            ended_on=datetime.date(2026, 10, 6),
            status="closed",
        )
        OldResult = old.get_model("evaluations", "CriterionResult")
        results = {
            OldResult.objects.create(evaluation=evaluation, criterion=criterion, result=value).pk: (criterion.pk, value)
            for criterion, value in zip(criteria, ["acquired", "acquired", "not_acquired"], strict=True)
        }
        plan = old.get_model("training", "TrainingPlan").objects.create(
            organisation=training_org,
            dossier=dossier,
            trainer=trainer,
            objectives="Acquérir 2.1.3",
            planned_hours=Decimal("21.0"),
            starts_on=datetime.date(2026, 11, 2),
            ends_on=datetime.date(2026, 12, 18),
            created_by=counsellor,
        )
        plan.target_criteria.add(criteria[2])
        old.get_model("organisations", "AuditLog").objects.create(
            action="referentiel.make_current",
            actor=counsellor,
            object_type_id=content_types["referentiel"],
            object_id=str(referentiel.pk),
            object_repr="CléA – 2018",
        )

    tables = set(connection.introspection.table_names())
    assert {f"referentiels_{model}" for model in MOVED} <= tables
    assert not {f"evaluations_{model}" for model in MOVED} & tables
    # The foreign keys of the tables that stayed follow the renamed tables (SQLite rewrites them in place).
    for (table, column), target in POINTING_AT_THEM.items():
        assert referenced_table(table, column) == target, (table, column)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA foreign_key_check").fetchall() == []

    moved = Referentiel.objects.get(pk=referentiel.pk)
    assert (moved.certification, moved.version, moved.title, moved.is_current) == (
        "clea",
        "2018",
        "Référentiel CléA",
        True,
    )
    assert Referentiel.objects.current_for("clea") == moved
    assert [(c.pk, c.code, c.is_mandatory) for c in moved.criteria().in_referentiel_order()] == [
        (criteria[0].pk, "2.1.1", True),
        (criteria[1].pk, "2.1.2", False),
        (criteria[2].pk, "2.1.3", False),
    ]
    assert SubDomain.objects.get(pk=subdomain.pk).threshold_percent == 66
    assert moved.is_locked  # a dossier was opened on it, through the reverse relation from candidates

    assert Dossier.objects.get(pk=dossier.pk).referentiel == moved
    moved_results = CriterionResult.objects.filter(evaluation_id=evaluation.pk)
    assert {r.pk: (r.criterion_id, r.result) for r in moved_results} == results
    assert Evaluation.objects.get(pk=evaluation.pk).results.get(result="not_acquired").criterion.code == "2.1.3"
    assert list(TrainingPlan.objects.get(pk=plan.pk).target_criteria.all()) == [Criterion.objects.get(code="2.1.3")]
    # The rule reads the moved tree: 2 of 3 with 66 % and the mandatory 2.1.1 acquired.
    acquired = {criteria[0].pk, criteria[1].pk}
    assert compute_outcome(moved.domains_tree(), acquired).all_validated

    # The content types kept their ids, so the audit log and the permissions still find the référentiels.
    assert not ContentType.objects.filter(app_label="evaluations", model__in=MOVED).exists()
    for model, pk in content_types.items():
        assert ContentType.objects.get_for_model(MODELS[model]).pk == pk
        assert Permission.objects.get(codename=f"view_{model}").content_type_id == pk
    assert list(audit_rows_for(moved).values_list("action", flat=True)) == ["referentiel.make_current"]

    # The renamed tables go on numbering their rows, and their constraints still hold.
    Criterion.objects.create(subdomain_id=subdomain.pk, code="2.1.4", title="Critère 2.1.4", position=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Criterion.objects.create(subdomain_id=subdomain.pk, code="2.1.4", title="Doublon")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referentiel.objects.create(certification="clea", version="2027", title="Autre", is_current=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubDomain.objects.filter(pk=subdomain.pk).update(threshold_percent=0)
    # The foreign keys into the renamed tables are enforced by the database, from every side.
    with pytest.raises(IntegrityError), transaction.atomic():
        Dossier.objects.filter(pk=dossier.pk).update(referentiel_id=referentiel.pk + 1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        CriterionResult.objects.filter(evaluation_id=evaluation.pk).update(criterion_id=criteria[2].pk + 1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingPlan.target_criteria.through.objects.filter(trainingplan_id=plan.pk).update(
            criterion_id=criteria[2].pk + 1000
        )
