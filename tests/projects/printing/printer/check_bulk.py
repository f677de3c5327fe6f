"""pytest's captured output of a test writing BULK_OUTPUT_MB megabytes (default none); it fails
when BULK_OUTPUT_FAIL is set."""

import os
import sys

CHUNK = "x" * 1023 + "\n"


def test_bulk():
    for _ in range(int(float(os.environ.get("BULK_OUTPUT_MB", "0")) * 512)):
        sys.stdout.write(CHUNK)
        sys.stderr.write(CHUNK)
    sys.stdout.write("BULK-END-stdout\n")
    assert not os.environ.get("BULK_OUTPUT_FAIL"), "BULK-FAILED"


def test_quiet():
    pass
