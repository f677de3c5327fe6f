from django.db.backends.sqlite3 import base

from effects_backend import declaring


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = declaring(base.DatabaseWrapper.features_class)
