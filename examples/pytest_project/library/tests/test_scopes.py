"""Fixtures at every scope. The assertions hold however the tests are distributed; the
exact setup counts per scope are checked by the repository's own tests."""

import os

import pytest

from shelf.testing import SETUPS, count_setup


@pytest.fixture(scope="module")
def module_resource():
    run = count_setup("module_resource")
    yield {"run": run, "users": set()}
    SETUPS["module_resource_torn_down"] = SETUPS.get("module_resource_torn_down", 0) + 1


@pytest.fixture(autouse=True)
def count_users(request, module_resource):
    module_resource["users"].add(request.node.name)


def test_module_fixture(module_resource):
    assert module_resource["run"] >= 1
    assert "test_module_fixture" in module_resource["users"]


def test_session_fixture_belongs_to_this_process(process_run):
    assert process_run["pid"] == os.getpid()


def test_package_fixture(isbn_prefix):
    assert isbn_prefix == "978"


@pytest.mark.django_db
def test_user_django_db_setup_override_ran():
    assert SETUPS["django_db_setup"] >= 1


class TestModuleFixtureInClass:
    def test_same_module_fixture(self, module_resource):
        assert "test_same_module_fixture" in module_resource["users"]
