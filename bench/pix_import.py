"""The Pix results import at scale (issue 21): N CléA numérique dossiers waiting for their prior evaluation, a
results file of N lines in Pix's format that names them (with a few lines that name nobody, a few homonyms and a few
unreadable ones), then the times and query counts of reading, of reading + matching + storing (`pix_import_create`,
what the upload does in the request), and of recording a sample of matched lines (`pix_row_apply`, the grid's
services, what the outbox's task does line by line).

    .venv/bin/python bench/pix_import.py [--rows 10000] [--apply 200]          # a temporary SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clea_pix_bench SECRET_KEY=... DEBUG=false \\
        .venv/bin/python bench/pix_import.py                                    # test_clea_pix_bench, dropped after

Dossiers are inserted directly (bulk_create, shaped like dossier_create and dossier_open leave them: consent,
reference, counsellor, CléA numérique's current référentiel), not walked through the services, which would take
minutes and measure something else. Deterministic for a given --seed."""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.measure import throwaway_database

FIRST = "Camille Léa Manon Chloé Inès Sarah Emma Jade Louise Nadia Thomas Lucas Hugo Karim Mohamed Julien Éric".split()
LAST = "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Garcia".split()
HEADER = (
    "Numéro de certification;Prénom;Nom;Date de naissance;Lieu de naissance;Identifiant Externe;Statut;"
    "Nombre de Pix;1.1;1.2;1.3;2.1;2.2;2.3;2.4;3.1;3.2;3.3;3.4;4.1;4.2;4.3;5.1;5.2;"
    "Commentaire jury pour l’organisation;Session;Centre de certification;Date de passage de la certification"
)


def build(rows: int, seed: int) -> tuple[bytes, object]:
    """The organisation, its team, `rows` dossiers and the results file naming them. Returns (file, evaluator)."""
    from django.utils import timezone

    from candidates.models import Candidate, Dossier, identity_key
    from clea_platform.certifications import Certification
    from evaluations.services import pix_mapping_load_provisional
    from organisations.models import Habilitation, HabilitationStatus, Membership, Organisation, Role, User
    from referentiels.models import Referentiel

    rng = random.Random(seed)
    from django.core.management import call_command

    call_command("load_referentiels", verbosity=0, stdout=io.StringIO())
    pix_mapping_load_provisional()
    referentiel = Referentiel.objects.current_for(Certification.CLEA_NUMERIQUE)
    today = timezone.localdate()
    org = Organisation.objects.create(name="Évaluateur du banc Pix", kind="evaluator", siret="73282932000074")
    Habilitation.objects.create(
        organisation=org,
        certification=Certification.CLEA_NUMERIQUE,
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=700),
        status=HabilitationStatus.ACTIVE,
    )
    counsellor = User.objects.create(email="conseil@banc-pix.test", first_name="Claire", last_name="Conseil")
    evaluator = User.objects.create(email="eval@banc-pix.test", first_name="Éva", last_name="Luation")
    Membership.objects.create(user=counsellor, organisation=org, role=Role.COUNSELLOR)
    membership = Membership.objects.create(user=evaluator, organisation=org, role=Role.EVALUATOR)
    people = []
    for i in range(rows):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{i}"  # unique names: one dossier per line
        born = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(16000))
        people.append((first, last, born))
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                organisation=org,
                civility="mme",
                first_name=f,
                last_name=lname,
                birth_date=b,
                registration_status="job_seeker",
                education_level="3",
                origin="own_initiative",
                identity_key=identity_key(f, lname),
            )
            for f, lname, b in people
        ],
        batch_size=1000,
    )
    now = timezone.now()
    Dossier.objects.bulk_create(
        [
            Dossier(
                organisation=org,
                candidate=c,
                certification=Certification.CLEA_NUMERIQUE,
                referentiel=referentiel,
                reference=f"CLEANUM-BENCH-{i:06d}",
                counsellor=counsellor,
                consent_at=now,
                consent_text="Accord recueilli (banc d'essai).",
                state="opened",
            )
            for i, c in enumerate(candidates)
        ],
        batch_size=1000,
    )
    lines = [HEADER]
    taken = f"{today - datetime.timedelta(days=3):%d/%m/%Y}"
    for i, (first, last, born) in enumerate(people):
        birth = f"{born:%d/%m/%Y}"
        if i % 100 == 1:  # 1 %: nobody of that name here
            last = f"Inconnu{i}"
        elif i % 100 == 2:  # 1 %: an unreadable birth date
            birth = "31/02/1990"
        # Levels 0 to 4, "-" now and then; about a quarter reach every domain of the mapping.
        levels = [str(rng.choice((1, 2, 3, 4, 0))) if rng.random() > 0.05 else "-" for _ in range(16)]
        cells = [f"{100000 + i}", first, last.upper(), birth, "Lille", "", "Validée", "312", *levels]
        lines.append(";".join([*cells, "", "4242", "Centre du banc", taken]))
    content = ("\ufeff" + "\n".join(lines) + "\n").encode()
    return content, membership


class QueryCount:
    """Counts the queries run inside it (no query log: DEBUG stays off, and the log keeps only 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return self.count


def run(rows: int, apply_sample: int, seed: int) -> None:
    from django.db import connection

    from evaluations import pix_results
    from evaluations.models import PixRowStatus
    from evaluations.services import pix_import_create

    started = time.perf_counter()
    content, membership = build(rows, seed)
    print(
        f"database: {connection.vendor}; {rows} dossiers and a file of {len(content) / 1e6:.1f} MB built in "
        f"{time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    lines = pix_results.parse(content)
    parse_s = time.perf_counter() - started
    print(f"parse only: {len(lines)} lines in {parse_s:.2f} s")

    queries = QueryCount()
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        pix_import = pix_import_create(content=content, filename="bench.csv", by=membership)
        create_s = time.perf_counter() - started
    print(
        f"upload (parse + match + store): {create_s:.2f} s, {len(queries)} queries; "
        f"{pix_import.rows_matched} matched, {pix_import.rows_unmatched} to match, {pix_import.rows_invalid} invalid"
    )

    matched = list(pix_import.rows.filter(status=PixRowStatus.MATCHED).order_by("line_number")[: 2 * apply_sample])
    _apply(matched[:apply_sample], membership, pix_import.rows_matched, "documents rendered in-process (eager mode)")
    # A deployment's apply task leaves each attestation to the PDF queue's workers: the same path as a broker that
    # does not answer (outbox.services.dispatch returns False and the row waits for the re-queueing job).
    from outbox import services as outbox_services

    dispatch, outbox_services.dispatch = outbox_services.dispatch, lambda *args, **kwargs: False
    try:
        _apply(matched[apply_sample:], membership, pix_import.rows_matched, "documents left to the PDF queue")
    finally:
        outbox_services.dispatch = dispatch


def _apply(sample: list, membership: object, matched: int, how: str) -> None:
    from django.db import connection

    from evaluations.models import Attestation
    from evaluations.services import pix_row_apply

    attestations = Attestation.objects.count()
    queries = QueryCount()
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        for row in sample:
            pix_row_apply(row=row, by=membership)
        apply_s = time.perf_counter() - started
    per_row = apply_s / max(len(sample), 1)
    print(
        f"apply, {how}: {len(sample)} lines in {apply_s:.2f} s ({per_row * 1000:.0f} ms and "
        f"{len(queries) / max(len(sample), 1):.0f} queries a line; {Attestation.objects.count() - attestations} "
        f"attestation PDFs rendered); the {matched} matched lines would take about {per_row * matched / 60:.0f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--apply", type=int, default=200, help="matched lines recorded (a sample)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with throwaway_database():
        run(args.rows, args.apply, args.seed)


if __name__ == "__main__":
    main()
