"""Every form reports its errors the same way: a summary at the top of the form that takes the focus on load
(static/js/error_summary.js) and links each error to its field; no role=alert box that links nothing."""

import html
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse

from clea_platform.certifications import Certification
from organisations.models import Role
from tests.factories import HabilitationFactory, SiteFactory
from tests.journey import DossierFactory, small_referentiel
from training.models import TrainingPlan

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SUMMARY = re.compile(r'<div class="error-summary"[^>]*data-error-summary.*?</ul>', re.S)
# Templates that render a form's fields (the shared field include, or the errors of a form by hand).
RENDERS_A_FORM = re.compile(r"includes/form\.html|includes/field\.html|form\.errors|non_field_errors|\.errors %\}")
SHOWS_THE_SUMMARY = re.compile(r"\{% error_summary |includes/form\.html|includes/error_summary\.html")


def form_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if path.parent.name != "includes" and "<form" in (text := path.read_text()) and RENDERS_A_FORM.search(text)
    )


def test_the_walk_finds_the_form_templates():
    names = {str(path.relative_to(TEMPLATES)) for path in form_templates()}
    assert {"referrals/referral_form.html", "juries/submit.html", "registration/login.html"} <= names
    assert len(names) >= 30


@pytest.mark.parametrize("path", form_templates(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_every_form_template_reports_its_errors_through_the_summary(path):
    source = path.read_text()
    assert SHOWS_THE_SUMMARY.search(source), f"{path.name}: no error summary"
    # The old boxes: present at load, announced unreliably, linking nothing.
    assert not re.search(r'role="alert"[^\n]*(form\.|Le formulaire contient des erreurs)', source)
    assert not re.search(r'\{% if [^%]*(form\.errors|non_field_errors)[^%]*%\}\s*<div[^>]*role="alert"', source)


def summary_of(body: str) -> tuple[str, list[str]]:
    match = SUMMARY.search(body)
    assert match, "no error summary"
    return match.group(0), re.findall(r'<a href="#([^"]+)">', match.group(0))


def assert_every_error_is_summarised(body: str, form: forms.BaseForm) -> None:
    """Each field error has a link in the summary to an element of the page; non-field errors are listed."""
    body = html.unescape(body)
    summary, links = summary_of(body)
    assert form.errors
    for name, errors in form.errors.items():
        if name == "__all__":
            assert all(str(error) in summary for error in errors)
            continue
        field = form[name]
        target = field.auto_id if f'id="{field.auto_id}"' in body else f"{field.auto_id}_0"
        assert links.count(target) == len(errors), (name, links)
        assert f'id="{target}"' in body
    assert len(links) == sum(len(errors) for name, errors in form.errors.items() if name != "__all__")
    assert body.index("data-error-summary") < body.index(f'id="{links[0]}"') if links else True


@pytest.mark.django_db
def test_a_password_change_posted_empty_links_each_field(client_for, org_a, make_member):
    response = client_for(make_member(org_a)).post(reverse("password_change"), {})

    assert response.status_code == 200
    assert_every_error_is_summarised(response.content.decode(), response.context["form"])


@pytest.mark.django_db
def test_a_dossier_laid_out_by_hand_links_each_missing_field(client_for, org_a, make_member):
    HabilitationFactory(organisation=org_a, certification=Certification.CLEA)
    small_referentiel(Certification.CLEA)
    response = client_for(make_member(org_a, role=Role.COUNSELLOR)).post(
        reverse("candidates:dossier_create"), {"last_name": "Martin", "birth_date": "31/02/1990"}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert {"first_name", "birth_date"} <= set(form.errors)
    assert_every_error_is_summarised(response.content.decode(), form)


@pytest.mark.django_db
def test_a_site_with_a_bad_availability_links_the_field(client_for, org_a, make_member):
    site = SiteFactory(organisation=org_a)
    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    url = reverse("organisations:site_edit", kwargs={"pk": site.pk})
    data = {name: value for name, value in client.get(url).context["form"].initial.items() if value is not None}
    data.update(typical_wait_days="-3", next_slot_on="pas une date")

    response = client.post(url, data)

    assert response.status_code == 200
    assert_every_error_is_summarised(response.content.decode(), response.context["form"])


@pytest.mark.django_db
def test_an_htmx_session_refused_on_its_fields_is_summarised_in_the_fragment(client_for):
    dossier = DossierFactory(state="in_training")
    plan = TrainingPlan.objects.get(dossier=dossier)
    response = client_for(dossier.team.trainer).post(
        reverse("training:session_add", args=[plan.pk]),
        {"session-date": "", "session-duration_hours": "0", "session-topic": ""},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.startswith('<section id="seances"')
    assert_every_error_is_summarised(body, response.context["session_form"])


class _Form(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect, label="Décision")
    session = forms.IntegerField(label="Session")
    day = forms.DateField(label="Date")

    def clean(self):
        raise forms.ValidationError("Rien n'est enregistré.")


def test_the_summary_lists_non_field_errors_first_and_links_radios_and_hand_laid_fields():
    form = _Form({"day": "hier"})
    rendered = Template('{% load form_fields %}{% error_summary form session="sessions-table" %}').render(
        Context({"form": form})
    )
    rendered = html.unescape(rendered)
    _, links = summary_of(rendered)

    assert links == ["id_kind_0", "sessions-table", "id_day"]  # the hidden field's error has no field to go to
    assert rendered.index("Rien n'est enregistré.") < rendered.index('href="#id_kind_0"')
    assert '<a href="#id_day">Date : Saisissez une date valide.</a>' in rendered
    assert "<li>Ce champ est obligatoire.</li>" in rendered  # the hidden token's, unlinked


def test_an_unbound_form_and_no_refusal_show_no_summary():
    rendered = Template("{% load form_fields %}{% error_summary form %}").render(Context({"form": _Form()}))

    assert "data-error-summary" not in rendered


def test_a_refusal_is_summarised_before_the_fields():
    rendered = Template("{% load form_fields %}{% error_summary form refusal=refusal %}").render(
        Context({"form": _Form(), "refusal": "La délibération n'est pas ouverte."})
    )

    assert "<li>La délibération n&#x27;est pas ouverte.</li>" in rendered
