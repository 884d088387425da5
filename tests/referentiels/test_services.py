import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from candidates.models import Dossier
from clea_platform.certifications import Certification
from evaluations.acquisitions import dossier_outcome
from referentiels.models import Criterion, Domain, Referentiel, SubDomain
from referentiels.referentiel_sources import DATA_DIR
from referentiels.services import referentiel_load_csv, referentiel_make_current, referentiel_new_version
from tests.journey import DossierFactory, small_referentiel

pytestmark = pytest.mark.django_db


def load_referentiels() -> str:
    out = io.StringIO()
    call_command("load_referentiels", stdout=out)
    return out.getvalue()


def test_load_referentiels_loads_the_clea_referentiel_with_its_thresholds():
    load_referentiels()
    clea = Referentiel.objects.current_for(Certification.CLEA)
    assert clea.criteria().count() == 107
    assert Domain.objects.filter(referentiel=clea).count() == 7
    thresholds = dict(SubDomain.objects.filter(domain__referentiel=clea).values_list("code", "threshold_percent"))
    assert len(thresholds) == 28
    assert (thresholds["2.2"], thresholds["2.4"], thresholds["2.5"]) == (50, 100, 66)
    assert thresholds["1.1"] == thresholds["2.1"] == thresholds["7.4"] == 75
    for certification in Certification.values:
        assert Referentiel.objects.current().filter(certification=certification).count() == 1


def test_load_referentiels_is_idempotent():
    load_referentiels()
    before = (Referentiel.objects.count(), set(Criterion.objects.values_list("pk", "code", "title", "subdomain_id")))
    load_referentiels()
    after = (Referentiel.objects.count(), set(Criterion.objects.values_list("pk", "code", "title", "subdomain_id")))
    assert before == after


def test_a_referentiel_used_by_a_dossier_is_locked():
    referentiel = small_referentiel()
    criterion = referentiel.criteria().get(code="1.1.1")
    criterion.clean()  # not used yet: editable
    assert not referentiel.is_locked

    DossierFactory(state="opened")
    assert referentiel.is_locked
    criterion.title = "Autre intitulé"
    with pytest.raises(ValidationError, match="créez une nouvelle version"):
        criterion.full_clean()
    # Adding a part changes the thresholds' meaning as much as editing one.
    with pytest.raises(ValidationError, match="créez une nouvelle version"):
        Criterion(subdomain=criterion.subdomain, code="1.1.9", title="Nouveau").full_clean()


def test_the_loader_leaves_a_locked_version_untouched():
    load_referentiels()
    DossierFactory(state="opened")  # opened on the current CléA version
    clea = Referentiel.objects.current_for(Certification.CLEA)
    assert clea.is_locked
    Criterion.objects.filter(subdomain__domain__referentiel=clea, code="1.1.1").update(title="Modifié à la main")

    output = load_referentiels()

    assert "verrouillé" in output
    assert clea.criteria().get(code="1.1.1").title == "Modifié à la main"
    report = referentiel_load_csv(
        path=DATA_DIR / "referentiel_clea.csv", certification=Certification.CLEA, version=clea.version, title="Autre"
    )
    assert report.skipped_locked
    clea.refresh_from_db()
    assert clea.title != "Autre"


def tree(referentiel):
    return [
        (
            d.code,
            d.title,
            d.is_transversal,
            d.position,
            [
                (
                    s.code,
                    s.title,
                    s.threshold_percent,
                    s.position,
                    [(c.code, c.title, c.is_mandatory, c.position) for c in s.criteria.all()],
                )
                for s in d.subdomains.all()
            ],
        )
        for d in referentiel.domains_tree()
    ]


def test_a_new_version_copies_domains_thresholds_and_mandatory_criteria():
    source = small_referentiel()
    copy = referentiel_new_version(source=source, version="2027")
    assert tree(copy) == tree(source)
    assert copy.criteria().get(code="1.2.1").is_mandatory
    assert not copy.is_current and source.is_current
    assert set(copy.criteria().values_list("pk", flat=True)).isdisjoint(source.criteria().values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="existe déjà"):
        referentiel_new_version(source=source, version="2027")


def test_a_new_version_never_changes_the_results_recorded_against_the_old_one():
    dossier = DossierFactory(state="partially_validated")
    old = dossier.referentiel
    evaluation = dossier.evaluations.get()
    recorded = evaluation.outcome
    before = dossier_outcome(dossier).as_json()

    new = referentiel_new_version(source=old, version="2027")
    # Certif'Pro lowers 2.1's threshold (2 of 4 would now validate it) and makes the new version current.
    SubDomain.objects.filter(domain__referentiel=new, code="2.1").update(threshold_percent=50)
    Criterion.objects.filter(subdomain__domain__referentiel=new, code="1.1.1").update(title="Nouvel intitulé")
    referentiel_make_current(referentiel=new)

    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.referentiel == old
    assert dossier_outcome(dossier).as_json() == before
    assert not dossier_outcome(dossier).all_validated
    evaluation.refresh_from_db()
    assert evaluation.outcome == recorded
    assert set(evaluation.results.values_list("criterion__subdomain__domain__referentiel", flat=True)) == {old.pk}
    assert old.criteria().get(code="1.1.1").title == "Critère 1.1.1"
    assert not new.is_locked


def test_one_version_is_current_per_certification():
    old = small_referentiel()
    new = referentiel_new_version(source=old, version="2027")
    referentiel_make_current(referentiel=new)
    assert list(Referentiel.objects.current().filter(certification=old.certification)) == [new]
    assert Referentiel.objects.current_for(Certification.CLEA) == new


def test_an_empty_version_cannot_become_current():
    empty = Referentiel.objects.create(certification=Certification.CLEA, version="vide", title="Vide")
    with pytest.raises(ValidationError, match="aucun critère"):
        referentiel_make_current(referentiel=empty)
