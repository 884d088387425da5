"""Certif'Pro's edits in the Django admin leave audit rows naming the fields changed, never their values; the fields
a workflow moves (a training's completion, a state, a number, a hash) are not editable there."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate
from funding.models import Funder, Tariff
from organisations.admin_audit import AuditedAdminMixin
from organisations.models import AuditLog, Membership, Role
from tests.admin_forms import admin_form_data
from tests.clients import verified_login
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory, SiteFactory, UserFactory
from tests.journey import DossierFactory
from training.models import TrainingPlan
from training.services import training_note_add, training_session_add

pytestmark = pytest.mark.django_db

# The platform's own apps, and Django's groups (which carry permissions). Axes' lockout lists stay as axes has them.
PLATFORM_APPS = {config.label for config in apps.get_app_configs() if Path(config.path).parent == settings.BASE_DIR}
AUDITED_APPS = PLATFORM_APPS | {"auth"}


@pytest.fixture
def certifpro_admin():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, certifpro_admin):
    return verified_login(client, certifpro_admin)


def _admin_rows():
    return AuditLog.objects.filter(action__startswith="admin.").order_by("id")


def test_every_admin_of_the_platforms_apps_is_audited():
    ours = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in AUDITED_APPS
    }
    assert len(ours) > 20 and Candidate in ours and TrainingPlan in ours
    unaudited = sorted(
        model._meta.label for model, model_admin in ours.items() if not isinstance(model_admin, AuditedAdminMixin)
    )
    assert unaudited == []


def test_correcting_an_identity_in_the_admin_records_which_fields_changed_and_not_the_names(
    admin_client, certifpro_admin
):
    candidate = DossierFactory(last_name="Lefèvre", first_name="Hélène").candidate
    url = reverse("admin:candidates_candidate_change", args=[candidate.pk])
    data = admin_form_data(admin_client.get(url))

    response = admin_client.post(url, {**data, "last_name": "Lefebvre-Martin", "first_name": "Hélèna"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    candidate.refresh_from_db()
    assert (candidate.last_name, candidate.first_name) == ("Lefebvre-Martin", "Hélèna")
    row = _admin_rows().get()
    assert (row.action, row.actor, row.organisation_id) == ("admin.change", certifpro_admin, candidate.organisation_id)
    assert (row.object_type.model_class(), row.object_id) == (Candidate, str(candidate.pk))
    assert row.details == {"fields": ["first_name", "last_name"]}
    assert row.object_repr == f"Personne candidate n° {candidate.pk}"
    assert row.ip_address == "127.0.0.1"
    logged = str(list(AuditLog.objects.values_list("object_repr", "details")))
    assert "Lefebvre" not in logged and "Lefèvre" not in logged and "Hél" not in logged
    # Saving again without a change records nothing.
    admin_client.post(url, admin_form_data(admin_client.get(url)))
    assert _admin_rows().count() == 1


def test_a_trainings_completion_and_its_trainers_record_are_read_only_in_the_admin(admin_client):
    dossier = DossierFactory(state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    trainer = dossier.team.trainer
    training_session_add(
        plan=plan, by=trainer, date=timezone.localdate(), duration_hours=Decimal("3"), topic="Fractions"
    )
    training_note_add(plan=plan, by=trainer, text="Progresse bien.")
    url = reverse("admin:training_trainingplan_change", args=[plan.pk])
    page = admin_client.get(url)

    editable = set(page.context["adminform"].form.fields)
    assert not editable & {"completed_at", "shortfall_reason", "dossier", "cycle", "created_by"}
    # Sessions (done or not) and notes are the trainer's, through the training screens: shown, not editable.
    for inline in page.context["inline_admin_formsets"]:
        assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission

    new_end = plan.ends_on + datetime.timedelta(days=14)
    data = admin_form_data(page)
    data.update({"ends_on": f"{new_end:%Y-%m-%d}", "completed_at_0": f"{timezone.localdate():%Y-%m-%d}"})
    data["completed_at_1"] = "10:00:00"
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    plan.refresh_from_db()
    assert plan.ends_on == new_end and plan.completed_at is None
    assert plan.sessions.get().done is False and plan.notes.get().text == "Progresse bien."
    row = _admin_rows().get()
    assert (row.action, row.organisation_id, row.details) == (
        "admin.change",
        plan.organisation_id,
        {"fields": ["ends_on"]},
    )


def test_an_inline_row_added_and_an_object_deleted_in_the_admin_are_audited(admin_client, certifpro_admin):
    organisation = OrganisationFactory()
    site = SiteFactory(organisation=organisation)
    newcomer = UserFactory()
    url = reverse("admin:organisations_organisation_change", args=[organisation.pk])
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": str(newcomer.pk),
            "memberships-0-role": Role.COUNSELLOR,
            "memberships-0-is_active": "on",
        }
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    membership = Membership.objects.get(user=newcomer)
    added = _admin_rows().get()
    assert (added.action, added.object_type.model, added.object_id) == ("admin.add", "membership", str(membership.pk))
    assert added.organisation_id == organisation.pk and set(added.details["fields"]) >= {"user", "role"}

    delete_url = reverse("admin:organisations_site_delete", args=[site.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302

    deleted = _admin_rows().last()
    assert (deleted.action, deleted.object_type.model, deleted.object_id) == ("admin.delete", "site", str(site.pk))
    assert (deleted.actor, deleted.organisation_id, deleted.details) == (certifpro_admin, organisation.pk, {})


def test_a_password_set_in_the_admin_is_audited_without_the_password(admin_client):
    user = MembershipFactory().user
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    new_password = f"{TEST_PASSWORD} renouvelé"

    response = admin_client.post(url, {"password1": new_password, "password2": new_password, "usable_password": "true"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    row = _admin_rows().get()
    assert (row.action, row.object_id, row.details) == ("admin.change", str(user.pk), {"fields": ["password"]})
    assert "renouvel" not in str(row.details)


def test_the_lists_editable_columns_and_the_delete_action_are_audited(admin_client):
    funder = Funder.objects.create(kind="region", name="Région Hauts-de-France", code="region-32", reference_label="N°")
    tariffs = [
        Tariff.objects.create(
            certification="clea",
            kind=kind,
            amount_cents=1000,
            vat_rate=Decimal("20"),
            valid_from=datetime.date(2030, 1, 1),
        )
        for kind in ("prior_evaluation", "certificate")
    ]
    changelist = reverse("admin:funding_funder_changelist")
    page = admin_client.get(changelist)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(funder.pk),
        "form-0-position": "3",
        "_save": "Enregistrer",
    }
    assert page.status_code == 200

    response = admin_client.post(changelist, data)  # is_active left unticked: switched off

    assert response.status_code == 302
    funder.refresh_from_db()
    assert (funder.is_active, funder.position) == (False, 3)
    row = _admin_rows().get()
    assert (row.action, row.object_id, row.details) == (
        "admin.change",
        str(funder.pk),
        {"fields": ["is_active", "position"]},
    )

    response = admin_client.post(
        reverse("admin:funding_tariff_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(t.pk) for t in tariffs]},
    )

    assert response.status_code == 302 and not Tariff.objects.filter(pk__in=[t.pk for t in tariffs]).exists()
    deleted = list(_admin_rows().filter(action="admin.delete").values_list("object_id", flat=True))
    assert sorted(deleted) == sorted(str(t.pk) for t in tariffs)
