"""The opening page's findings: generated from the shipped store, each linking to its chapter, never typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fcnbook.book import sections
from fcnbook.paths import data_dir
from fcnbook.report import ladder, paper
from fcnbook.report.chapters import beyond, frontier, headlines

ROOT = Path(__file__).resolve().parents[1]
HAVE_DATA = (data_dir() / "FashionMNIST" / "raw").is_dir()


def _items(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- ")]


@pytest.mark.skipif(not HAVE_DATA, reason="real data not fetched (run `make data`)")
def test_the_findings_come_from_the_shipped_store_and_link_their_chapters(monkeypatch):
    monkeypatch.setenv("FCNBOOK_RESULTS", str(ROOT / "results"))  # the shipped store, whatever the caller set
    found = headlines.gather("full")
    assert not found.missing, found.missing
    items = _items(headlines.bullets(found))
    assert 5 <= len(items) <= 8
    names = set(sections.toc_sections())
    for item in items:
        links = re.findall(r"\{doc\}`([^`]+)`", item)
        assert links and set(links) <= names, item  # every finding names an existing chapter
    table = found.summary.table
    yes = int((table["verdict"] == "yes").sum())
    tested = int(table["verdict"].isin(["yes", "no"]).sum())
    assert f"**{yes} of the {tested} rows**" in items[0]
    assert f"{paper.SVD_CLASSIFIER_ACCURACY:.4f}" in items[1] and f"{found.forensic['train_accuracy']:.4f}" in items[1]
    assert found.forensic["n_train"] == 54_000  # the whole training split, measured in the SVD chapter
    assert f"{found.protocol.gap['sd']:.4f}" in items[2]
    assert f"{beyond.comparison_table(found.beyond).iloc[0]['test acc.']:.4f}" in items[3]
    named = {r["trial"]: r["recipe"] for r in found.beyond.facts["recipes"]}  # the chosen trial is a known recipe
    assert (f"(`{named[found.beyond.number]}`)" in items[3]) == (found.beyond.number in named)
    best = found.frontier.rungs.loc[frontier.chosen(found.frontier.rungs), "mean"]  # chosen on validation
    assert f"{best:.4f}" in items[4] and "13_frontier" in items[4]
    t = found.frontier.rungs  # what cost accuracy is named after what helped, both by Holm's rule
    hurt = [n for n, r in t.iloc[1:].iterrows() if frontier.verdict(r["p_holm"], r["gain"]) == "hurts"]
    assert all(n in items[4].split("helped by Holm's rule")[1] for n in hurt)
    assert ("so far" in items[4]) == (len(found.frontier.pending) > 0)
    f, rung = found.frontier, frontier.chosen(found.frontier.rungs)  # each target stated with its stored figure
    assert f"one network {best:.4f} (target 0.915, {frontier.against_target(best, 'single')})" in items[4]
    assert f"the ensemble of its seeds {f.ensembles[rung]:.4f} (target 0.920, " in items[4]
    mnist = f.others.loc[frontier.taught_by(rung, ladder.ON_MNIST), "mean"]
    state = frontier.against_target(mnist, "mnist")
    assert f"the same network on MNIST {mnist:.4f} (target 0.988, {state})" in items[4]
    share = frontier.gap_closed(f, frontier.taught_by(rung, ladder.TEACHERS))  # its distillation, shipped too
    assert f"of its gain over one network (target 50%, {frontier.distilled_against_target(share)})" in items[4]
    assert f"{found.summary.mnist.mean():.4f}" in items[5]  # its test accuracies by seed


@pytest.mark.skipif(not HAVE_DATA, reason="real data not fetched (run `make data`)")
def test_an_empty_store_names_what_is_missing_instead_of_failing(monkeypatch, tmp_path):
    monkeypatch.setenv("FCNBOOK_RESULTS", str(tmp_path))
    found = headlines.gather("quick")
    assert set(found.missing) == set(headlines.CHAPTERS)
    items = _items(headlines.bullets(found))
    assert len(items) == len(headlines.CHAPTERS)
    assert all(item.startswith("- *Not available:*") and "{doc}`" in item for item in items)


def test_the_noise_floor_follows_the_protocol_chapters_verdict():
    from types import SimpleNamespace

    gap = {"n": 25, "sd": 0.008, "sd_diff": 0.0113, "gap": 0.0257, "p": 0.03, "p_high": 0.09}
    text = headlines.noise_bullet(SimpleNamespace(gap=gap, level=0.95))
    assert "chance cannot be ruled out" in text and "0.0257 apart" in text and "{doc}`11_protocol`" in text
    text = headlines.noise_bullet(SimpleNamespace(gap=gap | {"p": 0.2, "p_high": 0.4}, level=0.95))
    assert "within run-to-run variation" in text
