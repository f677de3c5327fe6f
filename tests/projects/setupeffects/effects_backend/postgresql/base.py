from django.db.backends.postgresql import base

from effects_backend import declaring


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = declaring(base.DatabaseWrapper.features_class)
