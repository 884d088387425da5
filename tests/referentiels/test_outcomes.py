"""The CléA validation rule, on the small référentiel of tests/journey.py: 1.1 (2 criteria, 75 %),
1.2 (3 criteria, 66 %, 1.2.1 mandatory), 2.1 (4 criteria, 75 %)."""

import pytest

from referentiels.outcomes import compute_outcome
from tests.journey import criteria_by_code, small_referentiel

pytestmark = pytest.mark.django_db


@pytest.fixture
def referentiel():
    return small_referentiel()


def outcome_for(referentiel, codes):
    by_code = criteria_by_code(referentiel)
    return compute_outcome(referentiel.domains_tree(), {by_code[code].pk for code in codes})


def subdomain(outcome, code):
    return next(s for d in outcome.domains for s in d.subdomains if s.code == code)


def domain(outcome, code):
    return next(d for d in outcome.domains if d.code == code)


@pytest.mark.parametrize(
    ("code", "total", "required"),
    [("1.1", 2, 2), ("1.2", 3, 2), ("2.1", 4, 3)],
    ids=["75 % of 2 is 2", "66 % of 3 is 2", "75 % of 4 is 3"],
)
def test_the_threshold_is_rounded_up(referentiel, code, total, required):
    sub = subdomain(outcome_for(referentiel, set()), code)
    assert (sub.total, sub.required) == (total, required)


def test_a_subdomain_is_validated_from_its_threshold_on(referentiel):
    assert not subdomain(outcome_for(referentiel, {"2.1.1", "2.1.2"}), "2.1").validated
    assert subdomain(outcome_for(referentiel, {"2.1.1", "2.1.2", "2.1.4"}), "2.1").validated


def test_one_of_two_criteria_is_not_enough_at_75_percent(referentiel):
    assert not subdomain(outcome_for(referentiel, {"1.1.1"}), "1.1").validated
    assert subdomain(outcome_for(referentiel, {"1.1.1", "1.1.2"}), "1.1").validated


def test_a_missing_mandatory_criterion_blocks_its_subdomain_whatever_the_count(referentiel):
    without_mandatory = subdomain(outcome_for(referentiel, {"1.2.2", "1.2.3"}), "1.2")
    assert without_mandatory.acquired >= without_mandatory.required
    assert without_mandatory.missing_mandatory == ("1.2.1",)
    assert not without_mandatory.validated
    assert subdomain(outcome_for(referentiel, {"1.2.1", "1.2.3"}), "1.2").validated


def test_a_domain_is_validated_only_when_all_its_subdomains_are(referentiel):
    only_first = outcome_for(referentiel, {"1.1.1", "1.1.2"})
    assert subdomain(only_first, "1.1").validated
    assert not domain(only_first, "1").validated
    both = outcome_for(referentiel, {"1.1.1", "1.1.2", "1.2.1", "1.2.2"})
    assert domain(both, "1").validated
    assert [d.code for d in both.validated_domains] == ["1"]
    assert [d.code for d in both.missing_domains] == ["2"]


def test_all_validated_needs_every_domain(referentiel):
    almost = {"1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2"}
    assert not outcome_for(referentiel, almost).all_validated
    assert outcome_for(referentiel, almost | {"2.1.3"}).all_validated


def test_nothing_is_validated_without_any_domain():
    from referentiels.outcomes import Outcome

    assert not Outcome(domains=()).all_validated


def test_gap_criteria_come_only_from_subdomains_not_validated(referentiel):
    # 1.1 validated, 1.2 validated with 1.2.3 not acquired, 2.1 not validated with 2.1.3 and 2.1.4 missing.
    outcome = outcome_for(referentiel, {"1.1.1", "1.1.2", "1.2.1", "1.2.2", "2.1.1", "2.1.2"})
    assert [c.code for c in outcome.gap_criteria()] == ["2.1.3", "2.1.4"]


def test_the_outcome_recorded_in_json_keeps_counts_and_missing_mandatory_criteria(referentiel):
    recorded = outcome_for(referentiel, {"1.2.2", "1.2.3"}).as_json()
    sub = recorded["domains"][0]["subdomains"][1]
    assert sub == {
        "code": "1.2",
        "title": "Sous-domaine 1.2",
        "validated": False,
        "acquired": 2,
        "required": 2,
        "total": 3,
        "missing_mandatory": ["1.2.1"],
    }
    assert recorded["all_validated"] is False
