"""Database routing: the ``ledger`` app lives on the ``ledger`` alias, the rest on ``default``."""

LEDGER_APP = "ledger"
LEDGER_DB = "ledger"


class LedgerRouter:
    def db_for_read(self, model, **hints):
        return LEDGER_DB if model._meta.app_label == LEDGER_APP else "default"

    def db_for_write(self, model, **hints):
        return LEDGER_DB if model._meta.app_label == LEDGER_APP else "default"

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label == LEDGER_APP) == (obj2._meta.app_label == LEDGER_APP)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == LEDGER_APP:
            return db == LEDGER_DB
        return db == "default"
