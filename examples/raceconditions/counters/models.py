from django.db import models


class Counter(models.Model):
    """A named hit counter (page views, likes, stock...)."""

    name = models.SlugField(unique=True)
    value = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value}"
