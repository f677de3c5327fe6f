"""The Python side of the protocol against its one definition and the shared examples."""

from __future__ import annotations

import json
import socket
import unittest
from typing import Any

import django
import jsonschema
import pytest
from django.conf import settings

from helpers import REPO

if not settings.configured:
    settings.configure(DATABASES={}, INSTALLED_APPS=[])
    django.setup()

from django_concurrent_test.protocol import PROTOCOL_VERSION, Channel
from django_concurrent_test.results import make_result

PROTOCOL = REPO / "protocol"
SCHEMA = json.loads((PROTOCOL / "protocol.schema.json").read_text())
EXAMPLES = [json.loads(line) for line in (PROTOCOL / "examples.jsonl").read_text().splitlines()]


def valid(message: dict[str, Any]) -> None:
    jsonschema.validate(message, SCHEMA)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["type"] for e in EXAMPLES])
def test_examples_are_valid(example):
    valid(example)


def test_python_speaks_the_schema_version():
    assert PROTOCOL_VERSION == 3 and SCHEMA["$id"].endswith("/3")


def test_channel_round_trips_the_examples():
    a, b = socket.socketpair()
    sender, receiver = Channel(a), Channel(b)
    for example in EXAMPLES:
        sender.send(example)
    assert [receiver.recv() for _ in EXAMPLES] == EXAMPLES
    a.close()
    b.close()


class Sample(unittest.TestCase):
    __test__ = False  # run by the tests below through the streaming result, not by pytest

    def test_ok(self):
        pass

    def test_fail(self):
        print("to stdout")
        self.assertEqual(1, 2)

    def test_error(self):
        raise KeyError("k")

    @unittest.skip("why not")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        raise AssertionError

    @unittest.expectedFailure
    def test_xpass(self):
        pass

    def test_subtests(self):
        for i in range(2):
            with self.subTest(i=i):
                self.assertEqual(i, 0)


@pytest.mark.parametrize("debug_sql", [False, True])
def test_streamed_results_are_valid_messages(debug_sql):
    sent: list[dict[str, Any]] = []
    result = make_result(sent.append, 3, buffer=True, failfast=False, debug_sql=debug_sql)
    unittest.TestLoader().loadTestsFromTestCase(Sample).run(result)
    for message in sent:
        valid(message)
    outcomes = {(m["test"], m["outcome"]) for m in sent if m["type"] == "outcome"}
    prefix = f"{__name__}.Sample."
    assert (prefix + "test_ok", "success") in outcomes
    assert (prefix + "test_fail", "failure") in outcomes
    assert (prefix + "test_error", "error") in outcomes
    assert (prefix + "test_skip", "skip") in outcomes
    assert (prefix + "test_xfail", "expectedFailure") in outcomes
    assert (prefix + "test_xpass", "unexpectedSuccess") in outcomes
    sub = [m for m in sent if m.get("parent") == prefix + "test_subtests"]
    assert [m["outcome"] for m in sub] == ["failure"]
    failing = next(m for m in sent if m["type"] == "outcome" and m["test"] == prefix + "test_fail")
    assert "to stdout" in failing["traceback"]  # --buffer output travels with the failure
