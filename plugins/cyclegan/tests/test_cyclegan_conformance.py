"""ganzoo's conformance checks for every contribution of this distribution."""

from ganzoo.testing import conformance_tests

test_conformance = conformance_tests("ganzoo-cyclegan")
