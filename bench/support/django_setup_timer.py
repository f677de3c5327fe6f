"""Django's own test-database setup for N workers, timed: what DiscoverRunner.setup_databases
does before a --parallel N run (create_test_db, then clone_test_db once per worker, serially).

    DJANGO_SETTINGS_MODULE=... python django_setup_timer.py N KEEPDB(0|1)

Prints {"seconds": ...} on its last line; with KEEPDB=0 the databases are destroyed afterwards.
"""

import json
import sys
import time

import django

django.setup()

from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

workers, keepdb = int(sys.argv[1]), sys.argv[2] == "1"
setup_test_environment()
start = time.perf_counter()
old = setup_databases(
    0,
    False,
    keepdb=keepdb,
    parallel=workers,
    aliases={"default", "other"},
    serialized_aliases=set(),
)
seconds = time.perf_counter() - start
teardown_databases(old, 0, parallel=workers, keepdb=keepdb)
print(json.dumps({"seconds": round(seconds, 4)}))
