"""Django's own sequential DiscoverRunner, recording each test's outcomes to a JSON file.

The integration tests compare what the concurrent runner reports with this, test by test.
"""

import json
import os
import unittest

from django.test.runner import DiscoverRunner

OUTCOMES_ENV = "RECORD_OUTCOMES"


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded = {}
        self.order = []

    def _record(self, test, outcome):
        self.recorded.setdefault(test.id(), []).append(outcome)

    def startTest(self, test):
        super().startTest(test)
        self.recorded.setdefault(test.id(), [])
        self.order.append(test.id())

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "success")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "expectedFailure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "unexpectedSuccess")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failure = issubclass(err[0], test.failureException)
            self._record(test, "failure" if failure else "error")

    def stopTestRun(self):
        super().stopTestRun()
        with open(os.environ[OUTCOMES_ENV], "w") as f:
            json.dump({"outcomes": self.recorded, "order": self.order}, f, indent=1)


class RecordingRunner(DiscoverRunner):
    def get_resultclass(self):
        return RecordingResult
