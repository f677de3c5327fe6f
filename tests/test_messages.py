"""The protocol's typed dicts (messages.py) agree with protocol/protocol.schema.json: the same
message types, each with the same required and optional fields, sent or received by Python as
the schema's direction says."""

from __future__ import annotations

import json
import typing
from typing import Any, NotRequired, Required, get_args, get_origin, get_type_hints

from django_concurrent_test import messages
from helpers import REPO

SCHEMA = json.loads((REPO / "protocol" / "protocol.schema.json").read_text())
#: Objects inside messages that Python builds or reads field by field.
DEFINITIONS = {"testClass": messages.TestClassInfo, "pytestPayload": messages.PytestPayload}

Key = tuple[str, str | None]  # (type, role): the two hellos share a type


def fields(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    required = set(schema.get("required", []))
    return required, set(schema.get("properties", {})) - required


def typed_fields(cls: Any) -> tuple[set[str], set[str]]:
    required, optional = set(), set()
    for name, hint in get_type_hints(cls, include_extras=True).items():
        origin = get_origin(hint)
        is_required = origin is Required or (origin is not NotRequired and cls.__total__)
        (required if is_required else optional).add(name)
    return required, optional


def literal(cls: Any, field: str) -> str | None:
    hint = get_type_hints(cls).get(field)
    return get_args(hint)[0] if get_origin(hint) is typing.Literal else None


def schema_messages() -> dict[Key, tuple[dict[str, Any], bool]]:
    """(type, role) -> the message's schema and whether Python sends it (``-> engine``)."""
    found = {}
    for entry in SCHEMA["oneOf"]:
        properties = entry["properties"]
        kind = properties["type"]
        role = properties.get("role", {}).get("const")
        for name in [kind["const"]] if "const" in kind else kind["enum"]:
            found[(name, role)] = (entry, "-> engine" in entry["title"])
    return found


def typed_messages() -> dict[Key, Any]:
    found = {}
    for value in vars(messages).values():
        if typing.is_typeddict(value) and literal(value, "type") is not None:
            found[(literal(value, "type"), literal(value, "role"))] = value
    return found


def test_the_typed_dicts_have_the_schemas_message_types() -> None:
    assert sorted(typed_messages(), key=str) == sorted(schema_messages(), key=str)


def test_each_message_has_the_schemas_required_and_optional_fields() -> None:
    typed = typed_messages()
    for key, (schema, _) in schema_messages().items():
        assert typed_fields(typed[key]) == fields(schema), key


def test_the_objects_python_fills_in_have_the_schemas_fields() -> None:
    for name, cls in DEFINITIONS.items():
        assert typed_fields(cls) == fields(SCHEMA["definitions"][name]), name


def test_what_python_sends_and_receives_follows_the_schemas_directions() -> None:
    sent, received = set(get_args(messages.Sent)), set(get_args(messages.Received))
    typed = typed_messages()
    for key, (_, to_engine) in schema_messages().items():
        assert typed[key] in (sent if to_engine else received), key
        assert typed[key] not in (received if to_engine else sent), key
