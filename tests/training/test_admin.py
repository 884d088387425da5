import pytest
from django.urls import reverse

from organisations.models import User
from tests.clients import verified_login
from tests.journey import DossierFactory
from training.models import TrainingPlan

pytestmark = pytest.mark.django_db


def test_the_admin_lists_filters_and_opens_plans_with_their_sessions_and_notes(client):
    plan = TrainingPlan.objects.get(dossier=DossierFactory(state="final_evaluation"))
    verified_login(client, User.objects.create_superuser("admin@certifpro.test", "un mot de passe assez long"))
    changelist = reverse("admin:training_trainingplan_changelist")

    assert plan.dossier.reference in client.get(changelist).content.decode()
    assert plan.dossier.reference in client.get(changelist, {"statut": "termine"}).content.decode()
    assert plan.dossier.reference not in client.get(changelist, {"statut": "en_cours"}).content.decode()
    change = client.get(reverse("admin:training_trainingplan_change", args=[plan.pk])).content.decode()
    assert plan.sessions.get().topic in change
