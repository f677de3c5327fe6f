from django.db import models


class Genre(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Book(models.Model):
    title = models.CharField(max_length=100)
    genre = models.ForeignKey(Genre, on_delete=models.PROTECT)
    pages = models.IntegerField(default=0)
    # Filled by a database trigger on servers (see migration 0003).
    title_length = models.IntegerField(default=0)
