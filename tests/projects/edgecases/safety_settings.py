"""edgesettings with the safety gate's inputs taken from the environment (tests/test_safety.py).

SAFETY_DATABASES: JSON {alias: {key: value}} merged over DATABASES (a new alias starts as a copy
of "default"; a TEST dict is merged too). JSON can carry what an environment variable cannot,
such as NUL characters in a name.
SAFETY_CONFIG: JSON merged over CONCURRENT_TEST_CONFIG; a null value removes the key.
SAFETY_DEBUG: "0" sets DEBUG = False.
"""

import json
import os

from edgesettings import *  # noqa: F403
from edgesettings import CONCURRENT_TEST_CONFIG, DATABASES

for _alias, _overrides in json.loads(os.environ.get("SAFETY_DATABASES", "{}")).items():
    _entry = DATABASES.setdefault(_alias, {**DATABASES["default"], "TEST": {}})
    _test = {**_entry.get("TEST", {}), **_overrides.pop("TEST", {})}
    _entry.update(_overrides)
    _entry["TEST"] = _test

for _key, _value in json.loads(os.environ.get("SAFETY_CONFIG", "{}")).items():
    if _value is None:
        CONCURRENT_TEST_CONFIG.pop(_key, None)
    else:
        CONCURRENT_TEST_CONFIG[_key] = _value

if os.environ.get("SAFETY_DEBUG") == "0":
    DEBUG = False
