from django.db import models


class AuditEntry(models.Model):
    """An append-only record of something that happened, stored on the ``other`` database.

    It refers to users and objects by value, not by foreign key, because those rows live
    on ``default``.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        LOGIN = "login", "Login"

    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    actor = models.CharField(max_length=150, blank=True)
    message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.action} {self.object_type}#{self.object_id} by {self.actor or '-'}"


def record(action, obj, actor="", message=""):
    """Write an audit entry for ``obj`` (any model instance) on the audit database."""
    return AuditEntry.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        actor=getattr(actor, "username", actor) or "",
        message=message,
    )
