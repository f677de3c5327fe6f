"""Database routing: the ``audit`` app lives on the ``other`` alias, the rest on ``default``."""

AUDIT_APP = "audit"
AUDIT_DB = "other"


class AuditRouter:
    """Send the audit app's models to ``other`` and everything else to ``default``.

    ``replica`` is never migrated: during tests it is a mirror of ``default``.
    """

    def db_for_read(self, model, **hints):
        return AUDIT_DB if model._meta.app_label == AUDIT_APP else "default"

    def db_for_write(self, model, **hints):
        return AUDIT_DB if model._meta.app_label == AUDIT_APP else "default"

    def allow_relation(self, obj1, obj2, **hints):
        in_audit = {obj1._meta.app_label == AUDIT_APP, obj2._meta.app_label == AUDIT_APP}
        # Relations are only allowed within one side of the split.
        return len(in_audit) == 1

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == "replica":
            return False
        if app_label == AUDIT_APP:
            return db == AUDIT_DB
        return db == "default"
