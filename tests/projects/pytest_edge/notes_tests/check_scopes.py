"""Fixtures of every scope, logged (see conftest.py) for the scope-count checks."""

import pytest
from notes.models import Note

from .conftest import log_setup


@pytest.fixture(scope="module")
def module_marker():
    log_setup("module", "check_scopes")


@pytest.fixture(scope="class")
def class_marker(request):
    log_setup("class", request.cls.__name__)


@pytest.mark.usefixtures("module_marker", "class_marker")
class TestFirst:
    def test_a(self):
        pass

    def test_b(self, package_marker):
        pass


@pytest.mark.usefixtures("module_marker", "class_marker")
class TestSecond:
    @pytest.mark.django_db
    def test_c(self):
        assert Note.objects.count() == 0

    def test_d(self):
        pass


def test_function(module_marker):
    pass
