from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=80, blank=True)
    newsletter = models.BooleanField(default=False)
    loyalty_points = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.public_name

    @property
    def public_name(self):
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    def add_points(self, amount):
        if amount <= 0:
            raise ValueError("points must be positive")
        self.loyalty_points += amount
        self.save(update_fields=["loyalty_points"])
        return self.loyalty_points


class Address(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(max_length=30, default="home")
    line1 = models.CharField(max_length=120)
    city = models.CharField(max_length=80)
    postcode = models.CharField(max_length=12)
    country = models.CharField(max_length=2)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "label"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["user", "label"], name="accounts_address_label_uniq"),
        ]

    def __str__(self):
        return f"{self.label}: {self.line1}, {self.city}"

    def make_primary(self):
        Address.objects.filter(user=self.user).exclude(pk=self.pk).update(is_primary=False)
        self.is_primary = True
        self.save(update_fields=["is_primary"])
