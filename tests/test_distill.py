"""Knowledge distillation (``RunConfig.teacher``): the loss and the soft labels against plain torch, ``fit`` against
a plain loop with that loss, the safetensors weight store, and the runner training a missing teacher first."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from test_oracle import ATOL, max_abs, plain_evaluate, plain_network, plain_optimizer, plain_shift

from fcnbook.config import RunConfig
from fcnbook.store import records as store
from fcnbook.store import runner, weights
from fcnbook.store.cache import CacheWarning
from fcnbook.training import distill
from fcnbook.training import fit as train
from fcnbook.training.augment import Augmenter
from fcnbook.training.fit import fit
from fcnbook.training.model import FCN
from fcnbook.training.setup import stream_seeds, train_probe
from synthetic import make_splits

TEACHER = RunConfig(hidden=(64,), batch_size=100, epochs=2, optimizer="adam", lr=1e-3)


def plain_distill_loss(logits, labels, teacher_log_p, T, w, label_smoothing=0.0):
    """What a reader writes for one network: Hinton et al.'s loss with F.kl_div (log_target) and batchmean."""
    ce = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    kl = F.kl_div(F.log_softmax(logits / T, dim=1), teacher_log_p, log_target=True, reduction="batchmean")
    return (1 - w) * ce + w * T * T * kl


@pytest.mark.parametrize("T,w,ls", [(4.0, 0.5, 0.0), (1.0, 1.0, 0.0), (2.5, 0.3, 0.1)])
def test_loss_equals_plain_torch_per_member(T, w, ls):
    g = torch.Generator().manual_seed(0)
    S, b, C = 3, 17, 10
    logits = torch.randn(S, b, C, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, C, (S, b), generator=g)
    teacher = F.log_softmax(torch.randn(S, b, C, generator=g, dtype=torch.float64) * 2 / T, dim=-1)
    ce = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none", label_smoothing=ls).view(S, b)
    got = distill.loss(ce, logits, teacher, T, w)
    for s in range(S):
        want = plain_distill_loss(logits[s], labels[s], teacher[s], T, w, ls)
        assert got[s].item() == pytest.approx(want.item(), abs=1e-12)
        # and the KL term is the textbook sum of p_t * (log p_t - log q)
        p_t, log_q = teacher[s].exp(), F.log_softmax(logits[s] / T, dim=1)
        kl = (p_t * (teacher[s] - log_q)).sum(1).mean()
        assert got[s].item() == pytest.approx(((1 - w) * ce[s].mean() + w * T * T * kl).item(), abs=1e-12)


def test_soft_labels_are_the_log_of_the_members_mean_tempered_softmax():
    x = torch.randn(300, 784, generator=torch.Generator().manual_seed(1))
    teacher = FCN(TEACHER.replace(batch_norm=True), [3, 4, 5])
    with torch.no_grad():  # batch-norm statistics away from their initial values, so evaluation mode matters
        teacher.running_mean_0.normal_(0, 0.3)
    got = distill.teacher_log_probs(teacher, x, 3.0)
    want = plain_teacher([teacher.member(s) for s in range(3)], x, 3.0)  # plain nn.Sequential, eval mode
    assert got.shape == (300, 10) and max_abs(got, want) < 1e-5


def plain_teacher(members, x: torch.Tensor, T: float) -> torch.Tensor:
    """The log of the members' mean tempered softmax on ``x``: plain ``nn.Sequential`` networks in eval mode."""
    with torch.no_grad():
        return torch.stack([F.softmax(m(x) / T, dim=1) for m in members]).mean(0).log()


def distill_oracle(config: RunConfig, seed: int, data, soft: torch.Tensor | None = None, members=None) -> dict:
    """The textbook loop of tests/test_oracle.py with :func:`plain_distill_loss`: the soft labels are the rows
    ``soft`` of the mini-batch's images, or the teacher ``members`` evaluated on each (augmented) mini-batch."""
    net, _ = plain_network(config, seed, data.x_train.shape[1])
    optimizer = plain_optimizer(config, net.parameters())
    order = torch.Generator().manual_seed(stream_seeds(seed)[1])
    draws = None  # the augmentation's random numbers come from the run's stream; applying them is the oracle's
    if config.augment != "none":
        draws = Augmenter([stream_seeds(seed)[3]], config.augment, config.max_shift, 0.0)
    x, y, n = data.x_train, data.y_train, len(data.y_train)
    probe = train_probe(y, len(data.y_val), config.split_seed)
    history = {k: [] for k in ("running_loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy")}
    for _ in range(config.epochs):
        net.train()
        perm = torch.randperm(n, generator=order)
        ce_sum = 0.0
        for start in range(0, n, config.batch_size):
            idx = perm[start : start + config.batch_size]
            xb = x[idx]
            if draws is not None:
                dy, dx, flip = (a[0] for a in draws.draw(len(idx)))
                xb = torch.stack([plain_shift(im, int(a), int(b), bool(f), x.min().item())
                                  for im, a, b, f in zip(xb, dy, dx, flip, strict=True)])
            target = soft[idx] if members is None else plain_teacher(members, xb, config.distill_temperature)
            logits = net(xb)
            loss = plain_distill_loss(logits, y[idx], target, config.distill_temperature, config.distill_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ce_sum += F.cross_entropy(logits, y[idx]).item() * len(idx)  # histories report the plain CE
        history["running_loss"].append(ce_sum / n)
        for split, (xs, ys) in {"train": (x[probe], y[probe]), "val": (data.x_val, data.y_val)}.items():
            split_loss, split_acc, _ = plain_evaluate(net, xs, ys)
            history[f"{split}_loss"].append(split_loss)
            history[f"{split}_accuracy"].append(split_acc)
    _, _, pred = plain_evaluate(net, data.x_test, data.y_test)
    return {"history": history, "test_predictions": pred.tolist()}


def test_fit_with_a_teacher_equals_a_plain_loop_with_the_distillation_loss():
    data = make_splits(n_train=1000, n_val=200, n_test=200)
    soft = F.log_softmax(torch.randn(1000, 10, generator=torch.Generator().manual_seed(2)) * 2, dim=1)
    config = TEACHER.replace(hidden=(48, 24), teacher="0123456789abcdef", distill_weight=0.7,
                             distill_temperature=3.0)
    results = fit(config, [0, 1], data=data, progress=False, device="cpu", teacher=soft)
    for r in results:
        want = distill_oracle(config, r.seed, data, soft)
        for key, values in want["history"].items():
            assert max_abs(r.history[key], values) <= ATOL[torch.float32], key
        assert r.test_predictions == want["test_predictions"]
    plain = fit(config.replace(teacher="", distill_weight=0.0, distill_temperature=4.0), 0, data=data,
                progress=False, device="cpu")
    assert plain.history["val_loss"] != results[0].history["val_loss"]  # the teacher did change training


@pytest.mark.parametrize("config,soft,match", [
    (TEACHER, torch.zeros(1000, 10), "teacher must be the soft labels"),
    (TEACHER.replace(teacher="0123456789abcdef", distill_weight=0.5), None, "teacher must be the soft labels"),
    (TEACHER.replace(teacher="0123456789abcdef", distill_weight=0.5), torch.zeros(999, 10), r"teacher must be \("),
    (TEACHER.replace(teacher="0123456789abcdef", distill_weight=0.5), torch.full((1000, 10), math.nan),
     "teacher must be finite"),
])
def test_fit_refuses_missing_or_malformed_soft_labels_before_training(config, soft, match):
    with pytest.raises(ValueError, match=match):
        fit(config, 0, data=make_splits(n_train=1000), progress=False, teacher=soft)


def test_weights_round_trip_and_are_superseded_by_other_code_or_data(tmp_path):
    model = FCN(TEACHER, [7, 8])
    state = model.state_dict()
    for s, seed in enumerate([7, 8]):
        weights.save({k: v[s : s + 1] for k, v in state.items()}, TEACHER, seed, "sum", 3, tmp_path)
    assert weights.path(TEACHER, 7, tmp_path) == tmp_path / "weights" / TEACHER.key() / "seed-7.safetensors"
    loaded = weights.load(TEACHER, [7, 8], "sum", 3, tmp_path)
    assert sorted(loaded) == sorted(state) and all(torch.equal(loaded[k], state[k]) for k in state)
    assert torch.equal(weights.load(TEACHER, [8], "sum", 3, tmp_path)["weights.0"][0], state["weights.0"][1])
    assert weights.load(TEACHER, [7, 8], "other data", 3, tmp_path) is None
    assert weights.load(TEACHER, [7, 8], "sum", 4, tmp_path) is None
    assert weights.load(TEACHER, [7, 9], "sum", 3, tmp_path) is None
    weights.path(TEACHER, 8, tmp_path).write_bytes(b"not safetensors")
    with pytest.warns(CacheWarning, match="unreadable weights"):
        assert weights.load(TEACHER, [7, 8], "sum", 3, tmp_path) is None
    with pytest.raises(ValueError, match="state must hold tensors of one member"):
        weights.save(state, TEACHER, 7, "sum", 3, tmp_path)


@pytest.fixture
def synthetic_store(monkeypatch, tmp_path):
    splits = make_splits(n_train=1000, n_val=200, n_test=200)
    monkeypatch.setattr("fcnbook.data.splits.load_for", lambda config: splits)
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    trained = []
    real_fit = train.fit

    def counting_fit(config, seeds, **kw):
        trained.append((config.key(), list(seeds), kw.get("keep_weights", False)))
        return real_fit(config, seeds, **kw)

    monkeypatch.setattr(runner, "fit", counting_fit)
    return splits, trained


def test_runner_trains_a_missing_teacher_first_and_stores_its_weights(synthetic_store, tmp_path):
    splits, trained = synthetic_store
    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, teacher=TEACHER.key(), teacher_seeds=(0, 1),
                        distill_weight=0.5)
    log = []
    runner.run([TEACHER, student], [2], progress=False, log=log.append)  # the teacher's seeds are 0 and 1, not 2
    assert trained == [(TEACHER.key(), [2], False), (TEACHER.key(), [0, 1], True), (student.key(), [2], False)]
    assert any(line.startswith(f"trained the teacher {TEACHER.label()}: 2 seed(s)") for line in log)
    done = [line for line in log if line.startswith("trained ") and "the teacher" not in line]
    assert done[0].startswith(f"trained {TEACHER.label()}: 1 seed(s)") and "its teacher" not in done[0]
    assert done[1].startswith(f"trained {student.label()}: 1 seed(s)") and done[1].endswith(", its teacher included")
    for seed in (0, 1):
        assert weights.path(TEACHER, seed, tmp_path).exists() and store.record_path(TEACHER, seed, tmp_path).exists()
    assert not weights.path(TEACHER, 2, tmp_path).exists() and not weights.path(student, 2, tmp_path).exists()
    # the stored weights are the teacher's final network: its soft labels give the recorded test predictions
    state = weights.load(TEACHER, [0, 1], splits.checksum, train.TRAINING_CODE_VERSION, tmp_path)
    model = distill.stacked_teacher(TEACHER, state, torch.device("cpu"))
    recorded = json.loads(store.record_path(TEACHER, 1, tmp_path).read_text())["test_predictions"]
    assert model(splits.x_test)[1].argmax(-1).tolist() == recorded
    # a second student of the same teacher (asked for alone: the teacher is found through its records) reuses it
    other = student.replace(distill_weight=0.9)
    runner.run(other, [2], progress=False)
    assert trained[-1] == (other.key(), [2], False) and len(trained) == 4


def test_runner_keeps_weights_when_asked_so_a_later_student_needs_no_retraining(synthetic_store, tmp_path):
    """``keep_weights=True`` (how ``fcnbook frontier`` trains every rung) stores each trained seed's final weights:
    a student asked for later reads them and trains only itself."""
    splits, trained = synthetic_store
    runner.run(TEACHER, [0, 1], progress=False, keep_weights=True)
    assert trained == [(TEACHER.key(), [0, 1], True)]
    for seed in (0, 1):
        assert weights.path(TEACHER, seed, tmp_path).exists()
    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, teacher=TEACHER.key(), teacher_seeds=(0, 1),
                        distill_weight=0.5)
    runner.run(student, [2], progress=False)
    assert trained[1:] == [(student.key(), [2], False)]


def test_a_students_seconds_count_its_share_of_the_teachers_pass_for_the_soft_labels(synthetic_store, tmp_path,
                                                                                      monkeypatch):
    """The teacher's training is in the teacher's records; its pass over the training images for the soft labels is
    the student's cost: each member's record adds its share to the seconds that fit measured, and says it."""
    import time

    splits, trained = synthetic_store
    runner.run(TEACHER, [0, 1], progress=False, keep_weights=True)
    slow, fitted, counted = runner._from_weights, [], runner.fit

    def slow_pass(*args):
        time.sleep(0.4)  # a pass long enough to tell apart from the clock's noise
        return slow(*args)

    def keeping_fit(*args, **kw):
        fitted.extend(results := counted(*args, **kw))
        return results

    monkeypatch.setattr(runner, "_from_weights", slow_pass)
    monkeypatch.setattr(runner, "fit", keeping_fit)
    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, teacher=TEACHER.key(), teacher_seeds=(0, 1),
                        distill_weight=0.5)
    runner.run(student, [2, 3], progress=False)
    assert [r.seed for r in fitted] == [2, 3] and all(r.stack_size == 2 for r in fitted)
    for result in fitted:
        record = json.loads(store.record_path(student, result.seed, tmp_path).read_text())
        share = record["extra"]["soft_label_seconds"]
        assert 0.4 / 2 <= share < 0.4 / 2 + 5 and record["seconds"] == pytest.approx(result.seconds + share)
    teacher = json.loads(store.record_path(TEACHER, 0, tmp_path).read_text())
    assert "soft_label_seconds" not in teacher["extra"]


def test_an_interrupt_while_the_teacher_trains_names_the_teachers_checkpoint(synthetic_store, tmp_path, monkeypatch):
    """The teacher is trained inside the student's turn: what an interrupt kept names the teacher's epoch
    checkpoint (the student has none yet), and the same call then resumes the teacher and trains the student."""
    from synthetic import stop_after_checkpoint

    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, teacher=TEACHER.key(), teacher_seeds=(0, 1),
                        distill_weight=0.5)
    runner.run(TEACHER, [2], progress=False)  # stored, so the student finds its teacher; seeds 0-1 are not
    with monkeypatch.context() as m:
        stop_after_checkpoint(m, 1)
        with pytest.raises(runner.Interrupted) as stop:
            runner.run(student, [2], progress=False)
    assert str(stop.value) == (f"{TEACHER.label()} has its epoch checkpoint at epoch 1 of 2; every stored record is "
                               f"kept under {tmp_path}")
    runner.run(student, [2], progress=False)
    assert store.record_path(student, 2, tmp_path).exists() and weights.path(TEACHER, 1, tmp_path).exists()


def test_a_teacher_retrained_for_its_weights_keeps_the_records_it_reproduces(synthetic_store, tmp_path):
    """A teacher stored without weights is trained again for them: a record the retrain reproduces stays as it was
    (its date and timing included); one that differs is replaced, so that the record describes the weights kept."""
    splits, _ = synthetic_store
    runner.run(TEACHER, [0, 1], progress=False)  # records, no weights
    paths = {s: store.record_path(TEACHER, s, tmp_path) for s in (0, 1)}
    record = json.loads(paths[1].read_text())  # seed 1's record no longer matches what its seed trains
    record["test_predictions"][0] = (record["test_predictions"][0] + 1) % 10
    record["test_accuracy"] = 0.5
    paths[1].write_text(json.dumps(record))
    before = {s: p.read_bytes() for s, p in paths.items()}
    student = RunConfig(hidden=(32,), batch_size=100, epochs=2, teacher=TEACHER.key(), teacher_seeds=(0, 1),
                        distill_weight=0.5)
    log = []
    runner.run(student, [2], progress=False, log=log.append)
    assert paths[0].read_bytes() == before[0] and paths[1].read_bytes() != before[1]
    assert f"{TEACHER.label()} seed 0, retrained for its weights: its stored record is reproduced exactly and kept" \
        in log
    assert any(line.startswith(f"{TEACHER.label()} seed 1, retrained for its weights: test accuracy 0.5000 stored, ")
               and line.endswith("the record is replaced so that it describes the weights kept") for line in log)
    state = weights.load(TEACHER, [0, 1], splits.checksum, train.TRAINING_CODE_VERSION, tmp_path)
    model = distill.stacked_teacher(TEACHER, state, torch.device("cpu"))
    for seed in (0, 1):  # each kept or replaced record gives the predictions of the weights kept
        assert model(splits.x_test)[seed].argmax(-1).tolist() == json.loads(paths[seed].read_text())["test_predictions"]


def test_runner_refuses_an_unknown_teacher_before_training(synthetic_store, tmp_path):
    _, trained = synthetic_store
    student = RunConfig(hidden=(32,), epochs=1, teacher="0123456789abcdef", distill_weight=0.5)
    with pytest.raises(ValueError, match="teacher 0123456789abcdef is neither among the configurations"):
        runner.run([RunConfig(hidden=(16,), epochs=1), student], [0], progress=False)
    assert trained == []
