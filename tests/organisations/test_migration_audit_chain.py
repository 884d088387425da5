"""The migration that makes the audit log tamper-evident chains the rows already written, in id order, after taking
the candidates' names out of them; on PostgreSQL it then installs the trigger."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from candidates.models import Candidate
from organisations.models import AuditLog, Organisation
from organisations.services import audit_chain_verify, audit_record
from tests.migrations_support import migrated_to

BEFORE_THE_CHAIN = ("organisations", "0006_epicene_labels")


@pytest.mark.django_db(transaction=True)
def test_the_rows_written_before_are_chained_in_order_without_the_candidates_names():
    candidate_type = ContentType.objects.get_for_model(Candidate)
    organisation_type = ContentType.objects.get_for_model(Organisation)
    written_at = timezone.now() - datetime.timedelta(days=30)
    with migrated_to([BEFORE_THE_CHAIN]) as old_apps:
        OldAuditLog = old_apps.get_model("organisations", "AuditLog")
        rows = [
            OldAuditLog.objects.create(
                action="candidate.correct",
                created_at=written_at,
                object_type_id=candidate_type.pk,
                object_id="41",
                object_repr="LEFÈVRE Hélène",
                ip_address="2001:db8::1",
                details={"fields": ["last_name"]},
            ),
            OldAuditLog.objects.create(
                action="site.update",
                created_at=written_at,
                object_type_id=organisation_type.pk,
                object_id="7",
                object_repr="Organisme de Lille",
            ),
            OldAuditLog.objects.create(action="auth.login_failed", details={"email": "x@example.org"}),
        ]

    chained = list(AuditLog.objects.chain())
    assert [row.pk for row in chained] == [row.pk for row in rows]
    assert [row.object_repr for row in chained] == ["Personne candidate n° 41", "Organisme de Lille", ""]
    assert chained[0].previous_hash == "" and chained[1].previous_hash == chained[0].hash
    report = audit_chain_verify()
    assert report.intact and report.count == 3
    # The next row follows on from them.
    assert audit_record(action="test.after", actor=None).previous_hash == chained[-1].hash
    assert audit_chain_verify().intact
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="Cannot update or delete"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {AuditLog._meta.db_table}")  # noqa: S608
