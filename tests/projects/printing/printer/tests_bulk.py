"""One test writing a great deal (BULK_OUTPUT_MB megabytes, default none) to stdout and stderr;
it fails when BULK_OUTPUT_FAIL is set."""

import os
import sys

from django.test import SimpleTestCase

CHUNK = "x" * 1023 + "\n"


class BulkOutputTests(SimpleTestCase):
    def test_bulk(self):
        megabytes = float(os.environ.get("BULK_OUTPUT_MB", "0"))
        for _ in range(int(megabytes * 512)):
            sys.stdout.write(CHUNK)
            sys.stderr.write(CHUNK)
        sys.stdout.write("BULK-END-stdout\n")
        if os.environ.get("BULK_OUTPUT_FAIL"):
            self.fail("BULK-FAILED")

    def test_quiet(self):
        pass
