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
LABELS = {("candidates", "candidate"): "Personne candidate n° {}", ("referrals", "referral"): "Orientation France Travail n° {}"}


def seal_existing_rows(apps, schema_editor):
    AuditLog = apps.get_model("organisations", "AuditLog")
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    labels = {
        content_type.pk: LABELS[(content_type.app_label, content_type.model)]
        for content_type in ContentType.objects.using(db).all()
        if (content_type.app_label, content_type.model) in LABELS
    }
    previous, batch = audit_chain.GENESIS, []
    for row in AuditLog.objects.using(db).order_by("id").iterator(chunk_size=2000):
        if row.object_type_id in labels:
            row.object_repr = labels[row.object_type_id].format(row.object_id)
        row.previous_hash = previous
        row.hash = previous = audit_chain.row_hash(row)
        batch.append(row)
        if len(batch) == 2000:
            AuditLog.objects.using(db).bulk_update(batch, ["object_repr", "previous_hash", "hash"])
            batch = []
    AuditLog.objects.using(db).bulk_update(batch, ["object_repr", "previous_hash", "hash"])


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
