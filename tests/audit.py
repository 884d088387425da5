"""Reading the append-only audit log in tests."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from organisations.models import AuditLog


def audit_rows_for(obj: Model) -> QuerySet[AuditLog]:
    """The audit rows about one object, oldest first."""
    content_type = ContentType.objects.get_for_model(obj)
    return AuditLog.objects.filter(object_type=content_type, object_id=str(obj.pk)).order_by("created_at", "id")
