"""Distillation from the teacher's outputs on each augmented image (``distill_views="augmented"``): the tabulated
views against a plain teacher on plainly shifted images, the augmenter's view numbers against the images it made,
``fit`` against a plain loop that evaluates the teacher on every augmented mini-batch, and the runner's table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_distill import TEACHER, distill_oracle, plain_teacher, synthetic_store  # noqa: F401 (a fixture)
from test_oracle import ATOL, max_abs, plain_shift

from fcnbook.config import RunConfig
from fcnbook.store import runner
from fcnbook.training import distill
from fcnbook.training.augment import Augmenter, view_offsets
from fcnbook.training.fit import fit
from fcnbook.training.model import FCN
from synthetic import make_splits


def bn_teacher(seeds=(3, 4, 5)) -> FCN:
    """A stacked teacher with batch norm whose running statistics are off their initial values (eval mode shows)."""
    teacher = FCN(TEACHER.replace(batch_norm=True), list(seeds))
    with torch.no_grad():
        teacher.running_mean_0.normal_(0, 0.3)
    return teacher


@pytest.mark.parametrize("k,flips", [(2, True), (1, False)])
def test_view_table_equals_a_plain_teacher_on_each_plainly_shifted_image(k, flips):
    x = torch.randn(40, 784, generator=torch.Generator().manual_seed(1))
    background = x.min().item()
    teacher = bn_teacher()
    student = TEACHER.replace(augment="shift_flip" if flips else "shift", max_shift=k, teacher="0123456789abcdef",
                              distill_weight=0.5, distill_temperature=2.0, distill_views="augmented")
    table = distill.teacher_view_log_probs(teacher, x, student, background)
    assert table.shape == (40, student.soft_label_views(), 10) == (40, (2 * k + 1) ** 2 * (2 if flips else 1), 10)
    members = [teacher.member(s) for s in range(3)]
    seen = set()
    for v in range(table.shape[1]):
        dy, dx, flip = view_offsets(v, k, flips)
        seen.add((dy, dx, flip))
        images = torch.stack([plain_shift(im, dy, dx, bool(flip), background) for im in x])
        assert max_abs(table[:, v], plain_teacher(members, images, 2.0)) < 1e-5, (dy, dx, flip)
    assert len(seen) == table.shape[1]  # every offset (and flip) once


def test_the_augmenters_view_numbers_name_the_views_it_made():
    x = torch.randn(2, 64, 784, generator=torch.Generator().manual_seed(2))
    augmenter = Augmenter([11, 12], "shift_flip", 2, background=-1.0)
    out = augmenter(x)
    views = augmenter.views.numpy()
    assert views.shape == (2, 64) and len(np.unique(views)) > 20
    for s in range(2):
        for i in range(64):
            dy, dx, flip = view_offsets(int(views[s, i]), 2, True)
            assert torch.equal(out[s, i], plain_shift(x[s, i], dy, dx, bool(flip), -1.0))


def test_fit_on_the_view_table_equals_a_plain_loop_that_evaluates_the_teacher_on_every_batch():
    data = make_splits(n_train=1000, n_val=200, n_test=200)
    teacher = bn_teacher()
    config = TEACHER.replace(hidden=(48, 24), augment="shift_flip", teacher="0123456789abcdef", distill_weight=0.7,
                             distill_temperature=3.0, distill_views="augmented")
    table = distill.teacher_view_log_probs(teacher, data.x_train, config, data.x_train.min().item())
    results = fit(config, [0, 1], data=data, progress=False, device="cpu", teacher=table)
    members = [teacher.member(s) for s in range(3)]
    for r in results:
        want = distill_oracle(config, r.seed, data, members=members)
        for key, values in want["history"].items():
            assert max_abs(r.history[key], values) <= ATOL[torch.float32], key
        assert r.test_predictions == want["test_predictions"]
    clean = distill.teacher_log_probs(teacher, data.x_train, 3.0)
    other = fit(config.replace(distill_views="clean"), 0, data=data, progress=False, device="cpu", teacher=clean)
    assert other.history["val_loss"] != results[0].history["val_loss"]  # the views did change training


def test_fit_refuses_a_clean_table_for_augmented_views_before_training():
    config = TEACHER.replace(augment="shift", max_shift=1, teacher="0123456789abcdef", distill_weight=0.5,
                             distill_views="augmented")
    with pytest.raises(ValueError, match=r"teacher must be \(1000, 9, 10\) log-probabilities for "
                                         "distill_views='augmented'"):
        fit(config, 0, data=make_splits(n_train=1000), progress=False, teacher=torch.zeros(1000, 10))


def test_runner_tabulates_the_views_of_a_stored_teacher(synthetic_store, tmp_path):  # noqa: F811 (the fixture)
    splits, trained = synthetic_store
    runner.run(TEACHER, [0, 1], progress=False, keep_weights=True)
    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, augment="shift", max_shift=1, teacher=TEACHER.key(),
                        teacher_seeds=(0, 1), distill_weight=0.5, distill_views="augmented")
    log = []
    runner.run(student, [2], progress=False, log=log.append)
    assert trained[-1] == (student.key(), [2], False)
    assert any(line.startswith("tabulated the teacher's outputs on 9 views of 1000 training images: ")
               for line in log)
