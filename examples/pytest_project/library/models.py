from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Genre(models.Model):
    """Seeded by a data migration: every test database starts with these rows."""

    name = models.CharField(max_length=60)
    slug = models.SlugField(unique=True)

    def __str__(self):
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=120)
    born = models.PositiveIntegerField(null=True, blank=True)
    featured = models.BooleanField(default=False)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    genre = models.ForeignKey(Genre, on_delete=models.PROTECT, related_name="books")
    pages = models.PositiveIntegerField(default=0)
    copies = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def available(self):
        return self.copies - self.loans.filter(returned_at__isnull=True).count()


class Loan(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="loans")
    member = models.CharField(max_length=120)
    borrowed_at = models.DateTimeField(default=timezone.now)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "returned_at"], name="loan_member_open")]

    @property
    def due(self):
        return self.borrowed_at + timedelta(days=settings.LOAN_DAYS)

    def is_overdue(self, now=None):
        return self.returned_at is None and (now or timezone.now()) > self.due
