import pytest
from tags.models import Tag

pytestmark = pytest.mark.django_db


def test_the_column_is_case_insensitive():
    Tag.objects.create(name="Django")
    assert Tag.objects.get(name="DJANGO").name == "Django"


def test_the_setup_row_is_there_once():
    assert list(Tag.objects.values_list("name", flat=True)) == ["Seeded"]
    assert Tag.objects.filter(name="seeded").count() == 1


class TestMore:
    def test_unique_ignores_case(self):
        from django.db import IntegrityError, transaction

        Tag.objects.create(name="Python")
        with pytest.raises(IntegrityError), transaction.atomic():
            Tag.objects.create(name="PYTHON")

    def test_rolled_back_between_tests(self):
        assert not Tag.objects.filter(name="Django").exists()
