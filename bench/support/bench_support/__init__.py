"""Copied into every generated benchmark workload: how the harness reads each contestant's
per-test outcomes and timings without changing how the contestant runs the tests."""
