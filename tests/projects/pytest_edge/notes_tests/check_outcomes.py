"""Every kind of pytest outcome, on purpose."""

import warnings

import pytest
from notes.models import Note


def add(a, b):
    return a + b


def test_passes():
    assert add(1, 1) == 2


def test_assertion_is_rewritten():
    assert add(1, 1) == 3


def test_raises_error():
    raise ValueError("boom from test_raises_error")


@pytest.fixture
def broken_setup():
    raise RuntimeError("fixture setup exploded")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("fixture teardown exploded")


def test_setup_error(broken_setup):
    pass


def test_teardown_error(broken_teardown):
    pass


def test_skipped():
    pytest.skip("not today")


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert 1 + 1 == 3


@pytest.mark.xfail(reason="fixed already")
def test_xpass():
    pass


@pytest.mark.xfail(reason="fixed already", strict=True)
def test_xpass_strict():
    pass


def test_prints_then_fails():
    print("captured stdout of a failing test")
    assert Note.__name__ == "Nope"


def test_warns():
    warnings.warn("an edge-case warning", UserWarning, stacklevel=1)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_parametrized(n):
    assert n != 2


@pytest.mark.slow
@pytest.mark.django_db
def test_marked_slow():
    Note.objects.create(text="slow")
    assert Note.objects.count() == 1


@pytest.mark.django_db
def test_database_failure():
    Note.objects.create(text="one")
    assert Note.objects.count() == 2
