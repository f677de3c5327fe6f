from decimal import ROUND_HALF_UP, Decimal

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Author(models.Model):
    name = models.CharField(max_length=120)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="catalog_author_name_idx")]

    def __str__(self):
        return self.name


class BookQuerySet(models.QuerySet):
    def available(self):
        return self.filter(is_available=True)

    def in_category(self, slug):
        return self.filter(category__slug=slug)


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField("ISBN-13", max_length=13, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="books")
    authors = models.ManyToManyField(Author, related_name="books", blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    published = models.DateField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    is_available = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BookQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["category", "published"], name="catalog_book_cat_pub_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["title", "category"], name="catalog_book_title_cat_uniq"
            ),
        ]

    def __str__(self):
        return self.title

    def discounted_price(self, percent):
        """The price after a percentage discount, rounded to cents."""
        factor = (Decimal(100) - Decimal(percent)) / Decimal(100)
        return (self.price * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def as_dict(self):
        return {
            "title": self.title,
            "isbn": self.isbn,
            "category": self.category.slug,
            "price": str(self.price),
            "authors": [author.name for author in self.authors.all()],
            "pages": self.pages,
        }
