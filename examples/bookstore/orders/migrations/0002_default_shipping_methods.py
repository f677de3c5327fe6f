from decimal import Decimal

from django.db import migrations

METHODS = [
    # code, name, price, delivery days, is_default
    ("standard", "Standard", Decimal("4.99"), 5, True),
    ("express", "Express", Decimal("12.50"), 1, False),
]


def create_shipping_methods(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    db_alias = schema_editor.connection.alias
    for code, name, price, days, is_default in METHODS:
        ShippingMethod.objects.using(db_alias).get_or_create(
            code=code,
            defaults={
                "name": name,
                "price": price,
                "delivery_days": days,
                "is_default": is_default,
            },
        )


def remove_shipping_methods(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    db_alias = schema_editor.connection.alias
    ShippingMethod.objects.using(db_alias).filter(code__in=[m[0] for m in METHODS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_shipping_methods, remove_shipping_methods),
    ]
