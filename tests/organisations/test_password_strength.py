"""Guessable passwords are refused wherever a password is set, with the reason in French (organisations/
password_strength.py, README "Mots de passe et connexions")."""

import ast
from pathlib import Path

import pytest
import zxcvbn.feedback
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from organisations.demo import ACCOUNTS, DEMO_PASSWORD, seed_foundation
from organisations.models import Role, User
from organisations.password_strength import FEEDBACK, PasswordStrengthValidator
from tests.clients import page_text, verified_login
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory

TOO_EASY = "Ce mot de passe est trop facile à deviner."
WHAT_TO_DO = "Choisissez par exemple une phrase de passe"


def refusal(password: str, user: User | None = None) -> list[str]:
    """The messages of the strength validator for this password ([] when accepted)."""
    try:
        PasswordStrengthValidator().validate(password, user)
    except ValidationError as refused:
        assert {error.code for error in refused.error_list} == {"password_too_guessable"}
        return refused.messages
    return []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("motdepasse12", "très utilisé en France"),
        ("azertyuiopqs", "très utilisé en France"),
        ("cleacleaclea", "répétition"),
        (DEMO_PASSWORD, "mot de passe publié des comptes de démonstration"),
        (DEMO_PASSWORD.title(), "mot de passe publié des comptes de démonstration"),
    ],
)
def test_the_passwords_of_the_review_are_refused_saying_why_and_what_to_do(password, reason):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    messages = refused.value.messages
    assert messages[0] == TOO_EASY
    assert any(reason in message for message in messages), messages
    assert messages[-1].startswith(WHAT_TO_DO)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("abcdefghijkl", "Une suite comme « abc » ou « 6543 »"),
        ("aaaaaaaaaaaa", "Une répétition comme « aaa »"),
        ("poiuytrezaqs", "très utilisé en France"),  # the AZERTY row, backwards
        ("1qaz2wsx3edc", "très utilisé"),  # a QWERTY column walk from zxcvbn's breached list
        ("Bonjour2024!", "très utilisé en France"),
        ("jetaimemarseille", "très utilisé en France"),
        ("certifpro2026", "lié à la plateforme"),
    ],
)
def test_sequences_keyboard_walks_repeats_and_french_favourites_are_refused(password, reason):
    messages = refusal(password)
    assert messages and messages[0] == TOO_EASY
    assert any(reason in message for message in messages), messages


@pytest.mark.django_db
def test_the_users_names_address_and_organisation_are_refused_to_them_only():
    organisation = OrganisationFactory(name="Ateliers Quimperlé")
    zoe = MembershipFactory(
        organisation=organisation,
        user__first_name="Zoé",
        user__last_name="Kerbrat",
        user__email="zoe.kerbrat@horizon-emploi.fr",
    ).user
    for password in ["horizonkerbrat", "zoekerbrat1984", "ateliersquimperle", "Ateliers Quimperle"]:
        assert refusal(password) == [], f"{password} is fine for someone else"
        messages = refusal(password, zoe)
        assert any("votre nom, votre adresse e-mail ou le nom de votre organisation" in m for m in messages), messages


@pytest.mark.django_db
def test_a_user_not_yet_saved_is_judged_on_the_names_and_address_typed():
    # The admin's creation form validates before the account (and its memberships) exist.
    newcomer = User(first_name="Zoé", last_name="Kerbrat", email="zoe.kerbrat@horizon-emploi.fr")
    assert refusal("horizonkerbrat", newcomer)


@pytest.mark.parametrize(
    "password",
    [TEST_PASSWORD, "une toute nouvelle phrase de passe", "le chat dort sur le canapé bleu", "cheval pile agrafe 7"],
)
def test_passphrases_pass_without_symbols_digits_or_capitals(password):
    validate_password(password)


def test_every_text_of_zxcvbns_feedback_has_its_french_message():
    """zxcvbn writes its feedback in English: a new text after an upgrade would be left out of the refusal."""
    tree = ast.parse(Path(zxcvbn.feedback.__file__).read_text(encoding="utf-8"))
    texts = {
        "".join(part.value for part in ast.walk(call.args[0]) if isinstance(part, ast.Constant))
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "_"
    }
    assert len(texts) >= 20
    assert texts <= set(FEEDBACK), texts - set(FEEDBACK)


@pytest.mark.django_db
def test_the_demo_seed_sets_the_published_password_that_real_users_are_refused():
    seed_foundation()
    account = User.objects.get(email=ACCOUNTS[0].email)
    login = Client().post(reverse("login"), {"username": account.email, "password": DEMO_PASSWORD})
    assert login.status_code == 302 and login.url == reverse("home")
    with pytest.raises(ValidationError):
        validate_password(DEMO_PASSWORD, account)


# -- Where a password is set ------------------------------------------------------------------------------------


@pytest.fixture
def certifpro_admin(make_member):
    membership = make_member(role=Role.CERTIFPRO_ADMIN)
    User.objects.filter(pk=membership.user_id).update(is_staff=True, is_superuser=True)
    return verified_login(Client(), membership.user)


@pytest.mark.django_db
def test_certifpro_cannot_create_an_account_with_a_guessable_password_in_the_admin(certifpro_admin):
    form = {
        "email": "nadia.benali@exemple.fr",
        "first_name": "Nadia",
        "last_name": "Benali",
        "usable_password": "true",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    url = reverse("admin:organisations_user_add")
    refused = certifpro_admin.post(url, {**form, "password1": "motdepasse12", "password2": "motdepasse12"})
    assert refused.status_code == 200
    assert TOO_EASY in page_text(refused)
    assert not User.objects.filter(email="nadia.benali@exemple.fr").exists()

    created = certifpro_admin.post(url, {**form, "password1": TEST_PASSWORD, "password2": TEST_PASSWORD})
    assert created.status_code == 302
    assert User.objects.get(email="nadia.benali@exemple.fr").check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_a_user_cannot_change_their_password_for_a_guessable_one(client_for, make_member):
    membership = make_member()
    client = client_for(membership)
    refused = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "azertyuiopqs", "new_password2": "azertyuiopqs"},
    )
    assert refused.status_code == 200
    assert TOO_EASY in page_text(refused)
    membership.user.refresh_from_db()
    assert membership.user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_a_password_reset_link_cannot_set_a_guessable_password():
    user = UserFactory(email="camille@exemple.fr")
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    form_page = client.get(
        reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)]), follow=True
    )
    assert form_page.context["validlink"]
    refused = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "cleacleaclea", "new_password2": "cleacleaclea"}
    )
    assert refused.status_code == 200
    assert TOO_EASY in page_text(refused)
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_the_help_text_under_the_new_password_says_what_is_refused(client_for, make_member):
    page = page_text(client_for(make_member()).get(reverse("password_change")))
    assert "ne doit pas être facile à deviner" in page
