"""Classes without module fixtures: each class is its own group."""

import pytest
from django.test import TestCase, TransactionTestCase
from notes.models import Note

from .conftest import log_setup


@pytest.fixture(scope="class")
def class_marker(request):
    log_setup("class", request.cls.__name__)


@pytest.mark.usefixtures("class_marker")
class TestPlainClass:
    def test_one(self):
        pass

    def test_two(self):
        pass


class NoteTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        log_setup("class", "NoteTests")
        cls.note = Note.objects.create(text="hello")

    def test_note(self):
        self.assertEqual(Note.objects.get().text, "hello")

    def test_fails(self):
        self.assertEqual(self.note.text, "goodbye")


class FlushTests(TransactionTestCase):
    def test_empty(self):
        self.assertFalse(Note.objects.exists())
