"""Random erasing (``RunConfig.erase``) checked against torchvision.

The boxes are fcnbook's own draws (one PCG64 stream per member); what is checked against torchvision is (a) that
erasing a drawn box gives exactly ``torchvision.transforms.v2.functional.erase`` of that box, image by image,
alone and after the shifts and flips, (b) that the vectorised box rule is torchvision's ``RandomErasing.get_params``
loop read number by number, and that its boxes are distributed like torchvision's own, and (c) the stream
discipline: a fixed count of numbers per image, independent members, nothing drawn when erasing is off.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torchvision.transforms import RandomErasing
from torchvision.transforms.v2 import functional as TF

from fcnbook.config import RunConfig
from fcnbook.training.augment import Augmenter
from fcnbook.training.erasing import DRAWS_PER_IMAGE, TRIES, draw_boxes, erase
from fcnbook.training.fit import fit
from synthetic import make_splits

SCALE, RATIO = (0.02, 0.33), (0.3, 3.3)  # torchvision's defaults, and RunConfig's
BACKGROUND = -0.4242


def images(S: int, b: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(S, b, 784, generator=torch.Generator().manual_seed(seed))


def plain_shift(image: torch.Tensor, dy: int, dx: int, flip: bool, background: float) -> torch.Tensor:
    """One 28x28 image moved by (dy, dx) with slices, mirrored first (as tests/test_oracle.py spells it)."""
    img = image.view(28, 28).flip(1) if flip else image.view(28, 28)
    out = torch.full_like(img, background)
    out[max(dy, 0) : 28 + min(dy, 0), max(dx, 0) : 28 + min(dx, 0)] = \
        img[max(-dy, 0) : 28 + min(-dy, 0), max(-dx, 0) : 28 + min(-dx, 0)]
    return out


@pytest.mark.parametrize("kind", ["none", "shift", "shift_flip"])
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_erased_batch_equals_torchvision_erase_of_the_drawn_boxes_image_by_image(kind, p):
    S, b, seeds = 3, 64, [11, 12, 13]
    x = images(S, b)
    out = Augmenter(seeds, kind, 2, BACKGROUND, erase=p)(x)
    twin = Augmenter(seeds, kind, 2, BACKGROUND, erase=p)  # the same streams: the same numbers, in the same order
    dy, dx, flip = twin.draw(b) if kind != "none" else (np.zeros((S, b), dtype=np.int64),) * 3
    boxes = twin.draw_erasing(b, 28)
    erased = 0
    for s in range(S):
        for i in range(b):
            img = plain_shift(x[s, i], int(dy[s, i]), int(dx[s, i]), bool(flip[s, i]), BACKGROUND)
            top, left, h, w = (int(v) for v in boxes[s, i])
            if h:
                img = TF.erase(img[None], top, left, h, w, v=torch.tensor(BACKGROUND))[0]
                erased += 1
            assert torch.equal(out[s, i].view(28, 28), img), (s, i)
    assert erased > (0.95 if p == 1 else 0.3) * S * b  # the test did erase (p = 1: all but the rare no-fit images)


def scalar_boxes(rng: np.random.Generator, b: int, side: int, p: float, scale, ratio) -> list[tuple]:
    """The boxes of :func:`draw_boxes`, one image at a time, with torchvision's loop and Python's round()."""
    coin = rng.random(b)
    area_u = rng.uniform(scale[0], scale[1], size=(b, TRIES))
    log_r = rng.uniform(math.log(ratio[0]), math.log(ratio[1]), size=(b, TRIES))
    corner = rng.random((b, 2))
    out = []
    for i in range(b):
        box = (0, 0, 0, 0)
        if coin[i] < p:  # RandomErasing.forward: `if torch.rand(1) < self.p`
            for t in range(TRIES):
                erase_area = side * side * area_u[i, t]
                aspect_ratio = math.exp(log_r[i, t])
                h = int(round(math.sqrt(erase_area * aspect_ratio)))
                w = int(round(math.sqrt(erase_area / aspect_ratio)))
                if not (h < side and w < side):
                    continue
                box = (int(corner[i, 0] * (side - h + 1)), int(corner[i, 1] * (side - w + 1)), h, w)
                break
        out.append(box)
    return out


@pytest.mark.parametrize("p,scale,ratio", [(0.5, SCALE, RATIO), (1.0, (0.3, 0.9), (0.2, 5.0)),
                                           (1.0, (0.05, 0.05), (1.0, 1.0))])
def test_vectorised_boxes_follow_torchvisions_loop_number_by_number(p, scale, ratio):
    b = 500
    got = draw_boxes(np.random.Generator(np.random.PCG64(3)), b, 28, p, scale, ratio)
    want = scalar_boxes(np.random.Generator(np.random.PCG64(3)), b, 28, p, scale, ratio)
    assert [tuple(int(v) for v in row) for row in got] == want
    if scale == (0.3, 0.9):  # large boxes: some images find no fitting box in ten tries and stay whole
        assert 0 < sum(h == 0 for _, _, h, _ in want) < b


def test_boxes_are_distributed_like_torchvisions():
    n, side = 4000, 28
    torch.manual_seed(0)
    img = torch.zeros(1, side, side)
    tv = np.array([RandomErasing.get_params(img, SCALE, RATIO, value=[0.0])[:4] for _ in range(n)], dtype=float)
    ours = draw_boxes(np.random.Generator(np.random.PCG64(0)), n, side, 1.0, SCALE, RATIO).astype(float)
    for col, name in enumerate(("top", "left", "height", "width")):
        assert ours[:, col].mean() == pytest.approx(tv[:, col].mean(), abs=0.35), name
    area = ours[:, 2] * ours[:, 3] / side**2
    assert area.min() > 0.01 and area.max() < 0.40  # the scale range, up to rounding of h and w
    assert (ours[:, 0] + ours[:, 2] <= side).all() and (ours[:, 1] + ours[:, 3] <= side).all()


def test_each_image_draws_a_fixed_count_of_numbers():
    b = 37
    rng, ref = (np.random.Generator(np.random.PCG64(9)) for _ in range(2))
    draw_boxes(rng, b, 28, 0.3, SCALE, RATIO)
    ref.random(DRAWS_PER_IMAGE * b)  # uniform() and random() take one double each
    assert rng.bit_generator.state == ref.bit_generator.state


def test_without_erasing_the_augmenter_draws_exactly_what_it_drew_before():
    """erase=0 adds no draw: the shifts' stream, and so every stored shifted run, is unchanged."""
    b, k = 50, 2
    aug = Augmenter([4, 5], "shift_flip", k, BACKGROUND, erase=0.0)
    aug(images(2, b))
    for seed, state in zip([4, 5], aug.states, strict=True):
        ref = np.random.Generator(np.random.PCG64(seed))
        ref.integers(-k, k + 1, size=2 * b)
        ref.integers(0, 2, size=b)
        assert state == ref.bit_generator.state


def test_members_draw_their_own_boxes_and_a_stack_member_equals_a_lone_one():
    x = images(3, 40)
    stacked = Augmenter([1, 2, 3], "shift", 2, BACKGROUND, erase=0.7)(x)
    for s, seed in enumerate([1, 2, 3]):
        lone = Augmenter([seed], "shift", 2, BACKGROUND, erase=0.7)(x[s : s + 1])
        assert torch.equal(stacked[s], lone[0])
    assert not torch.equal(stacked[0], Augmenter([2], "shift", 2, BACKGROUND, erase=0.7)(x[:1])[0])


def test_erase_keeps_dtype_and_device_and_refuses_bad_shapes():
    x = images(2, 5).to(torch.bfloat16)
    boxes = np.array([[[1, 2, 3, 4]] * 5] * 2)
    out = erase(x, boxes, BACKGROUND)
    assert out.dtype == torch.bfloat16 and out.shape == x.shape
    assert (out.view(2, 5, 28, 28)[:, :, 1:4, 2:6] == torch.tensor(BACKGROUND, dtype=torch.bfloat16)).all()
    with pytest.raises(ValueError, match="x must be"):
        erase(x, boxes[:, :3], BACKGROUND)


@pytest.mark.parametrize("kwargs,match", [
    ({"kind": "none", "erase": 0.0}, "kind='none' needs erase"),
    ({"kind": "shift", "erase": 1.5}, "erase must be"),
    ({"kind": "rotate", "erase": 0.5}, "kind must be"),
])
def test_augmenter_refuses_bad_settings_in_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Augmenter([0], max_shift=2, background=0.0, **kwargs)


@pytest.mark.parametrize("args,match", [((1.5, SCALE, RATIO), "p must be"), ((0.5, (0.3, 0.1), RATIO), "scale must"),
                                        ((0.5, SCALE, (0.0, 1.0)), "ratio must")])
def test_draw_boxes_refuses_bad_ranges(args, match):
    with pytest.raises(ValueError, match=match):
        draw_boxes(np.random.Generator(np.random.PCG64(0)), 4, 28, *args)


def test_fit_with_erasing_trains_differently_and_stacks_like_lone_runs():
    data = make_splits(n_train=600, n_val=200, n_test=200)
    config = RunConfig(hidden=(64, 32), batch_size=64, epochs=2, augment="shift_flip", erase=0.5)
    plain = fit(config.replace(erase=0.0), 0, data=data, progress=False)
    stacked = fit(config, [0, 1], data=data, progress=False)
    assert stacked[0].history["running_loss"] != plain.history["running_loss"]  # erasing is applied...
    lone = fit(config, 1, data=data, progress=False)  # ...from each member's own stream
    assert stacked[1].history["val_loss"] == pytest.approx(lone.history["val_loss"], abs=1e-5)
    assert stacked[1].test_predictions == lone.test_predictions
    only_erase = fit(config.replace(augment="none"), 0, data=data, progress=False)  # erasing without shifts
    assert only_erase.history["running_loss"] != plain.history["running_loss"]
