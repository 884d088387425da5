"""The CléA validation rule, as a pure function of the référentiel and the set of acquired criteria.

A sub-domain is validated when its mandatory criteria are acquired and at least its threshold's share of its
criteria is; a domain when all its sub-domains are; the certificate needs every domain (Copanef/Certif'Pro).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from referentiels.models import Criterion, Domain


@dataclass(frozen=True)
class SubDomainOutcome:
    code: str
    title: str
    total: int
    required: int
    acquired: int
    missing_mandatory: tuple[str, ...]
    # Criteria not acquired, in order (what a training plan works on when the sub-domain is not validated).
    gaps: tuple[Criterion, ...] = field(repr=False)

    @property
    def validated(self) -> bool:
        return self.acquired >= self.required and not self.missing_mandatory


@dataclass(frozen=True)
class DomainOutcome:
    code: str
    title: str
    subdomains: tuple[SubDomainOutcome, ...]

    @property
    def validated(self) -> bool:
        return all(sub.validated for sub in self.subdomains)


@dataclass(frozen=True)
class Outcome:
    domains: tuple[DomainOutcome, ...]

    @property
    def all_validated(self) -> bool:
        return bool(self.domains) and all(domain.validated for domain in self.domains)

    @property
    def validated_domains(self) -> list[DomainOutcome]:
        return [d for d in self.domains if d.validated]

    @property
    def missing_domains(self) -> list[DomainOutcome]:
        return [d for d in self.domains if not d.validated]

    def gap_criteria(self) -> list[Criterion]:
        """Criteria still to acquire: those not acquired in the sub-domains not yet validated."""
        return [c for d in self.domains for s in d.subdomains if not s.validated for c in s.gaps]

    def as_json(self) -> dict[str, Any]:
        return {
            "all_validated": self.all_validated,
            "domains": [
                {
                    "code": d.code,
                    "title": d.title,
                    "validated": d.validated,
                    "subdomains": [
                        {
                            "code": s.code,
                            "title": s.title,
                            "validated": s.validated,
                            "acquired": s.acquired,
                            "required": s.required,
                            "total": s.total,
                            "missing_mandatory": list(s.missing_mandatory),
                        }
                        for s in d.subdomains
                    ],
                }
                for d in self.domains
            ],
        }


def compute_outcome(domains: Iterable[Domain], acquired_criterion_ids: set[int]) -> Outcome:
    """`domains` as returned by `Referentiel.domains_tree()` (prefetched: no query here)."""
    domain_outcomes = []
    for domain in domains:
        sub_outcomes = []
        for sub in domain.subdomains.all():
            criteria = list(sub.criteria.all())
            acquired = [c for c in criteria if c.pk in acquired_criterion_ids]
            sub_outcomes.append(
                SubDomainOutcome(
                    code=sub.code,
                    title=sub.title,
                    total=len(criteria),
                    required=sub.required_count(len(criteria)),
                    acquired=len(acquired),
                    missing_mandatory=tuple(
                        c.code for c in criteria if c.is_mandatory and c.pk not in acquired_criterion_ids
                    ),
                    gaps=tuple(c for c in criteria if c.pk not in acquired_criterion_ids),
                )
            )
        domain_outcomes.append(DomainOutcome(code=domain.code, title=domain.title, subdomains=tuple(sub_outcomes)))
    return Outcome(domains=tuple(domain_outcomes))
