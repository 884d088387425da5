"""A national-scale data set for benchmarks: organisations, sites, people, and N dossiers over five years.

Rows are written directly (COPY on PostgreSQL, executemany elsewhere), not through the services, which would
take hours at this scale; they are shaped like the services' own: states reached by the same transitions,
one timeline event per transition, the outcome JSON of `compute_outcome`, deadline = prior evaluation + 5
years, references and certificate numbers in the services' formats. Deterministic for a given seed and day."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from typing import TextIO

if __name__ == "__main__":  # run as a script from the project's root: python bench/national_dataset.py ...
    import django

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clea_platform.settings")
    django.setup()

import datetime
import io
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction

from candidates.models import WINDOW_YEARS, Candidate, Dossier, DossierEvent, add_years, identity_key
from candidates.models import DossierState as S
from candidates.services import REFERENCE_PREFIX
from directory.models import Commune
from evaluations.models import CriterionResult, Evaluation
from funding.models import FeeEntry, FeeKind, Funder, FundingLine, FundingStep, LineState, Tariff
from funding.money import incl_vat
from juries.models import (
    VERIFICATION_ALPHABET,
    Certificate,
    Decision,
    DecisionKind,
    JuryMember,
    JurySession,
    SessionSeat,
    Submission,
)
from juries.services import CERTIFICATE_PREFIX
from organisations.models import Habilitation, Membership, Organisation, OrganisationKind, Role, Site, User
from referentiels.models import Criterion, Referentiel
from referentiels.outcomes import compute_outcome
from referrals.models import Referral, ReferralEvent, ReferralState
from training.models import TrainingPlan

UTC = datetime.UTC
# Which funders pay most often (CPF and France Travail first), and the price of an evaluation (cents, excl. VAT).
FUNDER_WEIGHTS = {"cpf": 6, "france_travail": 5, "opco": 4, "region": 2}
EVALUATION_CENTS = {"prior_evaluation": 45_000, "final_evaluation": 25_000}
# The three certifications' shares of the dossiers. An assumption, no published figure: CléA is by far the most
# delivered; CléA numérique (since 2018) a fifth of it; CléA management (2022), the youngest, a few percent.
CERTIFICATION_WEIGHTS = {"clea": 75, "clea_numerique": 18, "clea_management": 7}
# Which evaluator organisations also hold the other two habilitations: by their rank, without drawing (the first
# holds all three, so that even a handful of organisations covers each certification).
HABILITATED_EVERY = {"clea": 1, "clea_numerique": 3, "clea_management": 5}
# The jury's decisions on a submitted dossier, as a Transitions Pro's minutes show them (deferrals ~7 %).
DECISION_WEIGHTS = {"awarded": 0.88, "deferred": 0.07, "refused": 0.01, "absent": 0.04}
DEFERRAL_REASONS = (
    "Les mises en situation présentées ne démontrent pas la maîtrise du domaine.",
    "Preuves insuffisantes : le jury demande une nouvelle évaluation après formation.",
)
DECLINE_REASONS = ("Aucun créneau d'évaluation avant trois mois.", "La personne a choisi un autre organisme.")
# A user that cannot log in with a password (Django's unusable-password prefix, fixed for determinism).
UNUSABLE_PASSWORD = "!national-dataset"  # noqa: S105 - "!" makes it unusable
FIRST_NAMES = (
    "Camille Léa Manon Chloé Inès Sarah Emma Jade Louise Lina Nadia Fatima Aïcha Sophie Nathalie Isabelle "
    "Thomas Lucas Hugo Nathan Karim Mohamed Julien Nicolas Mehdi Antoine Paul Louis Yanis Éric Stéphane Olivier"
).split()
LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel Garcia "
    "David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont Lambert Bonnet François "
    "Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu "
    "Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Benali Nguyen Diallo Traoré Haddad Da Silva"
).split()


@dataclass
class Options:
    dossiers: int
    seed: int = 1
    today: datetime.date = datetime.date(2026, 11, 23)
    organisations: int = 300
    sites_per_organisation: int = 10
    training_organisations: int = 20
    years: int = 5
    progress: Callable[[str], None] = print


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)


def _dated(values: tuple[Any, ...], positions: list[int], at: Any) -> tuple[Any, ...]:
    if not positions:
        return values
    at = at or datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return tuple(at if i in positions else value for i, value in enumerate(values))


class Writer:
    """Bulk insertion of plain tuples: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def write(self, model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        fields = [model._meta.get_field(name) for name in names]
        # The other NOT NULL columns take their model default (the database has none of Django's defaults).
        extra = [
            f
            for f in model._meta.concrete_fields
            if f not in fields and not f.primary_key and not f.null and (f.has_default() or f.blank)
        ]
        extra_values = tuple(f.get_default() for f in extra)
        # An auto_now column left out (the updated_at of the API's feed) takes the row's first date and time given
        # (its creation, decision, sending...), as the migration that added it did: the same seed, the same rows.
        dated = [i for i, f in enumerate(extra) if getattr(f, "auto_now", False)]
        source = next((i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)), None)
        fields += extra
        rows = (tuple(row) + _dated(extra_values, dated, row[source] if source is not None else None) for row in rows)
        columns = [f.column for f in fields]  # type: ignore[union-attr]
        table = model._meta.db_table
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 20_000:
                self._flush(table, columns, fields, batch)
                batch = []
        if batch:
            self._flush(table, columns, fields, batch)

    def _flush(self, table: str, columns: list[str], fields: list[Any], batch: list[Sequence[Any]]) -> None:
        self.counts[table] = self.counts.get(table, 0) + len(batch)
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                buffer = io.StringIO("".join(",".join(map(_copy_value, row)) + "\n" for row in batch))
                cursor.cursor.copy_expert(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                prepared = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in batch
                ]
                # Table and column names come from the models, never from input.
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", prepared)  # noqa: S608


def _copy_quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _copy_isoformat(value: datetime.date) -> str:
    return '"' + value.isoformat() + '"'


# The common exact types first, without the chain of isinstance checks (millions of fields): the same text.
_COPY_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _copy_quoted,
    int: str,
    bool: str,
    Decimal: str,
    type(None): lambda _value: "\\N",
    datetime.datetime: _copy_isoformat,
    datetime.date: _copy_isoformat,
}


def _copy_value(value: Any) -> str:
    """One CSV field for COPY: NULL as an unquoted \\N, everything else quoted."""
    by_type = _COPY_BY_TYPE.get(type(value))
    if by_type is not None:
        return by_type(value)
    if value is None:
        return "\\N"
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    return '"' + str(value).replace('"', '""') + '"'


def _luhn_siret(body: str) -> str:
    for check in "0123456789":
        digits = [int(c) for c in body + check]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return body + check
    raise AssertionError


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC)


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# The rows built so far are written (and forgotten) once this many criterion results wait: about 5,700 dossiers.
FLUSH_EVERY_RESULTS = 500_000
# The tables `generate` fills. On PostgreSQL their foreign keys, unique constraints and secondary indexes are
# dropped for the COPY and rebuilt after it, under the same names and definitions (see `_bulk_load_begin`).
FILLED_MODELS: list[type[models.Model]] = [
    Organisation,
    Site,
    Habilitation,
    User,
    Membership,
    JuryMember,
    JurySession,
    SessionSeat,
    Candidate,
    Dossier,
    DossierEvent,
    Evaluation,
    CriterionResult,
    TrainingPlan,
    Submission,
    Decision,
    Certificate,
    FundingLine,
    FeeEntry,
    Referral,
    ReferralEvent,
]


def _bulk_load_begin(tables: list[str]) -> list[str]:
    """Drop the foreign keys, unique constraints and secondary indexes of `tables` (primary keys and checks stay);
    return the statements that rebuild them, indexes and unique constraints first, foreign keys last.

    Django's foreign keys are deferred: kept, each COPied row queues a trigger that looks its key up at COMMIT,
    tens of millions of lookups at national scale (16 minutes at 200,000 dossiers). Added again after the load,
    each key is checked in one join over its table, and each index built in one sort instead of row by row: a bulk
    load's usual way. Same names, same definitions (`pg_get_constraintdef`, `pg_get_indexdef`)."""
    restore: list[str] = []
    drop: list[str] = []
    with connection.cursor() as cursor:
        # The checks pending from the référentiels and tariffs loaded before now: ALTER TABLE refuses a table with
        # pending trigger events, and a caller's transaction (a test's) may hold some.
        cursor.execute("set constraints all immediate")
        cursor.execute(
            """
            select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint
            where contype = 'f' and conrelid = any(%s::regclass[]) order by 1, 2
            """,
            [tables],
        )
        keys = cursor.fetchall()
        # Unique constraints no foreign key points at (a key depends on the index it references).
        cursor.execute(
            """
            select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint c
            where contype = 'u' and conrelid = any(%s::regclass[])
                and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = c.conindid
                                and f.conrelid <> all(%s::regclass[]))
            order by 1, 2
            """,
            [tables, tables],
        )
        uniques = cursor.fetchall()
        # Indexes that back no constraint (those of ForeignKey, db_index, Meta.indexes, conditional uniques).
        cursor.execute(
            """
            select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i
            where i.indrelid = any(%s::regclass[])
                and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid
                                and k.contype in ('p', 'u', 'x'))
            order by 1
            """,
            [tables],
        )
        indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    for table, name, _definition in keys:
        drop.append(f"alter table {table} drop constraint {quote(name)}")
    for table, name, definition in uniques:
        drop.append(f"alter table {table} drop constraint {quote(name)}")
        restore.append(f"alter table {table} add constraint {quote(name)} {definition}")
    for name, definition in indexes:
        drop.append(f"drop index {name}")
        restore.append(definition)
    # Statistics before the keys: a table analysed empty (or never) makes the planner check a key by nested loop.
    restore.append(f"analyze {', '.join(tables)}")
    restore += [f"alter table {table} add constraint {quote(name)} {definition}" for table, name, definition in keys]
    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)
    return restore


def _bulk_load_end(restore: list[str]) -> None:
    with connection.cursor() as cursor:
        # Index builds sort in memory up to this (the server's default is 64 MB); for this transaction only.
        cursor.execute("set local maintenance_work_mem = '512MB'")
        # And each key's check joins in memory rather than in batches on disk (the server's default is 4 MB).
        cursor.execute("set local work_mem = '256MB'")
        for statement in restore:
            cursor.execute(statement)
        cursor.execute("set constraints all deferred")


class _Journey:
    """One dossier's state as the generator moves it, each transition written to the timeline."""

    def __init__(self, dossier_id: int, at: datetime.datetime, event: Callable[..., None]) -> None:
        self.dossier_id, self.state, self.updated, self.event = dossier_id, S.INFORMATION, at, event

    def move(self, day: datetime.date, name: str, dst: str, actor: int | None, note: str = "") -> None:
        self.event(self.dossier_id, _at(day, 11), actor, name, self.state, dst, note)
        self.state, self.updated = dst, _at(day, 11)


@transaction.atomic
def generate(options: Options) -> Report:
    rng = random.Random(options.seed)
    say = options.progress
    today = options.today
    writer = Writer()

    say("Référentiels…")
    call_command("load_referentiels", verbosity=0, stdout=io.StringIO())
    # Per certification: its current référentiel, its criteria by domain, and a few dozen gap profiles (the
    # domains missed and, in each, the criteria missed) with the outcome JSON `compute_outcome` gives them.
    certs: dict[str, dict[str, Any]] = {}
    for certification in CERTIFICATION_WEIGHTS:
        referentiel = Referentiel.objects.get(certification=certification, is_current=True)
        tree = referentiel.domains_tree()
        domain_of = {
            c.id: c.subdomain.domain.code
            for c in Criterion.objects.select_related("subdomain__domain")
            .filter(subdomain__domain__referentiel=referentiel)
            .order_by("id")
        }
        criterion_ids = list(domain_of)
        domain_codes = sorted(set(domain_of.values()))
        profiles = []
        for _ in range(40):
            missed_domains = rng.sample(domain_codes, min(len(domain_codes) - 1, rng.choice([1, 1, 2, 2, 3, 4])))
            missed = {cid for cid in criterion_ids if domain_of[cid] in missed_domains and rng.random() < 0.6}
            if not missed:
                missed = {next(cid for cid in criterion_ids if domain_of[cid] == missed_domains[0])}
            outcome = compute_outcome(tree, set(criterion_ids) - missed)
            if outcome.all_validated:
                continue
            profiles.append((missed, outcome.as_json()))
        certs[certification] = {
            "referentiel": referentiel.id,
            "criteria": criterion_ids,
            "domain_of": domain_of,
            "domains": domain_codes,
            "all_validated": compute_outcome(tree, set(criterion_ids)).as_json(),
            "profiles": profiles,
        }

    call_command("load_tariffs", verbosity=0, stdout=io.StringIO())
    restore = _bulk_load_begin([m._meta.db_table for m in FILLED_MODELS]) if connection.vendor == "postgresql" else []
    funders = list(Funder.objects.filter(is_active=True).order_by("position", "id"))
    tariffs = list(Tariff.objects.order_by("-valid_from", "id"))
    funder_weights = [FUNDER_WEIGHTS.get(f.kind, 1) for f in funders]

    say("Organisations et sites…")
    communes = list(Commune.objects.order_by("-population", "insee_code")[:6000])
    if not communes:
        raise ValueError("Aucune commune : lancez d'abord « manage.py load_communes ».")
    weights = [max(c.population, 1) for c in communes]
    by_region: dict[str, list[Commune]] = {}
    for c in communes:
        by_region.setdefault(c.region, []).append(c)
    org_id, site_id, user_id, member_id = (_next_id(m) for m in (Organisation, Site, User, Membership))
    now = _at(today)
    siret_base = rng.randrange(10**8, 9 * 10**8) * 10
    org_rows, site_rows, user_rows, membership_rows, habilitation_rows = [], [], [], [], []
    evaluator_orgs: list[dict[str, Any]] = []

    def add_user(first: str, last: str, email: str) -> int:
        nonlocal user_id
        user_rows.append((user_id, email, first, last, UNUSABLE_PASSWORD, False, True, False, now))
        user_id += 1
        return user_id - 1

    def add_org(name: str, kind: str, region: str) -> int:
        nonlocal org_id
        siret = _luhn_siret(f"{siret_base + org_id:013d}")
        org_rows.append((org_id, name, kind, siret, region, f"contact{org_id}@national.clea.test", "", True, now))
        org_id += 1
        return org_id - 1

    def add_member(user: int, org: int, role: str) -> None:
        nonlocal member_id
        membership_rows.append((member_id, user, org, role, True, now))
        member_id += 1

    for n in range(options.organisations):
        home = rng.choices(communes, weights)[0]
        region = home.region if len(home.region) == 2 else "11"
        oid = add_org(f"Évaluateur CléA {home.name} {n + 1}", OrganisationKind.EVALUATOR, region)
        local = by_region.get(home.region, communes)
        sites = [home] + rng.choices(local, [max(c.population, 1) for c in local], k=options.sites_per_organisation - 1)
        for s, c in enumerate(sites):
            site_rows.append(
                (
                    site_id,
                    oid,
                    f"Site {c.name} {s + 1}",
                    f"{rng.randint(1, 120)} rue de la République",
                    (c.postcodes.split() or ["75001"])[0],
                    c.name,
                    c.insee_code,
                    Decimal(f"{c.latitude:.5f}"),
                    Decimal(f"{c.longitude:.5f}"),
                    rng.random() < 0.6,
                    "",
                    rng.random() < 0.3,
                    "",
                    "",
                    "",
                    True,
                    None,
                    rng.choice([7, 14, 21, 30]),
                    None,
                )
            )
            site_id += 1
        held = [c for c, every in HABILITATED_EVERY.items() if n % every == 0]
        for certification in held:
            habilitation_rows.append((oid, certification, add_years(today, -6), add_years(today, 2), "active", ""))
        staff: dict[str, list[int]] = {}
        for role, count in ((Role.COUNSELLOR, 3), (Role.EVALUATOR, 3), (Role.ORG_ADMIN, 1)):
            for k in range(count):
                uid = add_user(
                    rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), f"{role}{k + 1}.org{oid}@national.clea.test"
                )
                add_member(uid, oid, role)
                staff.setdefault(role, []).append(uid)
        evaluator_orgs.append(
            {
                "id": oid,
                "region": region,
                "weight": home.population,
                "held": held,
                "sites": list(range(site_id - len(sites), site_id)),
                **staff,
            }
        )

    trainers: list[tuple[int, int]] = []
    for n in range(options.training_organisations):
        oid = add_org(
            f"Organisme de formation {n + 1}", OrganisationKind.TRAINING, rng.choice(evaluator_orgs)["region"]
        )
        for k in range(4):
            uid = add_user(
                rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), f"trainer{k + 1}.org{oid}@national.clea.test"
            )
            add_member(uid, oid, Role.TRAINER)
            trainers.append((oid, uid))
    jury_bodies: dict[str, dict[str, Any]] = {}
    for region in sorted({o["region"] for o in evaluator_orgs}):
        oid = add_org(f"Transitions Pro {region}", OrganisationKind.JURY_BODY, region)
        admin = add_user("Admin", f"Jurys {region}", f"admin.jury{oid}@national.clea.test")
        add_member(admin, oid, Role.ORG_ADMIN)
        jurors = []
        for k in range(6):
            uid = add_user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), f"juror{k + 1}.org{oid}@national.clea.test")
            add_member(uid, oid, Role.JURY_MEMBER)
            jurors.append(uid)
        jury_bodies[region] = {"id": oid, "admin": admin, "jurors": jurors}
    # One France Travail agency per region, its advisors referring job seekers to the evaluators' sites.
    agencies: dict[str, dict[str, Any]] = {}
    for region in sorted({o["region"] for o in evaluator_orgs}):
        oid = add_org(f"France Travail {region}", OrganisationKind.FRANCE_TRAVAIL, region)
        advisors = []
        for k in range(3):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            uid = add_user(first, last, f"advisor{k + 1}.org{oid}@national.clea.test")
            add_member(uid, oid, Role.FT_ADVISOR)
            advisors.append((uid, f"{first} {last}"))
        agencies[region] = {"id": oid, "name": f"France Travail {region}", "advisors": advisors}

    writer.write(
        Organisation, ["id", "name", "kind", "siret", "region", "email", "phone", "is_active", "created_at"], org_rows
    )
    writer.write(
        Site,
        [
            "id",
            "organisation",
            "name",
            "address",
            "postcode",
            "city",
            "insee_code",
            "latitude",
            "longitude",
            "wheelchair_accessible",
            "accessibility_notes",
            "remote_evaluation",
            "contact_name",
            "contact_email",
            "contact_phone",
            "is_active",
            "next_slot_on",
            "typical_wait_days",
            "availability_updated_at",
        ],
        site_rows,
    )
    writer.write(
        Habilitation,
        ["organisation", "certification", "valid_from", "valid_until", "status", "status_reason"],
        habilitation_rows,
    )
    writer.write(
        User,
        ["id", "email", "first_name", "last_name", "password", "is_staff", "is_active", "is_superuser", "date_joined"],
        user_rows,
    )
    writer.write(Membership, ["id", "user", "organisation", "role", "is_active", "created_at"], membership_rows)

    say("Jurys…")
    jury_member_id, session_id = _next_id(JuryMember), _next_id(JurySession)
    jm_rows, session_rows, seat_rows = [], [], []
    # Sessions per (region, certification): CléA every month, the other two once a quarter.
    sessions_by_region: dict[tuple[str, str], list[tuple[int, datetime.datetime]]] = {}
    first_month = add_years(today, -options.years - 1).replace(day=1)
    for region, body in jury_bodies.items():
        body["members"] = []
        for k, uid in enumerate(body["jurors"]):
            jm_rows.append(
                (
                    jury_member_id,
                    body["id"],
                    uid,
                    "employers" if k % 2 else "employees",
                    rng.choice(["MEDEF", "CPME", "CFDT", "CGT", "FO"]),
                    True,
                )
            )
            body["members"].append(jury_member_id)
            jury_member_id += 1
        month = first_month
        while month <= add_years(today, 1):
            for certification in CERTIFICATION_WEIGHTS:
                if certification != "clea" and month.month % 3:
                    continue
                when = _at(month.replace(day=12 if certification == "clea" else 19), 14)
                sessions_by_region.setdefault((region, certification), []).append((session_id, when))
                body.setdefault("sessions", []).append(session_id)
                for k, member in enumerate(body["members"][:4]):
                    # The attendance is recorded when a session deliberates: those still ahead have none yet.
                    seat_rows.append((session_id, member, "present" if when.date() <= today else "", k == 0))
                session_id += 1
            month = (month + datetime.timedelta(days=32)).replace(day=1)
    writer.write(JuryMember, ["id", "organisation", "user", "college", "represents", "is_active"], jm_rows)

    say(f"Dossiers ({options.dossiers})…")
    ids = {
        m: _next_id(m)
        for m in (Candidate, Dossier, Evaluation, TrainingPlan, Submission, Decision, Certificate, Referral)
    }
    candidates, dossiers, events, evaluations, results, plans = [], [], [], [], [], []
    submissions, decisions, certificates, lines, fees = [], [], [], [], []
    referrals: list[tuple[Any, ...]] = []
    referral_events: list[tuple[Any, ...]] = []
    decision_kinds, decision_weights = list(DECISION_WEIGHTS), list(DECISION_WEIGHTS.values())
    decision_labels = {kind: str(DecisionKind(kind).label) for kind in decision_kinds}
    session_use: dict[int, int] = {}
    codes: set[str] = set()
    span = options.years * 365 + 120

    def event(
        did: int, at: datetime.datetime, actor: int | None, name: str, src: str, dst: str, note: str = ""
    ) -> None:
        events.append((did, at, actor, name, src, dst, note))

    def funding_line(
        did: int, oid: int, step: str, asked: datetime.date, done: datetime.date | None, hours: int, by: int
    ) -> None:
        """One funder per step, asked for before it; its state follows the time since the step happened."""
        funder = rng.choices(funders, funder_weights)[0]
        cents = hours * 1_800 if step == FundingStep.TRAINING else EVALUATION_CENTS[step]
        vat = Decimal("0") if step == FundingStep.TRAINING else Decimal("20")
        age = (today - done).days if done else -1
        refused = rng.random() < 0.03
        state = (
            LineState.REFUSED
            if refused
            else LineState.REQUESTED
            if age < 0 and (today - asked).days < 15
            else LineState.GRANTED
            if age < 30
            else LineState.INVOICED
            if age < 120
            else LineState.PAID
        )
        granted = state in (LineState.GRANTED, LineState.INVOICED, LineState.PAID)
        invoiced = state in (LineState.INVOICED, LineState.PAID)
        granted_on = asked + datetime.timedelta(days=rng.randint(3, 14)) if granted else None
        invoiced_on = done + datetime.timedelta(days=rng.randint(1, 20)) if invoiced and done else None
        paid_on = invoiced_on + datetime.timedelta(days=rng.randint(20, 60)) if state == LineState.PAID else None
        total = incl_vat(cents, vat)
        lines.append(
            (
                oid,
                did,
                step,
                funder.id,
                Decimal(hours),
                vat,
                cents,
                total,
                cents if granted else None,
                total if granted else None,
                cents if invoiced else None,
                total if invoiced else None,
                total if paid_on else None,
                f"{funder.code.upper()}-{did:07d}-{step[:2].upper()}",
                done,
                granted_on,
                invoiced_on,
                paid_on,
                state,
                by,
                _at(asked, 11),
                _at(paid_on or invoiced_on or granted_on or asked, 11),
            )
        )

    def fee(kind: str, certification: str, source: str, oid: int, on: datetime.date, links: dict[str, int]) -> None:
        """The Certif'Pro fee of an event, at the tariff in force that day, as `fee_entry_record` records it (none
        when the certification has no tariff of that kind: CléA management has none yet)."""
        tariff = next(
            (
                t
                for t in tariffs
                if t.kind == kind
                and t.certification == certification
                and t.valid_from <= on
                and (t.valid_until is None or on <= t.valid_until)
            ),
            None,
        )
        if tariff is not None:
            fees.append(
                (
                    oid,
                    kind,
                    certification,
                    source,
                    tariff.id,
                    tariff.amount_cents,
                    tariff.vat_rate,
                    incl_vat(tariff.amount_cents, tariff.vat_rate),
                    on,
                    links["dossier"],
                    links.get("evaluation"),
                    links.get("certificate"),
                    _at(on, 18),
                )
            )

    def evaluation(
        did: int,
        oid: int,
        kind: str,
        evaluator: int,
        day: datetime.date,
        ended: datetime.date | None,
        outcome: dict,
        scope: Iterable[int],
        missed: set[int],
    ) -> None:
        eid, closed = ids[Evaluation], ended is not None
        ids[Evaluation] += 1
        evaluations.append(
            (
                eid,
                oid,
                did,
                kind,
                evaluator,
                day,
                ended,
                Decimal("3.5"),
                "on_site",
                "",
                "closed" if closed else "draft",
                _at(ended, 17) if ended else None,
                outcome if closed else {},
                _at(day, 9),
            )
        )
        # One row per criterion in scope from the start (evaluation_start), filled in at closing.
        for cid in scope:
            value = ("not_acquired" if cid in missed else "acquired") if closed else "not_assessed"
            results.append((eid, cid, value, ""))
        step = FundingStep.PRIOR_EVALUATION if kind == "prior" else FundingStep.FINAL_EVALUATION
        funding_line(did, oid, step, day - datetime.timedelta(days=rng.randint(5, 20)), ended, 4, counsellor)
        if closed and kind == "prior":
            fee(FeeKind.PRIOR_EVALUATION, cert, f"evaluation:{eid}", oid, ended, {"dossier": did, "evaluation": eid})

    event_names = ["dossier", "at", "actor", "transition", "from_state", "to_state", "note"]
    result_names = ["evaluation", "criterion", "result", "comment"]
    cert_names, cert_weights = list(CERTIFICATION_WEIGHTS), list(CERTIFICATION_WEIGHTS.values())
    orgs_for = {c: [o for o in evaluator_orgs if c in o["held"]] for c in cert_names}
    weights_for = {c: [o["weight"] + 5000 for o in orgs_for[c]] for c in cert_names}
    referral_names = [
        "id",
        "organisation",
        "site",
        "from_organisation",
        "advisor",
        "certification",
        "civility",
        "first_name",
        "last_name",
        "birth_date",
        "birth_place",
        "email",
        "phone",
        "postcode",
        "city",
        "education_level",
        "note",
        "consent_at",
        "consent_text",
        "state",
        "sent_at",
        "updated_at",
        "answered_at",
        "answered_by",
        "decline_reason",
        "dossier",
    ]

    def _reached(day: datetime.date) -> bool:
        return day <= today

    def train_and_evaluate(
        journey: _Journey,
        did: int,
        oid: int,
        counsellor: int,
        evaluator: int,
        spec: dict[str, Any],
        deadline: datetime.date | None,
        after: datetime.date,
        scope: list[int],
    ) -> datetime.date | None:
        """A training cycle on `scope` (the criteria still missing), then the final evaluation acquiring
        them: the day the dossier is ready for the jury, or None if it is not (yet) there."""
        nonlocal cycle
        move = journey.move
        start = after + datetime.timedelta(days=rng.randint(14, 45))
        if not _reached(start) or (deadline is not None and start > deadline):
            return None
        tr_org, trainer = rng.choice(trainers)
        hours = rng.choice([40, 60, 80, 120])
        ends = start + datetime.timedelta(days=rng.randint(60, 200))
        done = _reached(ends)
        cycle += 1
        plans.append(
            (
                ids[TrainingPlan],
                tr_org,
                did,
                cycle,
                trainer,
                "Acquérir les critères non acquis à l'évaluation préalable."
                if cycle == 1
                else "Acquérir à nouveau les domaines désignés par le jury.",
                Decimal(hours),
                start,
                ends,
                _at(ends, 16) if done else None,
                counsellor,
                _at(start, 9),
            )
        )
        ids[TrainingPlan] += 1
        funding_line(
            did,
            oid,
            FundingStep.TRAINING,
            start - datetime.timedelta(days=rng.randint(10, 30)),
            ends if done else None,
            hours,
            counsellor,
        )
        move(start, "start_training", S.IN_TRAINING, counsellor)
        final = ends + datetime.timedelta(days=rng.randint(7, 30))
        if not (done and _reached(final)):
            return None
        move(final, "start_final_evaluation", S.FINAL_EVALUATION, evaluator)
        fend = final + datetime.timedelta(days=rng.randint(0, 2))
        fclosed = _reached(fend)
        evaluation(did, oid, "final", evaluator, final, fend if fclosed else None, spec["all_validated"], scope, set())
        if not fclosed:
            return None
        move(fend, "close_final_evaluation", S.READY_FOR_JURY, evaluator)
        return fend

    def flush_dossiers() -> None:
        """Write the rows of the dossiers built so far and forget them: the memory stays that of one batch, and
        each table's rows go out in the order they were drawn (the same ids as writing them all at the end)."""
        writer.write(
            Candidate,
            [
                "id",
                "organisation",
                "civility",
                "first_name",
                "last_name",
                "birth_name",
                "birth_date",
                "birth_place",
                "born_abroad",
                "email",
                "phone",
                "address",
                "postcode",
                "city",
                "registration_status",
                "education_level",
                "origin",
                "identity_key",
                "created_at",
            ],
            candidates,
        )
        writer.write(
            Dossier,
            [
                "id",
                "organisation",
                "candidate",
                "certification",
                "referentiel",
                "reference",
                "state",
                "counsellor",
                "consent_at",
                "consent_text",
                "window_starts_on",
                "deadline",
                "deadline_warning_sent_at",
                "withdrawal_reason",
                "created_at",
                "updated_at",
            ],
            dossiers,
        )
        writer.write(DossierEvent, event_names, events)
        writer.write(
            Evaluation,
            [
                "id",
                "organisation",
                "dossier",
                "kind",
                "evaluator",
                "started_on",
                "ended_on",
                "duration_hours",
                "modality",
                "context",
                "status",
                "closed_at",
                "outcome",
                "created_at",
            ],
            evaluations,
        )
        writer.write(CriterionResult, result_names, results)
        writer.write(
            TrainingPlan,
            [
                "id",
                "organisation",
                "dossier",
                "cycle",
                "trainer",
                "objectives",
                "planned_hours",
                "starts_on",
                "ends_on",
                "completed_at",
                "created_by",
                "created_at",
            ],
            plans,
        )
        writer.write(Submission, ["id", "session", "dossier", "submitted_by", "submitted_at"], submissions)
        writer.write(
            Decision, ["id", "submission", "kind", "reason", "missing_domains", "decided_by", "decided_at"], decisions
        )
        writer.write(
            Certificate,
            [
                "id",
                "organisation",
                "dossier",
                "decision",
                "session",
                "number",
                "verification_code",
                "holder_name",
                "certification",
                "awarded_on",
                "file",
                "sha256",
            ],
            certificates,
        )
        writer.write(Referral, referral_names, referrals)
        writer.write(ReferralEvent, event_names[1:] + ["referral"], (row[1:] + row[:1] for row in referral_events))
        writer.write(
            FundingLine,
            [
                "organisation",
                "dossier",
                "step",
                "funder",
                "hours",
                "vat_rate",
                "requested_cents",
                "requested_incl_vat_cents",
                "granted_cents",
                "granted_incl_vat_cents",
                "invoiced_cents",
                "invoiced_incl_vat_cents",
                "paid_cents",
                "funder_reference",
                "service_date",
                "granted_on",
                "invoiced_on",
                "paid_on",
                "state",
                "created_by",
                "created_at",
                "updated_at",
            ],
            lines,
        )
        writer.write(
            FeeEntry,
            [
                "organisation",
                "kind",
                "certification",
                "source",
                "tariff",
                "amount_cents",
                "vat_rate",
                "incl_vat_cents",
                "occurred_on",
                "dossier",
                "evaluation",
                "certificate",
                "created_at",
            ],
            fees,
        )
        for rows in (candidates, dossiers, events, evaluations, results, plans, submissions, decisions):
            rows.clear()
        for rows in (certificates, referrals, referral_events, lines, fees):
            rows.clear()

    consent_text = "La personne accepte que ses coordonnées soient transmises à l'organisme évaluateur."
    cycle = 0
    for number in range(options.dossiers):
        if len(results) >= FLUSH_EVERY_RESULTS:
            # The rows go out as they grow (foreign keys are checked after the load, see `_bulk_load_begin`).
            say(f"  {number} dossiers…")
            flush_dossiers()
        cert = rng.choices(cert_names, cert_weights)[0]
        spec = certs[cert]
        org = rng.choices(orgs_for[cert], weights_for[cert])[0]
        oid = org["id"]
        counsellor, evaluator = rng.choice(org[Role.COUNSELLOR]), rng.choice(org[Role.EVALUATOR])
        created = today - datetime.timedelta(days=rng.randrange(span))
        cid, did = ids[Candidate], ids[Dossier]
        ids[Candidate] += 1
        ids[Dossier] += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        civility = rng.choice(["mme", "m"])
        birth = datetime.date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28))
        status = rng.choice(["employee", "job_seeker", "job_seeker"])
        education = rng.choice(["none", "3", "4"])
        origin = rng.choice(["france_travail", "employer", "opco", "own_initiative"])
        candidates.append(
            (
                cid,
                oid,
                civility,
                first,
                last,
                "",
                birth,
                "Paris",
                False,
                "",
                "",
                "",
                "",
                "",
                status,
                education,
                origin,
                identity_key(first, last),
                _at(created, 9),
            )
        )
        reference = f"{REFERENCE_PREFIX[cert]}-{created:%Y}-{did:06d}"
        window, deadline, withdrawal, consent = None, None, "", None
        event(did, _at(created, 9), counsellor, "", "", S.INFORMATION, "Entretien d'information et de conseil")
        region = org["region"]
        agency = agencies[region]
        if origin == "france_travail" and status == "job_seeker" and rng.random() < 0.8:
            # Most job seekers sent by France Travail came through a referral, accepted by the counsellor who
            # opened the dossier (referral_accept: the dossier, its timeline note, the referral's two events).
            advisor, advisor_name = rng.choice(agency["advisors"])
            sent = _at(created - datetime.timedelta(days=rng.randint(2, 20)), 10)
            rid = ids[Referral]
            ids[Referral] += 1
            referrals.append(
                (
                    rid,
                    oid,
                    rng.choice(org["sites"]),
                    agency["id"],
                    advisor,
                    cert,
                    civility,
                    first,
                    last,
                    birth,
                    "",
                    "",
                    "",
                    "",
                    "",
                    education,
                    "",
                    sent,
                    consent_text,
                    ReferralState.ACCEPTED,
                    sent,
                    _at(created, 9),
                    _at(created, 9),
                    counsellor,
                    "",
                    did,
                )
            )
            referral_events.append((rid, sent, advisor, "", "", ReferralState.SENT, ""))
            referral_events.append(
                (rid, _at(created, 9), counsellor, "accept", ReferralState.SENT, ReferralState.ACCEPTED, "")
            )
            note = f"Orienté par France Travail ({agency['name']}, {advisor_name}) le {sent:%d/%m/%Y}"
            event(did, _at(created, 9), counsellor, "", "", "", note)
        if rng.random() < 0.05:
            # A referral that opened no dossier: declined, expired after 30 days, or still awaiting an answer.
            advisor, _name = rng.choice(agency["advisors"])
            sent_day = today - datetime.timedelta(days=rng.randrange(span))
            sent = _at(sent_day, 10)
            answered_day = sent_day + datetime.timedelta(days=rng.randint(1, 20))
            expiry_day = sent_day + datetime.timedelta(days=30)
            declined = rng.random() < 0.6
            rid = ids[Referral]
            ids[Referral] += 1
            referral_events.append((rid, sent, advisor, "", "", ReferralState.SENT, ""))
            state, answered_at, answered_by, reason = ReferralState.SENT, None, None, ""
            if declined and answered_day <= today:
                state, answered_at, answered_by = ReferralState.DECLINED, _at(answered_day, 15), counsellor
                reason = rng.choice(DECLINE_REASONS)
                referral_events.append((rid, answered_at, counsellor, "decline", ReferralState.SENT, state, reason))
            elif not declined and expiry_day < today:
                state, answered_at = ReferralState.EXPIRED, _at(expiry_day + datetime.timedelta(days=1), 3)
                referral_events.append(
                    (rid, answered_at, None, "expire", ReferralState.SENT, state, "Sans réponse dans le délai")
                )
            referrals.append(
                (
                    rid,
                    oid,
                    rng.choice(org["sites"]),
                    agency["id"],
                    advisor,
                    cert,
                    rng.choice(["mme", "m"]),
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    datetime.date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28)),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    sent,
                    consent_text,
                    state,
                    sent,
                    answered_at or sent,
                    answered_at,
                    answered_by,
                    reason,
                    None,
                )
            )
        journey = _Journey(did, _at(created, 9), event)
        move = journey.move

        def step(day: datetime.date) -> bool:
            return day <= today

        cycle = 0
        day = created + datetime.timedelta(days=rng.randint(0, 7))
        if step(day) and rng.random() > 0.02:
            consent = _at(day, 10)
            move(day, "open", S.OPENED, counsellor)
            day += datetime.timedelta(days=rng.randint(7, 30))
            if step(day):
                move(day, "start_prior_evaluation", S.PRIOR_EVALUATION, evaluator)
                end = day + datetime.timedelta(days=rng.randint(0, 3))
                closed = step(end)
                validated = rng.random() < 0.25
                missed, outcome = (set(), spec["all_validated"]) if validated else rng.choice(spec["profiles"])
                evaluation(
                    did, oid, "prior", evaluator, day, end if closed else None, outcome, spec["criteria"], missed
                )
                if closed:
                    window, deadline = end, add_years(end, WINDOW_YEARS)
                    move(
                        end,
                        "close_prior_evaluation",
                        S.READY_FOR_JURY if validated else S.PARTIALLY_VALIDATED,
                        evaluator,
                    )
                    day = end
                    if not validated:
                        fate = rng.random()
                        if fate < 0.10:
                            day += datetime.timedelta(days=rng.randint(30, 300))
                            if step(day):
                                withdrawal = "Reprise d'emploi"
                                move(day, "withdraw", S.WITHDRAWN, counsellor)
                        elif fate < 0.88:
                            day = (
                                train_and_evaluate(
                                    journey, did, oid, counsellor, evaluator, spec, deadline, day, sorted(missed)
                                )
                                or day
                            )
                        # Otherwise the dossier stalls, partially validated, until its window closes.
                    # Before the jury, as often as it takes: absent, the dossier waits for the next session;
                    # deferred, three in four train again on the domains named and come back.
                    for _round in range(4):
                        if journey.state != S.READY_FOR_JURY:
                            break
                        submit_day = day + datetime.timedelta(days=rng.randint(3, 20))
                        session = next(
                            (
                                (sid, when)
                                for sid, when in sessions_by_region[(region, cert)]
                                if when.date() >= submit_day + datetime.timedelta(days=14)
                            ),
                            None,
                        )
                        if not (session and step(submit_day)):
                            break
                        sid, when = session
                        body = jury_bodies[region]
                        sub_id = ids[Submission]
                        ids[Submission] += 1
                        submissions.append((sub_id, sid, did, counsellor, _at(submit_day, 15)))
                        session_use[sid] = session_use.get(sid, 0) + 1
                        move(submit_day, "submit_to_jury", S.SUBMITTED_TO_JURY, counsellor)
                        if when.date() >= today:
                            break
                        president = body["jurors"][0]
                        kind = rng.choices(decision_kinds, decision_weights)[0]
                        missing: list[str] = []
                        reason = ""
                        if kind == "deferred":
                            missing = sorted(rng.sample(spec["domains"], rng.choice([1, 1, 2])))
                            reason = rng.choice(DEFERRAL_REASONS)
                        elif kind == "refused":
                            reason = "Les preuves présentées ne sont pas recevables."
                        dec_id = ids[Decision]
                        ids[Decision] += 1
                        decisions.append((dec_id, sub_id, kind, reason, missing, president, when))
                        # The timeline note decision_record writes: the decision's label, then its reason.
                        note = decision_labels[kind] + (f" : {reason}" if reason else "")
                        day = when.date()
                        if kind == "awarded":
                            move(day, "award", S.CERTIFIED, president, note)
                            code = "".join(rng.choice(VERIFICATION_ALPHABET) for _ in range(8))
                            while code in codes:
                                code = "".join(rng.choice(VERIFICATION_ALPHABET) for _ in range(8))
                            codes.add(code)
                            cert_id = ids[Certificate]
                            ids[Certificate] += 1
                            number = f"{CERTIFICATE_PREFIX[cert]}-{when:%Y}-{dec_id:07d}"
                            fee(
                                FeeKind.CERTIFICATE,
                                cert,
                                f"certificate:{cert_id}",
                                oid,
                                day,
                                {"dossier": did, "certificate": cert_id},
                            )
                            certificates.append(
                                (
                                    cert_id,
                                    oid,
                                    did,
                                    dec_id,
                                    sid,
                                    number,
                                    code,
                                    f"{first} {last.upper()}",
                                    cert,
                                    day,
                                    # A produced certificate as the pages see one (a file name and its
                                    # SHA-256): the bench writes no PDF, so `missing_files` lists them.
                                    f"certificats/{when:%Y}/{number}.pdf",
                                    hashlib.sha256(number.encode()).hexdigest(),
                                )
                            )
                        elif kind == "refused":
                            move(day, "refuse", S.REFUSED, president, note)
                        elif kind == "deferred":
                            move(day, "defer", S.PARTIALLY_VALIDATED, president, note)
                            if rng.random() < 0.75:
                                # The deferral reopens its domains: the final evaluation covers all their criteria.
                                scope = [c for c in spec["criteria"] if spec["domain_of"][c] in missing]
                                day = (
                                    train_and_evaluate(
                                        journey, did, oid, counsellor, evaluator, spec, deadline, day, scope
                                    )
                                    or day
                                )
                        else:
                            move(day, "mark_absent", S.READY_FOR_JURY, president, note)
                    if journey.state in (S.PARTIALLY_VALIDATED, S.IN_TRAINING) and deadline and deadline < today:
                        expiry = max(deadline, journey.updated.date()) + datetime.timedelta(days=1)
                        if step(expiry):
                            move(expiry, "expire", S.EXPIRED, None, "Délai de 5 ans dépassé")
        dossiers.append(
            (
                did,
                oid,
                cid,
                cert,
                spec["referentiel"],
                reference,
                journey.state,
                counsellor,
                consent,
                "Consentement RGPD" if consent else "",
                window,
                deadline,
                None,
                withdrawal,
                _at(created, 9),
                journey.updated,
            )
        )

    for (region, certification), sessions in sessions_by_region.items():
        for sid, when in sessions:
            past = when.date() < today
            session_rows.append(
                (
                    sid,
                    jury_bodies[region]["id"],
                    region,
                    certification,
                    when,
                    f"Transitions Pro {region}",
                    False,
                    max(30, session_use.get(sid, 0)),
                    "closed" if past else "planned",
                    when + datetime.timedelta(hours=3) if past else None,
                    _at(first_month),
                )
            )

    say("Écriture…")
    flush_dossiers()
    writer.write(
        JurySession,
        [
            "id",
            "organisation",
            "region",
            "certification",
            "date",
            "place",
            "is_online",
            "capacity",
            "state",
            "closed_at",
            "created_at",
        ],
        session_rows,
    )
    writer.write(SessionSeat, ["session", "member", "attendance", "is_president"], seat_rows)
    say("Séquences…")
    _reset_sequences(FILLED_MODELS)
    if restore:
        say("Index et clés étrangères…")
        _bulk_load_end(restore)
    return Report(counts=writer.counts)


class DatasetRefused(Exception):
    """The database is not one this generator should write to (SQLite without asking, dossiers already)."""


def run(argv: list[str], stdout: TextIO = sys.stdout) -> Report:
    """The command line of `python bench/national_dataset.py`, in a configured Django process."""
    from candidates.models import Dossier

    parser = argparse.ArgumentParser(
        description=(
            "Construit un jeu de données national (organismes, sites, personnes, N dossiers sur 5 ans) pour les "
            "mesures de performance. PostgreSQL uniquement, déterministe pour une graine donnée."
        )
    )
    parser.add_argument("--dossiers", type=int, required="--extras-only" not in argv)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date(2026, 11, 23))
    parser.add_argument("--organisations", type=int, default=300)
    parser.add_argument("--sites-per-organisation", type=int, default=10)
    parser.add_argument("--training-organisations", type=int, default=20)
    parser.add_argument("--allow-sqlite", action="store_true", help="Pour les tests, avec un petit N.")
    parser.add_argument("--force", action="store_true", help="Ajoute à une base qui contient déjà des dossiers.")
    parser.add_argument(
        "--extras-only",
        action="store_true",
        help=(
            "Seulement les compléments (rendez-vous, affectations, attestations, lots, paiements, notifications, "
            "effets différés), tirés des dossiers déjà en base ; --force les réécrit."
        ),
    )
    parser.add_argument("--no-extras", action="store_true", help="Sans les compléments (PostgreSQL seulement).")
    options = parser.parse_args(argv)
    if connection.vendor != "postgresql" and not options.allow_sqlite:
        raise DatasetRefused(
            "Ce jeu de données est fait pour PostgreSQL (COPY, volumes). Indiquez DATABASE_URL, "
            "ou --allow-sqlite pour un petit essai."
        )
    started = time.monotonic()

    def progress(message: str) -> None:
        stdout.write(f"[{time.monotonic() - started:7.1f} s] {message}\n")
        stdout.flush()

    if options.extras_only:
        if not Dossier.objects.exists():
            raise DatasetRefused("Aucun dossier : les compléments se tirent des dossiers déjà en base.")
        return _extras(options, progress, stdout)
    if Dossier.objects.exists() and not options.force:
        raise DatasetRefused("La base contient déjà des dossiers : --force pour ajouter quand même.")

    report = generate(
        Options(
            dossiers=options.dossiers,
            seed=options.seed,
            today=options.today,
            organisations=options.organisations,
            sites_per_organisation=options.sites_per_organisation,
            training_organisations=options.training_organisations,
            progress=progress,
        )
    )
    for table, count in sorted(report.counts.items()):
        stdout.write(f"  {table}: {count}\n")
    if connection.vendor == "postgresql" and not options.no_extras:
        # A transaction of its own, after the base's: the phase reads the committed rows (--extras-only does the
        # same on an existing database).
        report.counts.update(_extras(options, progress, stdout).counts)
    progress("Terminé.")
    return report


def _extras(options: argparse.Namespace, progress: Callable[[str], None], stdout: TextIO) -> Report:
    from bench.national_extras import ExtrasRefused, extras_generate

    progress("Compléments : rendez-vous, affectations, documents, lots, paiements, notifications, effets…")
    try:
        counts = extras_generate(today=options.today, seed=options.seed, force=options.force, progress=progress)
    except ExtrasRefused as refusal:
        raise DatasetRefused(str(refusal)) from refusal
    for table, count in sorted(counts.items()):
        stdout.write(f"  {table}: {count}\n")
    progress("Compléments écrits.")
    return Report(counts=counts)


if __name__ == "__main__":
    try:
        run(sys.argv[1:])
    except DatasetRefused as refusal:
        sys.exit(str(refusal))
