"""fcnbook.stats' report statistics: the one prediction interval, Holm's adjustment, McNemar seed by seed, the
confusion matrix; and the rule that every chapter sets a single run against that one interval."""

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fcnbook.report.text import prediction_interval_method
from fcnbook.stats.confusion import confusion_matrix, most_confused, per_class_accuracy
from fcnbook.stats.multiplicity import holm
from fcnbook.stats.prediction import prediction_interval, single_run
from fcnbook.stats.seed_pairs import mcnemar_by_seed

ROOT = Path(__file__).resolve().parents[1]
ROW1 = [0.8619, 0.8755, 0.8627, 0.8543, 0.8607]  # the baseline's five seeds in the shipped store


def test_plain_prediction_interval_is_t_with_sqrt_one_plus_one_over_n():
    x = [0.49, 0.50, 0.51, 0.50, 0.50]
    pi = prediction_interval(x, test_noise=False)
    s = np.std(x, ddof=1)
    assert pi.df == 4 and pi.high - pi.mean == pytest.approx(stats.t.ppf(0.975, 4) * s * math.sqrt(1.2))
    assert (pi.high - pi.mean) / s == pytest.approx(3.04, abs=0.005)  # the +-3.04 s of n = 5
    t = single_run(x, 0.52, test_noise=False)
    assert t.z == pytest.approx((0.5 - 0.52) / (s * math.sqrt(1.2)))
    assert t.p == pytest.approx(2 * stats.t.sf(abs(t.z), 4))


def test_the_test_set_term_only_widens_the_interval():
    """n - 1 degrees of freedom with the added term: conservative, never narrower than the plain t interval
    (Welch-Satterthwaite degrees of freedom made row 1's half-width 0.0229 against the plain 0.0234)."""
    plain, ours = prediction_interval(ROW1, test_noise=False), prediction_interval(ROW1)
    assert ours.df == plain.df == 4
    assert ours.se ** 2 == pytest.approx(plain.se ** 2 + ours.mean * (1 - ours.mean) / 10_000)
    assert (plain.high - plain.mean) == pytest.approx(0.0234, abs=1e-4)
    assert ours.high - ours.mean > plain.high - plain.mean
    assert (ours.low, ours.high) == pytest.approx((0.8377, 0.8884), abs=1e-4)
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.normal(rng.uniform(0.5, 0.95), rng.uniform(0.0005, 0.03), rng.integers(2, 8))
        a, b = prediction_interval(x, test_noise=False), prediction_interval(x)
        assert b.high - b.mean >= a.high - a.mean and single_run(x, 0.9).p >= single_run(x, 0.9, test_noise=False).p


def test_inside_exactly_when_p_at_least_alpha_and_edge_cases():
    t = single_run(ROW1, 0.8764)
    assert t.inside and t.interval.low <= 0.8764 <= t.interval.high
    far = single_run(ROW1, 0.80)
    assert far.inside is False and not far.interval.low <= 0.80 <= far.interval.high
    one = single_run([0.8], 0.8)
    assert math.isnan(one.p) and one.inside is None and not one.interval.defined
    assert prediction_interval([0.1] * 5).df == 4 and prediction_interval([0.1] * 5).defined  # the term alone
    assert not prediction_interval([1.0] * 5).defined  # no spread at all
    assert prediction_interval([0.2, 0.8]).low == 0.0  # clipped to [0, 1]


def test_the_method_paragraph_states_the_construction():
    text = prediction_interval_method(0.95, 5)
    assert "\\pm 3.04\\,s" in text and "degrees of freedom stay $n - 1$" in text and "conservative" in text
    assert "86 %" in text and "10\\,000" in text and "Welch" not in text


def test_holm_matches_statsmodels_and_keeps_nans():
    got = holm([0.01, 0.04, 0.03, np.nan])
    np.testing.assert_allclose(got[:3], [0.03, 0.06, 0.06])
    assert np.isnan(got[3]) and list(holm([0.5, 0.9])) == [1.0, 1.0] and np.isnan(holm([np.nan])).all()
    five = holm([0.022691, 0.296586, 0.853160, 0.381897, 0.373507])  # the initialisation chapter's family
    assert five[0] == pytest.approx(0.1135, abs=1e-4)


def test_mcnemar_seed_by_seed_counts_directions():
    y = np.zeros(200, dtype=int)
    a = np.zeros((3, 200), dtype=int)
    b = a.copy()
    b[0, :40] = 1  # seed 0: a right on 40 images b gets wrong -> significant for a
    b[1, :3] = 1  # seed 1: 3 discordant -> not significant
    a[2, :30] = 1  # seed 2: b better
    m = mcnemar_by_seed(a, b, y)
    assert m.n == 3 and m.only_a == (40, 3, 0) and m.only_b == (0, 0, 30)
    assert m.favour_a == 1 and m.favour_b == 1 and m.p[1] > 0.05
    with pytest.raises(ValueError, match="pair up"):
        mcnemar_by_seed(a, b[:2], y)


def test_confusion_statistics():
    y = np.array([0, 1, 1, 2])
    preds = np.array([[0, 1, 2, 2], [0, 1, 1, 2]])
    cm = confusion_matrix(y, preds, 3)
    assert cm[1].tolist() == [0, 0.75, 0.25] and confusion_matrix(y, preds[0], 3, normalize=False)[1, 2] == 1
    assert most_confused(cm, ["a", "b", "c"], top=1).iloc[0].tolist() == ["b", "c", 0.25]
    assert per_class_accuracy(y, preds, ["a", "b", "c"]).loc["b", "accuracy (mean)"] == 0.75
    # against sklearn's per-class recall, seed by seed; a class with no images is NaN, without a warning
    from sklearn.metrics import recall_score

    per = per_class_accuracy(y, preds, ["a", "b", "c"])
    want = np.array([recall_score(y, p, labels=[0, 1, 2], average=None, zero_division=np.nan) for p in preds])
    assert np.allclose(per["accuracy (mean)"], want.mean(axis=0)) and np.allclose(per["SD"], want.std(0, ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = per_class_accuracy([0, 0, 1], [[0, 1, 1], [0, 0, 1]], ["a", "b", "c"])
    assert np.isnan(empty.loc["c"]).all() and empty.loc["a", "accuracy (mean)"] == 0.75


def test_no_chapter_has_its_own_single_run_yardstick():
    """Single runs are set against :func:`fcnbook.stats.prediction.single_run` only: no chapter or notebook speaks
    of "the range of our seeds" or builds a prediction interval of its own."""
    sources = [*(ROOT / "src" / "fcnbook" / "report").rglob("*.py"), *(ROOT / "notebooks").glob("*.py")]
    for path in sources:
        code = path.read_text()
        assert "range of our seeds" not in code, path
        assert not re.search(r"sqrt\(1 \+ 1 ?/ ?n\)", code) or path.name == "text.py", path
        assert not re.search(r"def prediction_(interval|test)\(", code), path
