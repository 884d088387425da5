"""The national data set's second phase: what the services write around a dossier's journey, derived from the rows
the first phase (bench/national_dataset.py) left in the database.

Set-based SQL on PostgreSQL (INSERT … SELECT, pseudo-randomness from hashing ids with the seed), so that the
database does the work and the Python process holds no rows: its memory does not grow with N. Shaped as the
services write them:

- assignments (scheduling.Assignment): the evaluator of each evaluation, assigned by the counsellor (one current
  per dossier and step, a change of person ends the previous row), the trainer of each training plan;
- appointments (scheduling.Appointment): the information interview at the opening, one per evaluation with its
  evaluator (on a site of the organisation, or remote), 4 % missed and rebooked a week later; done in the past,
  planned ahead; each done or missed one writes its timeline event, as `record_event` does;
- attestations of partial validation (evaluations.Attestation, one per closed evaluation with gaps, numbered per
  dossier) and session minutes (juries.SessionMinutes, one per closed session), with their timeline events;
- claim batches (funding.ClaimBatch): the invoiced and paid lines per organisation, funder and month of invoicing,
  issued; payments (funding.Payment, PaymentLine): one per batch with paid lines, line by line, matched, the unpaid
  lines listed as missing (each paid line's `paid_on` becomes its payment's date);
- notifications (notifications.Notification) of the kinds notifications/kinds.py names for these hand-offs, to the
  people its rules name (active members of the organisation, never the person who acted), within the
  NOTIFICATION_RETENTION_DAYS the purge keeps;
- side effects (outbox.SideEffect), done: the e-mails of the immediate notifications, attestations, certificates,
  minutes and batches promised within SIDE_EFFECT_RETENTION_DAYS (the purge forgets older done ones).

PostgreSQL only. Run at the end of `national_dataset.py`, or alone: `national_dataset.py --extras-only`."""

# SQL here is built from the models' constants and labels, never from input; the values go as parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.urls import reverse

from candidates.models import DossierEvent
from evaluations.models import Attestation
from funding.models import ClaimBatch, Payment, PaymentLine
from juries.models import DecisionKind, SessionMinutes
from notifications.models import Notification
from outbox.models import SideEffect
from scheduling.models import Appointment as AppointmentModel
from scheduling.models import AppointmentPurpose, Assignment, AssignmentPurpose

# Share of evaluation appointments missed (then rebooked a week later), per thousand.
MISSED_PER_THOUSAND = 40
# Share of notifications read, per thousand, once they are three days old.
READ_PER_THOUSAND = 850
# The tables this phase fills: their rows are what --force deletes before writing again.
EXTRA_MODELS = (PaymentLine, Payment, ClaimBatch, Notification, SideEffect, Attestation, SessionMinutes, Assignment)
# The dossier events it writes, by their transition or their note's start (attestations write no transition).
EVENT_TRANSITIONS = ("appointment_mark_done", "appointment_mark_missed")
ATTESTATION_NOTE = "Attestation de validation partielle "
# The first day of a date's month, without date_trunc's detour through a timestamp with its time zone.
MONTH = "({0} - (extract(day from {0})::int - 1))"
TEMPORARY_TABLES = ("x_member", "x_admin", "x_site", "x_site_count", "x_eval", "x_batch", "x_payment")
# A number that no id reaches: the URL patterns are cut around it.
PLACEHOLDER = 987654321
# An odd multiplier below 16**10: id × it mod 16**10 is a bijection, so attestation codes never collide.
CODE_MULTIPLIER = 0x9E3779B97F


class ExtrasRefused(Exception):
    """The database already holds this phase's rows, or is not PostgreSQL."""


def extras_present() -> bool:
    return AppointmentModel.objects.exists() or ClaimBatch.objects.exists() or Notification.objects.exists()


def _r(salt: str, expr: str, modulo: int = 1000) -> str:
    """A deterministic draw in [0, modulo) from an id (and the seed): the same rows for the same seed."""
    return f"mod(abs(hashtextextended('{salt}:' || ({expr})::text, %(seed)s)), {modulo})::int"


def _url(name: str, expr: str) -> str:
    """The path of `name` for the id `expr`, as SQL."""
    before, after = reverse(name, args=[PLACEHOLDER]).split(str(PLACEHOLDER))
    return f"'{before}' || ({expr})::text || '{after}'"


def _local(expr: str, fmt: str) -> str:
    return f"to_char(({expr}) at time zone '{settings.TIME_ZONE}', '{fmt}')"


DAYS = "array['dimanche','lundi','mardi','mercredi','jeudi','vendredi','samedi']"
MONTHS = (
    "array['janvier','février','mars','avril','mai','juin','juillet','août','septembre','octobre','novembre',"
    "'décembre']"
)


def _when(expr: str) -> str:
    """`date_format(localtime(x), "l j F Y à H:i")` in French: « lundi 3 mars 2026 à 10:00 »."""
    local = f"(({expr}) at time zone '{settings.TIME_ZONE}')"
    return (
        f"({DAYS})[extract(dow from {local})::int + 1] || ' ' || extract(day from {local})::int || ' ' || "
        f"({MONTHS})[extract(month from {local})::int] || ' ' || extract(year from {local})::int || ' à ' || "
        f"to_char({local}, 'HH24:MI')"
    )


def _purpose_label(expr: str, choices: type) -> str:
    whens = " ".join(
        "when '{}' then '{}'".format(value, str(label).replace("'", "''"))
        for value, label in choices.choices  # type: ignore[attr-defined]
    )
    return f"(case {expr} {whens} end)"


def _notify(select: str) -> str:
    """Insert notifications from `select` (organisation_id, recipient_id, actor_id, kind, title, body, url,
    event_key, created_at, email), as services.notify writes them: only to an active member of the organisation,
    never to the person who acted, once per (event, recipient), within the retention; e-mailed at once when the
    kind has an e-mail (the default preference), read by most once a few days old."""
    return f"""
        insert into notifications_notification (organisation_id, recipient_id, recipient_email, kind, title, body,
            url, event_key, created_at, updated_at, read_at, email_delivery, emailed_at, attachments)
        select organisation_id, recipient_id, '', kind, left(title, 200), body, left(url, 300), event_key, created_at,
            greatest(created_at, read_at), read_at, case when email then 'immediate' else 'none' end,
            case when email then created_at + interval '10 seconds' end, '[]'::jsonb
        from (
            select q.*, case when q.created_at < %(now)s - interval '3 days'
                and {_r("read", "q.event_key || q.recipient_id")} < {READ_PER_THOUSAND}
                then q.created_at + make_interval(hours => 1 + {_r("readh", "q.event_key || q.recipient_id", 72)})
                end as read_at
            from ({select}) q(organisation_id, recipient_id, actor_id, kind, title, body, url, event_key, created_at,
                email)
            where q.recipient_id is not null and q.recipient_id is distinct from q.actor_id
                and q.created_at >= %(notifications_since)s and q.created_at <= %(now)s
                and exists (select 1 from organisations_membership m where m.user_id = q.recipient_id
                    and m.organisation_id = q.organisation_id and m.is_active)
        ) n
        on conflict (event_key, recipient_id) where recipient_id is not null do nothing
    """


def _effects(select: str) -> str:
    """Insert done side effects from `select` (organisation_id, kind, key, label, arguments, result, created_at):
    promised in the transaction of their event, produced a few seconds later by a worker, within the retention."""
    return f"""
        insert into outbox_sideeffect (organisation_id, kind, key, label, arguments, state, attempts, last_error,
            result, created_at, available_at, dispatched_at, started_at, done_at, requested_by_id)
        select organisation_id, kind, key, left(label, 200), arguments, 'done', 1, '', left(result, 200),
            created_at, created_at, created_at, created_at + interval '1 second', created_at + interval '4 seconds',
            null
        from ({select}) q(organisation_id, kind, key, label, arguments, result, created_at)
        where q.created_at >= %(effects_since)s and q.created_at <= %(now)s
        on conflict (key) do nothing
    """


WHO = "'dossier ' || d.reference || ' (' || c.first_name || ' ' || c.last_name || ')'"


def _steps() -> list[tuple[str, str]]:
    dossier_url = _url("journey:dossier_detail", "d.id")
    eval_purpose = _purpose_label("x.purpose", AppointmentPurpose)
    decision_label = _purpose_label("k.kind", DecisionKind)
    return [
        (
            "Membres et sites…",
            """
            create temp table x_member on commit drop as
                select distinct on (user_id, organisation_id, role) id, user_id, organisation_id, role
                from organisations_membership where is_active order by user_id, organisation_id, role, id;
            create index on x_member (user_id, organisation_id, role);
            create temp table x_admin on commit drop as
                select distinct on (organisation_id) organisation_id, user_id from organisations_membership
                where is_active and role = 'org_admin' order by organisation_id, id;
            create temp table x_site on commit drop as
                select organisation_id, id, row_number() over (partition by organisation_id order by id) - 1 as n,
                    count(*) over (partition by organisation_id) as c
                from organisations_site where is_active;
            create index on x_site (organisation_id, n);
            create temp table x_site_count on commit drop as
                select distinct organisation_id, c from x_site;
            analyze x_member, x_admin, x_site, x_site_count;
            """,
        ),
        (
            "Rendez-vous d'évaluation…",
            f"""
            create temp table x_eval on commit drop as
            with e as (
                select e.id as evaluation_id, e.dossier_id, e.organisation_id, e.kind, e.modality, e.started_on,
                    e.evaluator_id, m.id as membership_id, coalesce(d.counsellor_id, a.user_id) as booker,
                    d.created_at as opened_at,
                    case e.kind when 'prior' then '{AssignmentPurpose.PRIOR_EVALUATION}'
                        else '{AssignmentPurpose.FINAL_EVALUATION}' end as purpose,
                    coalesce(least(480, greatest(15, (e.duration_hours * 60)::int)), 180) as minutes,
                    greatest(
                        (e.started_on + time '07:00' + make_interval(hours => {_r("hour", "e.id", 4)}))
                            at time zone 'UTC',
                        d.created_at + interval '3 hours') as starts_at
                from evaluations_evaluation e
                join candidates_dossier d on d.id = e.dossier_id
                join x_member m on m.user_id = e.evaluator_id and m.organisation_id = e.organisation_id
                    and m.role = 'evaluator'
                left join x_admin a on a.organisation_id = e.organisation_id
                where e.status <> 'abandoned'
            ), f as (
                select e.*, e.starts_at - interval '7 days' as missed_starts_at,
                    {_r("miss", "e.evaluation_id")} < {MISSED_PER_THOUSAND}
                    and e.starts_at - interval '7 days' > e.opened_at + interval '3 hours'
                    and e.starts_at - interval '6 days' < %(now)s as missed
                from e
            )
            select f.*, %(first_id)s + row_number() over (order by evaluation_id) - 1 as appointment_id,
                case when missed then %(first_id)s + count(*) over () - 1
                    + sum(missed::int) over (order by evaluation_id) end as missed_id,
                case when missed then greatest(opened_at + interval '2 hours',
                    missed_starts_at - make_interval(days => 3 + {_r("missbook", "evaluation_id", 14)})) end
                    as missed_booked_at,
                case when missed then missed_starts_at + interval '1 day'
                    else greatest(opened_at + interval '2 hours',
                        starts_at - make_interval(days => 3 + {_r("book", "evaluation_id", 21)},
                            hours => 2))
                    end as booked_at,
                (select s.id from x_site_count k join x_site s on s.organisation_id = k.organisation_id
                    and s.n = {_r("site", "evaluation_id")} %% k.c where k.organisation_id = f.organisation_id)
                    as site_id
            from f;
            analyze x_eval;
            """,
        ),
        (
            "  rendez-vous manqués puis repris…",
            """
            insert into scheduling_appointment (id, organisation_id, dossier_id, person_name, person_email, purpose,
                with_membership_id, starts_at, duration_minutes, ends_at, modality, site_id, remote_details, state,
                cancel_reason, rebooked_from_id, booked_by_id, booked_at, updated_at, sequence)
            select missed_id, organisation_id, dossier_id, '', '', purpose, membership_id, missed_starts_at, minutes,
                missed_starts_at + make_interval(mins => minutes),
                case when modality = 'remote' or site_id is null then 'remote' else 'site' end,
                case when modality = 'remote' then null else site_id end,
                case when modality = 'remote' or site_id is null
                    then 'Lien de visioconférence envoyé par courriel' else '' end,
                'missed', '', null, booker, missed_booked_at,
                missed_starts_at + make_interval(mins => minutes), 1
            from x_eval where missed;
            insert into scheduling_appointment (id, organisation_id, dossier_id, person_name, person_email, purpose,
                with_membership_id, starts_at, duration_minutes, ends_at, modality, site_id, remote_details, state,
                cancel_reason, rebooked_from_id, booked_by_id, booked_at, updated_at, sequence)
            select appointment_id, organisation_id, dossier_id, '', '', purpose, membership_id, starts_at, minutes,
                starts_at + make_interval(mins => minutes),
                case when modality = 'remote' or site_id is null then 'remote' else 'site' end,
                case when modality = 'remote' then null else site_id end,
                case when modality = 'remote' or site_id is null
                    then 'Lien de visioconférence envoyé par courriel' else '' end,
                case when starts_at < %(now)s then 'done' else 'planned' end, '', missed_id, booker, booked_at,
                case when starts_at < %(now)s then starts_at + make_interval(mins => minutes) else booked_at end,
                case when starts_at < %(now)s then 1 else 0 end
            from x_eval;
            analyze scheduling_appointment;
            """,
        ),
        (
            "Entretiens d'information…",
            f"""
            select setval(pg_get_serial_sequence('scheduling_appointment', 'id'),
                (select coalesce(max(id), 1) from scheduling_appointment));
            insert into scheduling_appointment (organisation_id, dossier_id, person_name, person_email, purpose,
                with_membership_id, starts_at, duration_minutes, ends_at, modality, site_id, remote_details, state,
                cancel_reason, rebooked_from_id, booked_by_id, booked_at, updated_at, sequence)
            select d.organisation_id, d.id, '', '', '{AppointmentPurpose.INFORMATION}', m.id,
                d.created_at + interval '1 hour', 60, d.created_at + interval '2 hours', 'site', s.id, '',
                case when d.created_at + interval '1 hour' < %(now)s then 'done' else 'planned' end, '', null,
                d.counsellor_id, d.created_at,
                case when d.created_at + interval '1 hour' < %(now)s then d.created_at + interval '2 hours'
                    else d.created_at end,
                case when d.created_at + interval '1 hour' < %(now)s then 1 else 0 end
            from candidates_dossier d
            join x_member m on m.user_id = d.counsellor_id and m.organisation_id = d.organisation_id
                and m.role = 'counsellor'
            join x_site_count k on k.organisation_id = d.organisation_id
            join x_site s on s.organisation_id = d.organisation_id and s.n = {_r("infosite", "d.id")} %% k.c
            """,
        ),
        (
            "  leurs événements (réalisé, manqué)…",
            f"""
            insert into candidates_dossierevent (dossier_id, at, actor_id, transition, from_state, to_state, note)
            select x.dossier_id, x.ends_at, m.user_id,
                case x.state when 'done' then 'appointment_mark_done' else 'appointment_mark_missed' end, '', '',
                case x.state when 'done' then 'Rendez-vous réalisé : ' else 'Rendez-vous manqué : ' end
                    || {eval_purpose} || ' ' || {_local("x.starts_at", "DD/MM/YYYY HH24:MI")}
            from scheduling_appointment x join organisations_membership m on m.id = x.with_membership_id
            where x.state in ('done', 'missed') and x.dossier_id is not null
            """,
        ),
        (
            "Affectations…",
            """
            insert into scheduling_assignment (organisation_id, dossier_id, purpose, assignee_id, assigned_by_id,
                assigned_at, ended_at, end_reason)
            select organisation_id, dossier_id, purpose, membership_id, booker, assigned_at,
                lead(assigned_at) over w,
                case when lead(assigned_at) over w is null then ''
                    else 'Évaluation commencée par une autre personne' end
            from (
                select organisation_id, dossier_id, purpose, membership_id, min(booker) as booker,
                    min(coalesce(missed_booked_at, booked_at)) - interval '1 hour' as assigned_at
                from x_eval group by organisation_id, dossier_id, purpose, membership_id
            ) a
            window w as (partition by dossier_id, purpose order by assigned_at);
            insert into scheduling_assignment (organisation_id, dossier_id, purpose, assignee_id, assigned_by_id,
                assigned_at, ended_at, end_reason)
            select organisation_id, dossier_id, 'training', membership_id, created_by, assigned_at,
                lead(assigned_at) over w,
                case when lead(assigned_at) over w is null then '' else 'Parcours confié à une autre personne' end
            from (
                select p.organisation_id, p.dossier_id, m.id as membership_id, min(p.created_by_id) as created_by,
                    min(p.created_at) as assigned_at
                from training_trainingplan p
                join lateral (select id from x_member where user_id = p.trainer_id and role = 'trainer'
                    order by (organisation_id = p.organisation_id) desc, id limit 1) m on true
                group by p.organisation_id, p.dossier_id, m.id
            ) a
            window w as (partition by dossier_id order by assigned_at);
            analyze scheduling_assignment;
            """,
        ),
        (
            "Attestations et procès-verbaux…",
            f"""
            insert into evaluations_attestation (organisation_id, dossier_id, evaluation_id, number,
                verification_code, version, file, sha256, generated_at, updated_at)
            select organisation_id, dossier_id, id, number,
                translate(lpad(to_hex(mod(id::numeric * {CODE_MULTIPLIER}, 1099511627776)::bigint), 10, '0'),
                    '0123456789abcdef', '23456789BCDFGHJK'),
                version, 'attestations/' || extract(year from generated_at)::int || '/' || number || '.pdf',
                encode(sha256(convert_to(number, 'UTF8')), 'hex'), generated_at, generated_at
            from (
                select e.id, e.organisation_id, e.dossier_id, e.closed_at + interval '1 minute' as generated_at,
                    row_number() over (partition by e.dossier_id order by e.closed_at, e.id) as version,
                    'ATT-' || d.reference || '-' || row_number() over (partition by e.dossier_id
                        order by e.closed_at, e.id) as number
                from evaluations_evaluation e join candidates_dossier d on d.id = e.dossier_id
                where e.status = 'closed' and e.closed_at is not null
                    and coalesce(e.outcome ->> 'all_validated', 'false') <> 'true'
            ) a;
            insert into candidates_dossierevent (dossier_id, at, actor_id, transition, from_state, to_state, note)
            select dossier_id, generated_at, null, '', '', '', '{ATTESTATION_NOTE}' || number
            from evaluations_attestation;
            insert into juries_sessionminutes (session_id, number, file, sha256, generated_at)
            select s.id, n.number, 'proces-verbaux/' || extract(year from s.closed_at)::int || '/proces-verbal-'
                || n.number || '.pdf', encode(sha256(convert_to(n.number, 'UTF8')), 'hex'),
                s.closed_at + interval '2 minutes'
            from juries_jurysession s
            cross join lateral (select 'PV-' || s.organisation_id || '-' || {_local("s.date", "YYYYMMDD")}
                || '-' || s.id as number) n
            where s.state = 'closed' and s.closed_at is not null;
            analyze evaluations_attestation, juries_sessionminutes;
            """,
        ),
        (
            "Lots de réclamation (les lignes y entrent)…",
            f"""
            create temp table x_batch on commit drop as
            select row_number() over (order by l.organisation_id, l.funder_id, l.month) + %(first_batch)s - 1 as id,
                l.*, 'LOT-' || o.siret || '-' || extract(year from l.issued_on)::int || '-' || lpad(
                    (row_number() over (partition by l.organisation_id, extract(year from l.issued_on)
                        order by l.month, l.funder_id))::text, 4, '0') as number,
                a.user_id as requested_by
            from (
                select organisation_id, funder_id, {MONTH.format("invoiced_on")} as month,
                    min(service_date) as period_start, max(service_date) as period_end,
                    max(invoiced_on) as issued_on, count(*) as total_lines, sum(invoiced_cents) as total_cents,
                    sum(invoiced_incl_vat_cents) as total_incl_vat_cents,
                    max(paid_on) filter (where state = 'paid') as last_paid_on,
                    sum(paid_cents) filter (where state = 'paid') as paid_cents
                from funding_fundingline
                where state in ('invoiced', 'paid') and invoiced_on is not null and service_date is not null
                group by 1, 2, 3
            ) l
            join organisations_organisation o on o.id = l.organisation_id
            join x_admin a on a.organisation_id = l.organisation_id;
            analyze x_batch;
            insert into funding_claimbatch (id, organisation_id, funder_id, number, period_start, period_end, status,
                total_lines, processed_lines, total_cents, total_incl_vat_cents, issued_on, issued_at, csv_file,
                xlsx_file, pdf_file, csv_sha256, xlsx_sha256, pdf_sha256, error, requested_by_id, created_at,
                updated_at)
            select id, organisation_id, funder_id, number, period_start, period_end, 'issued', total_lines,
                total_lines, total_cents, total_incl_vat_cents, issued_on,
                (issued_on + time '16:00') at time zone 'UTC',
                'financements/lots/' || extract(year from issued_on)::int || '/' || number || '.csv',
                'financements/lots/' || extract(year from issued_on)::int || '/' || number || '.xlsx',
                'financements/lots/' || extract(year from issued_on)::int || '/' || number || '.pdf',
                encode(sha256(convert_to(number || '.csv', 'UTF8')), 'hex'),
                encode(sha256(convert_to(number || '.xlsx', 'UTF8')), 'hex'),
                encode(sha256(convert_to(number || '.pdf', 'UTF8')), 'hex'), '', requested_by,
                (issued_on + time '15:58') at time zone 'UTC', (issued_on + time '16:00') at time zone 'UTC'
            from x_batch;
            create temp table x_payment on commit drop as
            select row_number() over (order by b.id) + %(first_payment)s - 1 as id, b.id as batch_id,
                b.organisation_id, b.requested_by,
                least(%(today)s::date, greatest(b.last_paid_on, b.issued_on + 1)) as received_on,
                'VIR-' || upper(f.code) || '-' || b.id as reference, b.paid_cents as total_cents
            from x_batch b join funding_funder f on f.id = b.funder_id
            where b.last_paid_on is not null;
            create index on x_payment (batch_id);
            analyze x_payment, funding_claimbatch;
            -- One pass over the lines: their batch, and for the paid ones their payment's date.
            -- The lines matched to their batch by a hash join first, then updated by id.
            update funding_fundingline l set batch_id = m.batch_id,
                paid_on = case when l.state = 'paid' then m.received_on else l.paid_on end,
                updated_at = case when l.state = 'paid'
                    then greatest(l.updated_at, (m.received_on + time '09:30') at time zone 'UTC')
                    else l.updated_at end
            from (
                select f.id as line_id, b.id as batch_id, p.received_on
                from funding_fundingline f
                join x_batch b on b.organisation_id = f.organisation_id and b.funder_id = f.funder_id
                    and b.month = {MONTH.format("f.invoiced_on")}
                left join x_payment p on p.batch_id = b.id
                where f.state in ('invoiced', 'paid') and f.invoiced_on is not null and f.service_date is not null
            ) m
            where l.id = m.line_id;
            """,
        ),
        (
            "Paiements…",
            """
            insert into funding_payment (id, organisation_id, batch_id, received_on, reference, total_cents,
                missing_line_ids, recorded_by_id, created_at)
            select p.id, p.organisation_id, p.batch_id, p.received_on, p.reference, p.total_cents,
                coalesce((select jsonb_agg(l.id order by l.id) from funding_fundingline l
                    where l.batch_id = p.batch_id and l.state = 'invoiced'), '[]'::jsonb),
                p.requested_by, (p.received_on + time '09:30') at time zone 'UTC'
            from x_payment p;
            insert into funding_paymentline (payment_id, position, funder_reference, amount_cents, status,
                funding_line_id, expected_cents)
            select p.id, row_number() over (partition by p.id order by d.reference, l.step, l.funder_reference, l.id),
                l.funder_reference, l.paid_cents, 'matched', l.id, l.invoiced_incl_vat_cents
            from x_payment p join funding_fundingline l on l.batch_id = p.batch_id and l.state = 'paid'
            join candidates_dossier d on d.id = l.dossier_id;
            analyze funding_fundingline, funding_payment, funding_paymentline;
            """,
        ),
        (
            "Notifications : affectations, rendez-vous…",
            _notify(f"""
                select m.organisation_id, m.user_id as recipient_id, a.assigned_by_id as actor_id,
                    'assignment' as kind,
                    'Étape qui vous est confiée : ' || {_purpose_label("a.purpose", AssignmentPurpose)} || ', '
                        || {WHO} as title,
                    coalesce('Confiée par ' || u.first_name || ' ' || u.last_name || '.', '') as body,
                    {dossier_url} as url, 'assignment:' || a.id as event_key, a.assigned_at as created_at,
                    true as email
                from scheduling_assignment a
                join organisations_membership m on m.id = a.assignee_id
                join candidates_dossier d on d.id = a.dossier_id join candidates_candidate c on c.id = d.candidate_id
                left join organisations_user u on u.id = a.assigned_by_id
                where a.purpose <> 'training' and a.assigned_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select x.organisation_id, m.user_id, x.booked_by_id, 'appointment_booked',
                    case when x.rebooked_from_id is null then 'Rendez-vous pris : ' else 'Rendez-vous reprogrammé : '
                        end || {eval_purpose} || ' le ' || {_when("x.starts_at")} || ', ' || {WHO},
                    '', {dossier_url}, 'appointment_booked:' || x.id, x.booked_at, true
                from scheduling_appointment x
                join organisations_membership m on m.id = x.with_membership_id
                join candidates_dossier d on d.id = x.dossier_id join candidates_candidate c on c.id = d.candidate_id
                where x.booked_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select x.organisation_id, d.counsellor_id, m.user_id, 'appointment_missed',
                    'Rendez-vous manqué : ' || {eval_purpose} || ' du ' || {_when("x.starts_at")} || ', ' || {WHO},
                    'Le candidat n''est pas venu : reprogrammez le rendez-vous depuis la page du dossier.',
                    {dossier_url}, 'appointment_missed:' || x.id, x.ends_at, true
                from scheduling_appointment x
                join organisations_membership m on m.id = x.with_membership_id
                join candidates_dossier d on d.id = x.dossier_id join candidates_candidate c on c.id = d.candidate_id
                where x.state = 'missed' and x.ends_at >= %(notifications_since)s
            """),
        ),
        (
            "Notifications : évaluations, attestations, formations…",
            _notify(f"""
                select e.organisation_id, d.counsellor_id, e.evaluator_id, 'evaluation_closed',
                    case e.kind when 'prior' then 'Évaluation préalable clôturée : '
                        else 'Évaluation finale clôturée : ' end || {WHO},
                    v.n || case when v.n > 1 then ' domaines validés sur ' else ' domaine validé sur ' end
                        || v.total || '.',
                    {dossier_url}, 'evaluation_closed:' || e.id, e.closed_at, true
                from evaluations_evaluation e
                join candidates_dossier d on d.id = e.dossier_id join candidates_candidate c on c.id = d.candidate_id
                cross join lateral (select count(*) filter (where (x ->> 'validated')::boolean) as n,
                    count(*) as total from jsonb_array_elements(e.outcome -> 'domains') x) v
                where e.status = 'closed' and e.closed_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select t.organisation_id, d.counsellor_id, null::bigint, 'attestation_ready',
                    'Attestation ' || t.number || ' disponible : ' || {WHO},
                    'L''attestation de validation partielle est prête à être remise au candidat.',
                    {dossier_url}, 'attestation_ready:' || t.id, t.generated_at, true
                from evaluations_attestation t
                join candidates_dossier d on d.id = t.dossier_id join candidates_candidate c on c.id = d.candidate_id
                where t.generated_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select d.organisation_id, r.user_id, p.trainer_id, 'training_plan_completed',
                    'Formation terminée : ' || {WHO}, 'L''évaluation finale peut commencer.', {dossier_url},
                    'training_plan_completed:' || p.id, p.completed_at, true
                from training_trainingplan p
                join candidates_dossier d on d.id = p.dossier_id join candidates_candidate c on c.id = d.candidate_id
                cross join lateral (
                    select d.counsellor_id as user_id
                    union all
                    (select evaluator_id from evaluations_evaluation where dossier_id = d.id
                        order by started_on, id limit 1)
                ) r
                where p.completed_at >= %(notifications_since)s
            """),
        ),
        (
            "Notifications : jury, décisions, certificats…",
            _notify(f"""
                select s.organisation_id, a.user_id, b.submitted_by_id, 'dossier_submitted',
                    'Dossier ' || d.reference || ' soumis au jury du ' || {_local("s.date", "DD/MM/YYYY")}, '',
                    {_url("juries:session_detail", "s.id")}, 'dossier_submitted:' || b.id, b.submitted_at, true
                from juries_submission b join juries_jurysession s on s.id = b.session_id
                join candidates_dossier d on d.id = b.dossier_id
                join organisations_membership a on a.organisation_id = s.organisation_id and a.role = 'org_admin'
                    and a.is_active
                where b.submitted_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select d.organisation_id, r.user_id, k.decided_by_id, 'decision_recorded',
                    'Décision du jury : ' || {decision_label} || ', ' || {WHO}, k.reason, {dossier_url},
                    'decision_recorded:' || k.id, k.decided_at, true
                from juries_decision k join juries_submission b on b.id = k.submission_id
                join candidates_dossier d on d.id = b.dossier_id join candidates_candidate c on c.id = d.candidate_id
                cross join lateral (
                    select d.counsellor_id as user_id
                    union
                    select evaluator_id from evaluations_evaluation where dossier_id = d.id
                ) r
                where k.decided_at >= %(notifications_since)s
            """)
            + ";"
            + _notify(f"""
                select d.organisation_id, d.counsellor_id, null::bigint, 'certificate_ready',
                    'Certificat ' || t.number || ' disponible : ' || {WHO}, '', {dossier_url},
                    'certificate_ready:' || t.id, k.decided_at + interval '2 minutes', true
                from juries_certificate t join juries_decision k on k.id = t.decision_id
                join candidates_dossier d on d.id = t.dossier_id join candidates_candidate c on c.id = d.candidate_id
                where k.decided_at >= %(notifications_since)s - interval '2 minutes'
            """),
        ),
        (
            "Effets différés (courriels, documents, lots)…",
            _effects("""
                select organisation_id, 'notification_email' as kind, 'notification_email:' || id as key,
                    'Notification « ' || title || ' »' as label, jsonb_build_object('notification_id', id)
                        as arguments, 'Courriel envoyé' as result, created_at
                from notifications_notification
                where email_delivery = 'immediate' and created_at >= %(effects_since)s
            """)
            + ";"
            + _effects("""
                select t.organisation_id, 'attestation', 'attestation:' || t.evaluation_id,
                    'Attestation du dossier ' || d.reference, jsonb_build_object('evaluation_id', t.evaluation_id),
                    t.number, t.generated_at - interval '1 minute'
                from evaluations_attestation t join candidates_dossier d on d.id = t.dossier_id
                where t.generated_at >= %(effects_since)s
            """)
            + ";"
            + _effects("""
                select d.organisation_id, 'certificate', 'certificate:' || k.id,
                    'Certificat du dossier ' || d.reference, jsonb_build_object('decision_id', k.id), t.number,
                    k.decided_at
                from juries_certificate t join juries_decision k on k.id = t.decision_id
                join candidates_dossier d on d.id = t.dossier_id
                where k.decided_at >= %(effects_since)s
            """)
            + ";"
            + _effects(f"""
                select s.organisation_id, 'minutes', 'minutes:' || s.id,
                    'Procès-verbal du jury du ' || {_local("s.date", "DD/MM/YYYY")},
                    jsonb_build_object('session_id', s.id), n.number, s.closed_at
                from juries_jurysession s join juries_sessionminutes n on n.session_id = s.id
                where s.closed_at >= %(effects_since)s
            """)
            + ";"
            + _effects("""
                select organisation_id, 'batch', 'batch:' || id, 'Lot ' || number,
                    jsonb_build_object('batch_id', id), number, created_at
                from funding_claimbatch where created_at >= %(effects_since)s
            """),
        ),
    ]


def _delete() -> None:
    """Remove this phase's rows (--force), so that running it again gives the same rows."""
    with connection.cursor() as cursor:
        cursor.execute("update funding_fundingline set batch_id = null where batch_id is not null")
        for model in EXTRA_MODELS:
            cursor.execute(f"delete from {model._meta.db_table}")
        cursor.execute("delete from scheduling_appointment where rebooked_from_id is not null")
        cursor.execute("delete from scheduling_appointment")
        cursor.execute(
            "delete from candidates_dossierevent where transition = any(%s) or (transition = '' and note like %s)",
            [list(EVENT_TRANSITIONS), ATTESTATION_NOTE + "%"],
        )


def _foreign_keys_drop(cursor: CursorWrapper, tables: list[str]) -> list[tuple[str, str, str]]:
    """Drop the foreign keys from and to the tables this phase fills (the dossier events' only towards them), to
    add them again at the end: PostgreSQL then checks each key in one join over the table instead of one trigger
    per row at COMMIT (Django's keys are deferred), the bulk load's usual way. Same names, same definitions."""
    cursor.execute(
        """
        select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint
        where contype = 'f' and conrelid::regclass::text <> 'candidates_dossierevent'
            and (conrelid::regclass::text = any(%s) or confrelid::regclass::text = any(%s))
        order by 1, 2
        """,
        [tables, tables],
    )
    keys = cursor.fetchall()
    for table, name, _definition in keys:
        cursor.execute(f"alter table {table} drop constraint {connection.ops.quote_name(name)}")
    return keys


def _foreign_keys_add(cursor: CursorWrapper, keys: list[tuple[str, str, str]]) -> None:
    for table, name, definition in keys:
        cursor.execute(f"alter table {table} add constraint {connection.ops.quote_name(name)} {definition}")


@transaction.atomic
def extras_generate(
    *, today: datetime.date, seed: int = 1, force: bool = False, progress: Callable[[str], None] = print
) -> dict[str, int]:
    """Write the extras from the rows in the database; returns the rows per table."""
    if connection.vendor != "postgresql":
        raise ExtrasRefused("Les compléments (rendez-vous, notifications…) s'écrivent en SQL PostgreSQL.")
    with connection.cursor() as cursor:
        # The keys checked now rather than at COMMIT: an ALTER TABLE (below) refuses a table with pending checks, and
        # a caller's transaction (a test's) may hold some.
        cursor.execute("set constraints all immediate")
    if extras_present():
        if not force:
            raise ExtrasRefused("La base contient déjà des rendez-vous, lots ou notifications : --force pour réécrire.")
        progress("Suppression des compléments déjà écrits…")
        _delete()
    now = datetime.datetime.combine(today, datetime.time(0), tzinfo=datetime.UTC)
    tables = [m._meta.db_table for m in (*EXTRA_MODELS, AppointmentModel)]
    with connection.cursor() as cursor:
        # The ids from 1 on an empty table (whatever rows came and went before): the same ids, hence the same
        # notification and side effect keys, on every run.
        for statement in connection.ops.sequence_reset_sql(no_style(), [*EXTRA_MODELS, AppointmentModel]):
            cursor.execute(statement)
        cursor.execute("select coalesce(max(id), 0) + 1 from scheduling_appointment")
        first_id = cursor.fetchone()[0]
        cursor.execute("select coalesce(max(id), 0) + 1 from funding_claimbatch")
        first_batch = cursor.fetchone()[0]
        cursor.execute("select coalesce(max(id), 0) + 1 from funding_payment")
        first_payment = cursor.fetchone()[0]
        params = {
            "seed": seed,
            "today": today,
            "now": now,
            "first_id": first_id,
            "first_batch": first_batch,
            "first_payment": first_payment,
            "notifications_since": now - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS),
            "effects_since": now - datetime.timedelta(days=settings.SIDE_EFFECT_RETENTION_DAYS),
        }
        keys = _foreign_keys_drop(cursor, [*tables, DossierEvent._meta.db_table])
        # Temporary tables live until the commit: a caller's enclosing transaction (a test) may hold them still.
        cursor.execute(f"drop table if exists {', '.join(TEMPORARY_TABLES)}")
        for label, sql in _steps():
            started = time.monotonic()
            cursor.execute(sql, params)
            progress(f"{label} ({time.monotonic() - started:.1f} s)")
        started = time.monotonic()
        # Statistics first: a table analysed empty makes the planner check each key by a nested loop.
        cursor.execute("analyze notifications_notification, outbox_sideeffect")
        _foreign_keys_add(cursor, keys)
        progress(f"Clés étrangères vérifiées ({time.monotonic() - started:.1f} s)")
        for statement in connection.ops.sequence_reset_sql(no_style(), [*EXTRA_MODELS, AppointmentModel, DossierEvent]):
            cursor.execute(statement)
        cursor.execute("set constraints all deferred")
        counts = {}
        for table in tables:
            cursor.execute(f"select count(*) from {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
