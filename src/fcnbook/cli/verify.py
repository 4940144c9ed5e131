"""``fcnbook verify``: retrain stored records and compare them with what is stored (exactly on the same machine).

A member of a stack computes exactly what a lone run of its seed computes (``fcnbook.training.fit``), so a record is
re-made by training its seed alone. On the same CPU model with the same torch the comparison is exact; elsewhere
floating-point rounding differs from the first step on and is amplified by training, so the test accuracy is
compared within :data:`TOLERANCE` and the differences are printed. ``--against DIR`` compares a retrained results
folder record by record, training nothing.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

from fcnbook.config import RunConfig
from fcnbook.paths import results_dir

#: Largest |stored - recomputed| test accuracy accepted on another machine: a few seed-to-seed SDs of the
#: book's configurations (0.001-0.008), since a different rounding acts like another draw of the same run.
TOLERANCE = 0.01
#: History entries compared exactly on the same machine (``seconds`` is wall time, never reproducible).
COMPARED = ("train_loss", "train_accuracy", "running_loss", "running_accuracy", "val_loss", "val_accuracy")


def compare_stores(other: Path, root: Path | None = None, *, log: Callable[[str], None] = print) -> dict:
    """Every current run record under ``other`` (e.g. a ``--retrain`` folder) against the same key and seed here.

    Nothing is trained. A record is ``identical`` when its history (every compared metric), test loss, test
    accuracy, divergence and all test predictions equal the stored ones, and ``different`` otherwise (each
    printed through ``log`` with its test-accuracy difference); ``missing`` counts records with no counterpart.

    Returns
    -------
    dict
        ``compared``, ``identical``, ``different``, ``missing`` (counts) and ``differences`` (one dict each).
    """
    from fcnbook.report.chapters.provenance import stored
    from fcnbook.version import TRAINING_CODE_VERSION

    other = Path(other)
    if not (other / "runs").is_dir():
        raise ValueError(f"--against {other} holds no run records (no runs/ folder)")
    here = {(r["key"], r["seed"]): r for r in stored(root, TRAINING_CODE_VERSION, study=True)}
    out = {"compared": 0, "identical": 0, "different": 0, "missing": 0, "differences": []}
    for record in stored(other, TRAINING_CODE_VERSION, study=True):
        mine = here.get((record["key"], record["seed"]))
        if mine is None:
            out["missing"] += 1
            continue
        out["compared"] += 1
        same = (all(mine["history"].get(m) == record["history"].get(m) for m in COMPARED)
                and all(mine.get(k) == record.get(k) for k in ("test_loss", "test_accuracy", "diverged",
                                                                 "test_predictions")))
        if same:
            out["identical"] += 1
            continue
        out["different"] += 1
        config = RunConfig.from_dict(record["config"])
        diff = {"label": config.label(), "seed": record["seed"], "test_accuracy": record.get("test_accuracy"),
                "stored": mine.get("test_accuracy")}
        out["differences"].append(diff)
        log(f"DIFFERENT {diff['label']} seed {diff['seed']}: test accuracy {diff['test_accuracy']} here "
            f"{diff['stored']} stored")
    log(f"{out['identical']} of {out['compared']} records identical to the stored ones, {out['different']} "
        f"different; {out['missing']} with no stored counterpart")
    return out


def _same_machine(record: dict, here: dict) -> bool:
    m = record.get("machine") or {}
    same = all(m.get(k) == here.get(k) for k in ("cpu", "torch")) and record.get("device") == here.get("device")
    # MKL splits some products differently with another thread count (a 784-700 layer at batch 64 changed in the
    # fourth decimal of its loss between 1 and 2 threads), so the thread count is part of "the same machine".
    return same and m.get("torch_threads", here.get("torch_threads")) == here.get("torch_threads")


def _threads_of(record: dict) -> int | None:
    """The record's torch thread count, when this machine can run it (else None: keep the current setting)."""
    n = (record.get("machine") or {}).get("torch_threads")
    return n if isinstance(n, int) and 1 <= n <= (os.cpu_count() or 1) else None


def _fit_with_threads(threads: int | None, config: RunConfig, seed: int, *, data, root, **kwargs):
    """``fit`` of ``config``'s ``seed`` with ``threads`` torch threads (if given), the previous setting restored
    after; a distilled configuration's soft labels are computed from its teacher's stored weights under the same
    setting."""
    import torch

    from fcnbook.store.runner import stored_soft_labels
    from fcnbook.training.fit import fit

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        teacher = stored_soft_labels(config, data, root, kwargs["device"]) if config.teacher else None
        return fit(config, seed, data=data, teacher=teacher, **kwargs)
    finally:
        torch.set_num_threads(before)


def compare(record: dict, result) -> dict:
    """Stored ``record`` against a freshly trained ``result`` (a :class:`fcnbook.training.fit.RunResult`)."""
    h = record["history"]
    history_diff = max((abs((a if a is not None else float("nan")) - b)
                        for m in COMPARED if m in h for a, b in zip(h[m], result.history[m], strict=True)),
                       default=0.0)
    mismatched = sum(a != b for a, b in zip(record["test_predictions"], result.test_predictions, strict=True))
    return {"test_accuracy_stored": record["test_accuracy"], "test_accuracy_now": result.test_accuracy,
            "test_accuracy_diff": result.test_accuracy - record["test_accuracy"],
            "history_max_abs_diff": history_diff, "predictions_differing": mismatched,
            "epochs": len(h["seconds"]) == len(result.history["seconds"])}


def verify(sample: int, root: Path | None = None, *, rng_seed: int | None = None, device: str = "cpu",
           here_only: bool = False, log: Callable[[str], None] = print) -> bool:
    """Retrain ``sample`` randomly chosen current records and compare them with what is stored.

    Each record is retrained with the torch thread count it was made with (when this machine has that many
    CPUs). Exact equality (history, test accuracy, every prediction) is required when a record was made on
    the same CPU model with the same torch, device and thread count; otherwise the test accuracy must agree
    within :data:`TOLERANCE`. With ``here_only`` the sample is drawn from the records this machine can re-make
    exactly, so that every comparison is exact (a store made on several machines holds others too).
    Returns True when every sampled record passes; each comparison is printed through ``log``.
    """
    from fcnbook.data.splits import load_for
    from fcnbook.report.chapters.provenance import stored
    from fcnbook.store.runner import teacher_kept
    from fcnbook.training.environment import describe
    from fcnbook.training.setup import resolve_device
    from fcnbook.version import TRAINING_CODE_VERSION

    if not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample must be an integer >= 1 (got {sample!r})")
    records = stored(root, TRAINING_CODE_VERSION)
    if not records:
        raise ValueError(f"no records of training code version {TRAINING_CODE_VERSION} under "
                         f"{Path(root or results_dir())}; run `make book` or `fcnbook train` first")
    dev = resolve_device(device)
    here = describe(str(dev))
    if here_only:
        records = [r for r in records if _same_machine(r, here | {"torch_threads": _threads_of(r) or -1})]
        if not records:
            raise ValueError(f"--here: no records of training code version {TRAINING_CODE_VERSION} were made on "
                             f"this machine's CPU ({here.get('cpu')}), torch {here.get('torch')} and device "
                             f"{here.get('device')} with at most {os.cpu_count()} threads; drop --here to check "
                             "others within the tolerance")
    kept = [r for r in records
            if not r["config"].get("teacher") or teacher_kept(RunConfig.from_dict(r["config"]), root)]
    if len(kept) < len(records):  # their soft labels need the teacher's final weights, which git does not keep
        log(f"left out {len(records) - len(kept)} distilled record(s): their teachers' final weights are not stored "
            f"under {Path(root or results_dir()) / 'weights'} (`fcnbook frontier --train NAME` keeps them)")
    records = kept
    if not records:
        raise ValueError("no record left to retrain: every one is distilled from a teacher whose weights are not "
                         "stored")
    chosen = random.Random(rng_seed).sample(records, min(sample, len(records)))
    ok = True
    for record in chosen:
        config = RunConfig.from_dict(record["config"])
        splits = load_for(config)
        if splits.checksum != record["data_checksum"]:
            log(f"SKIP {config.label()} seed {record['seed']}: made on other data (checksum differs)")
            continue
        threads = _threads_of(record)
        result = _fit_with_threads(threads, config, record["seed"], data=splits, root=root, device=dev,
                                   progress=False)
        c = compare(record, result)
        exact = _same_machine(record, here | {"torch_threads": threads or here.get("torch_threads")})
        if exact:
            passed = c["history_max_abs_diff"] == 0 and c["predictions_differing"] == 0 and c["epochs"]
            rule = f"exact (same CPU model, torch and device, {threads or here.get('torch_threads')} threads)"
        else:
            passed = abs(c["test_accuracy_diff"]) <= TOLERANCE
            rule = f"|diff| <= {TOLERANCE} (made on {(record.get('machine') or {}).get('cpu', 'an unrecorded CPU')})"
        ok &= passed
        log(f"{'PASS' if passed else 'FAIL'} {config.label()} seed {record['seed']} ({config.epochs} epochs): "
            f"test accuracy stored {c['test_accuracy_stored']:.4f}, now {c['test_accuracy_now']:.4f} "
            f"(diff {c['test_accuracy_diff']:+.2e}); history max |diff| {c['history_max_abs_diff']:.2e}; "
            f"{c['predictions_differing']} of {len(result.test_predictions)} predictions differ; rule: {rule}")
    return ok


def add_parser(sub) -> None:
    """The ``verify`` verb's parser, under the ``fcnbook`` command's subparsers ``sub``."""
    v = sub.add_parser("verify", help="retrain randomly chosen stored records and compare them",
                       description="Retrain K randomly chosen run records of the current training code alone and "
                                   "compare history, test accuracy and predictions with what is stored: exactly "
                                   "on the CPU model, torch and thread count that made them, else the test "
                                   "accuracy within 0.01 (--here: only records this machine can re-make "
                                   "exactly). With --against DIR, compare a whole retrained results folder with "
                                   "the stored records instead, exactly. Exit 1 when any differs.")
    v.add_argument("--sample", type=int, default=2, metavar="K", help="records to retrain (default 2)")
    v.add_argument("--seed", type=int, default=None, help="seed of the random choice (default: a new choice)")
    v.add_argument("--device", default="cpu", help="device to retrain on (default cpu)")
    v.add_argument("--here", action="store_true",
                   help="sample only records made on this machine's CPU model, torch, device and a thread count it "
                        "has, so that every comparison is exact")
    v.add_argument("--against", metavar="DIR", default=None,
                   help="train nothing: compare every record of the results folder DIR (e.g. results-retrain/ "
                        "after `make book RETRAIN=1`) with the stored one of the same configuration and seed")
    v.set_defaults(subparser=v)


def run(args, parser) -> int:
    """``fcnbook verify``: exit status 0 when every compared record agrees, 1 when any differs."""
    if args.against is not None:
        try:
            c = compare_stores(Path(args.against).expanduser())
        except ValueError as exc:
            parser.error(str(exc).replace("\n", " "))
        return 0 if c["compared"] and not c["different"] else 1
    if args.sample < 1:
        parser.error(f"--sample must be an integer >= 1 (got {args.sample})")
    try:
        return 0 if verify(args.sample, rng_seed=args.seed, device=args.device, here_only=args.here) else 1
    except ValueError as exc:
        parser.error(str(exc).replace("\n", " "))
