"""The audit log becomes tamper-evident: each row chains the SHA-256 of the previous one, and on PostgreSQL a trigger
refuses every UPDATE and DELETE of the table (organisations.AuditLog).

Before the existing rows are sealed, the rows about a candidate or a referral lose the person's name from
`object_repr` (written there by str(), "DUPONT Marie"): once the trigger is in place nothing can take it out, and the
anonymisation of a person past the retention period must not find it in a table it cannot change. The object's type
and id still say whom the row is about. Then the rows are chained in id order, the order AuditLog.save() chains new
ones in, and the trigger comes last.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from organisations import audit_chain

# The labels the models' audit_label() writes for new rows (French, like every label stored in the log).
LABELS = {
    ("candidates", "candidate"): "Personne candidate n° {}",
    ("referrals", "referral"): "Orientation France Travail n° {}",
}


def seal_existing_rows(apps, schema_editor):
    AuditLog = apps.get_model("organisations", "AuditLog")
    ContentType = apps.get_model("contenttypes", "ContentType")
    connection = schema_editor.connection
    labels = {
        content_type.pk: LABELS[(content_type.app_label, content_type.model)]
        for content_type in ContentType.objects.using(connection.alias).all()
        if (content_type.app_label, content_type.model) in LABELS
    }
    table = schema_editor.quote_name(AuditLog._meta.db_table)
    if connection.vendor == "postgresql":
        from psycopg2.extras import execute_values

        # One UPDATE per batch, from a VALUES list: bulk_update's CASE expressions took 140 s for 200,000 rows.
        def write(cursor, batch):
            execute_values(
                cursor.cursor,  # psycopg2's own cursor, under Django's wrapper
                f"UPDATE {table} AS t SET object_repr = v.object_repr, previous_hash = v.previous_hash, "  # noqa: S608
                "hash = v.hash FROM (VALUES %s) AS v (object_repr, previous_hash, hash, id) WHERE t.id = v.id",
                batch,
                page_size=len(batch),
            )
    else:

        def write(cursor, batch):
            cursor.executemany(
                f"UPDATE {table} SET object_repr = %s, previous_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                batch,
            )

    previous, batch = audit_chain.GENESIS, []
    rows = AuditLog.objects.using(connection.alias).order_by("id").iterator(chunk_size=5000)
    with connection.cursor() as cursor:
        for row in rows:
            if row.object_type_id in labels:
                row.object_repr = labels[row.object_type_id].format(row.object_id)
            row.previous_hash = previous
            row.hash = previous = audit_chain.row_hash(row)
            batch.append((row.object_repr, row.previous_hash, row.hash, row.pk))
            if len(batch) == 5000:
                write(cursor, batch)
                batch = []
        if batch:
            write(cursor, batch)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("organisations", "0006_epicene_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="empreinte SHA-256"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="previous_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="empreinte de l'entrée précédente"
            ),
        ),
        # Going back leaves the rows as they are: the hash columns go with the fields.
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        pgtrigger.migrations.AddTrigger(
            model_name="auditlog",
            trigger=pgtrigger.compiler.Trigger(
                name="auditlog_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="0d7695303f491b21e476f2db58894071db46ec06",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_auditlog_append_only_43dc0",
                    table="organisations_auditlog",
                    when="BEFORE",
                ),
            ),
        ),
    ]
