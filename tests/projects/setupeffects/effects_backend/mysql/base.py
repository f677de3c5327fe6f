from django.db.backends.mysql import base

from effects_backend import declaring


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = declaring(base.DatabaseWrapper.features_class)
