"""The plugin authors' kit: short runs and conformance checks for a plugin's own tests.

In a plugin's test suite::

    from ganzoo.testing import conformance_tests, train

    test_conformance = conformance_tests("ganzoo-mine")  # every check, one test case each

    def test_it_trains(tmp_path):
        run = train(tmp_path / "run", gan="my-gan", steps=10)
        assert run.step == 10
"""

from ganzoo.testing.conformance import Check, Skipped, checks_for, conformance_tests
from ganzoo.testing.runs import labelled_images, quick_config, resolved_config, train, trainer

__all__ = ["Check", "Skipped", "checks_for", "conformance_tests", "labelled_images", "quick_config", "resolved_config",
           "train", "trainer"]
