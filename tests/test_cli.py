import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fcnbook.cli.main import main
from fcnbook.cli.train import parse_seeds

FCNBOOK = [sys.executable, "-m", "fcnbook"]
HAVE_DATA = all((Path(os.environ.get("FCNBOOK_DATA", Path(__file__).parents[1] / "data")) / d / "raw").is_dir()
                for d in ("FashionMNIST", "MNIST"))


def run(*args, env=None):
    return subprocess.run([*FCNBOOK, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args", [
    ["--optimizer", "adagrad"], ["--lr", "-1"], ["--schedule", "step"],
    ["--augment", "shift_flip", "--dataset", "mnist"], ["--max-shift", "3"], ["--nesterov"], ["--precision", "fp16"],
    ["--label-smoothing", "0.5"], ["--hidden", "0"], ["--dropout", "1.5"], ["--epochs", "0"],
    ["--dataset", "cifar"], ["--hidden", "500,x"], ["--seeds", "3-1"], ["--seeds", "a"], ["--lr", "inf"],
    ["--batch-size", "1"], ["--init", "he"], ["--normalization", "zscore"], ["--device", "tpu"],
    ["--subset", "10"], ["--colour", "red"],
])
def test_bad_train_input_exits_2_with_one_line(args, capsys, monkeypatch):
    # Fail before any work: training or loading data here would be a bug.
    monkeypatch.setattr("fcnbook.store.runner.run", lambda *a, **k: pytest.fail("trained despite bad input"))
    with pytest.raises(SystemExit) as exit_:
        main(["train", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fcnbook") and ": error: " in err


def test_entry_point_reports_bad_value_in_one_line():
    p = run("train", "--optimizer", "adagrad")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip() == ("fcnbook train: error: optimizer must be one of sgd, adam, rmsprop, adamw "
                                "(got 'adagrad')")


def test_bf16_is_refused_where_the_cpu_has_no_fast_bf16(monkeypatch, capsys):
    monkeypatch.setattr("fcnbook.training.precision.cpu_flags", lambda: {"avx2", "fma"})
    monkeypatch.setattr("fcnbook.store.runner.run", lambda *a, **k: pytest.fail("trained despite the refusal"))
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--precision", "bf16", "--device", "cpu"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "precision bf16 needs fast bf16 hardware, found CPU without AMX-BF16 or AVX512-BF16" in err


@pytest.mark.parametrize("verb", [[], ["data"], ["train"], ["tune"], ["book"], ["section"], ["verify"]])
def test_help_on_every_verb(verb):
    p = run(*verb, "--help")
    assert p.returncode == 0 and "usage: fcnbook" in p.stdout


def test_every_config_field_has_a_flag():
    import dataclasses

    from fcnbook.config import RunConfig

    text = run("train", "--help").stdout
    for f in dataclasses.fields(RunConfig):
        assert "--" + f.name.replace("_", "-") in text


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,2,7") == [0, 2, 7]
    assert parse_seeds("0-1,5") == [0, 1, 5]
    for bad in ("", "x", "1,1", "-1", "3-1"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)


def test_unknown_section_and_parameter():
    p = run("section", "99_nothing")
    assert p.returncode == 2 and "99_nothing" in p.stderr and p.stderr.count("\n") == 1
    p = run("section", "02_baseline", "-p", "no_such_parameter", "1")
    assert p.returncode == 2 and "no_such_parameter" in p.stderr and p.stderr.count("\n") == 1
    p = run("book", "--only", "99_nothing")
    assert p.returncode == 2


@pytest.mark.parametrize("args, allowed", [
    (["-p", "seeds", "5"], "seeds of section 02_baseline must be None or a list of integers"),
    (["-p", "seeds", "[0, 0.5]"], "seeds of section 02_baseline must be None or a list of integers"),
    (["-p", "epochs", "two"], "epochs of section 02_baseline must be None or an integer"),
    (["-p", "lr", "fast"], "lr of section 02_baseline must be a number"),
    (["-p", "profile", "fast"], "profile of section 02_baseline must be 'quick' or 'full'"),
])
def test_section_parameter_of_the_wrong_kind_exits_2_with_one_line(args, allowed, capsys, monkeypatch):
    monkeypatch.setattr("papermill.execute_notebook", lambda *a, **k: pytest.fail("executed despite bad input"))
    with pytest.raises(SystemExit) as exit_:
        main(["section", "02_baseline", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fcnbook section: error: parameter ") and allowed in err


def test_section_values_are_read_as_papermill_reads_them(monkeypatch, capsys):
    import nbformat

    seen = {}

    def execute(nb, out, parameters, **kwargs):
        seen.update(parameters)
        nbformat.write(nb, out)

    monkeypatch.setattr("papermill.execute_notebook", execute)
    assert main(["section", "02_baseline", "-p", "seeds", "[0, 1]", "-p", "epochs", "1", "-p", "lr", "1e-3",
                 "-p", "subset", "None", "--profile", "quick", "-o", "/tmp/fcnbook-test-cli-section.ipynb"]) == 0
    assert seen == {"seeds": [0, 1], "epochs": 1, "lr": 0.001, "subset": None, "profile": "quick"}


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_DATA, reason="real data not fetched (run `make data`)")
def test_train_json_then_reuse(tmp_path):
    env = {"FCNBOOK_RESULTS": str(tmp_path)}
    args = ["train", "--subset", "2000", "--epochs", "1", "--seeds", "0-1", "--json"]
    first = run(*args, env=env)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert [r["seed"] for r in out["runs"]] == [0, 1]
    assert set(out["summary"]) >= {"mean", "sd", "n"} and out["summary"]["n"] == 2
    assert all(0.1 < r["test_accuracy"] <= 1 and r["diverged"] is False for r in out["runs"])
    again = run(*args, env=env)
    assert json.loads(again.stdout)["runs"] == out["runs"]
    table = run(*args[:-1], env=env)
    assert "mean test accuracy" in table.stdout and "reused" in table.stderr


def test_book_retrain_refuses_a_folder_that_holds_results(tmp_path, capsys, monkeypatch):
    """--retrain recomputes into a fresh folder: one that already holds files is refused before anything runs."""
    monkeypatch.setattr("fcnbook.book.build.build_book", lambda **k: pytest.fail("built despite a bad --retrain"))
    (tmp_path / "runs").mkdir()
    with pytest.raises(SystemExit) as e:
        main(["book", "--retrain", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "--retrain folder" in err and "not empty" in err and "\n" not in err


def test_book_retrain_points_every_section_at_the_fresh_folder(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.delenv("FCNBOOK_RESULTS", raising=False)
    monkeypatch.setattr("fcnbook.book.build.build_book",
                        lambda **k: seen.setdefault("results", os.environ["FCNBOOK_RESULTS"]) and tmp_path)
    assert main(["book", "--profile", "quick", "--retrain", str(tmp_path / "fresh")]) == 0
    assert seen["results"] == str(tmp_path / "fresh") and (tmp_path / "fresh").is_dir()
