import os

from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
    # A model change that no file shows (tests/test_idioms.py): with migrations disabled the
    # test database is created from the models, so its template must not be reused.
    if os.environ.get("IDIOM_EXTRA_FIELD"):
        extra = models.IntegerField(default=7)
