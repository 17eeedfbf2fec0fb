"""A short class-conditional stylegan2-32 run, then what users do with it: labelled grids, truncation in W,
interpolation in W; and ADA, the config's augmentation, logging its probability."""

from __future__ import annotations

import json

import pytest

from ganzoo.cli import main
from ganzoo.testing import labelled_images, train
from ganzoo_stylegan2 import TEST_WIDTHS


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """Four steps of stylegan2-32 at test widths on 40 Fashion-MNIST-format images of 10 classes at 32x32."""
    folder = tmp_path_factory.mktemp("stylegan2")
    run = folder / "run"
    train(run, gan="stylegan2-32", dataset="fashion-mnist", conditional=True, steps=4, batch_size=8, log_every=1,
          dataset_options={**labelled_images(folder / "fashion"), "resolution": 32}, gan_options=TEST_WIDTHS)
    return run


def test_the_run_trains_with_ada_and_logs_its_probability(conditional_run):
    stats = [json.loads(line) for line in (conditional_run / "stats.jsonl").read_text().splitlines()]
    assert [record["step"] for record in stats] == [1, 2, 3, 4]
    assert all("ada_p" in record for record in stats)
    assert "ada_rt" in stats[3]  # the first adjustment, after 4 discriminator steps (the release's ada_interval)


def test_sample_draws_a_labelled_grid_truncated_in_w(conditional_run, tmp_path, capsys):
    picture = tmp_path / "grid.png"
    assert main(["sample", str(conditional_run), "--classes", "0,3", "-n", "4", "--psi", "0.5",
                 "-o", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "wrote 8 samples (4 per class)" in out and "W truncated by psi 0.5" in out and picture.is_file()


def test_interpolate_moves_between_w_codes_of_each_rows_class(conditional_run, tmp_path, capsys):
    picture = tmp_path / "paths.png"
    assert main(["interpolate", str(conditional_run), "--space", "w", "--rows", "2", "--steps", "4",
                 "--classes", "1,2", "-o", str(picture)]) == 0
    assert "wrote 2 linear paths in W of 4 steps" in capsys.readouterr().out and picture.is_file()
