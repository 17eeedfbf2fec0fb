"""ganzoo's conformance checks for the core's own contributions: its data sets, algorithm and metric suites."""

from ganzoo.testing import conformance_tests

test_conformance = conformance_tests("ganzoo-core")
