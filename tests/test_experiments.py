"""The book's experiments declared once: profiles, sizing, and what each section trains."""

from pathlib import Path

import pytest
import yaml

from fcnbook.report import experiments as ex
from fcnbook.report import paper

TOC = Path(__file__).resolve().parents[1] / "book" / "_toc.yml"


def _toc_sections() -> list[str]:
    toc = yaml.safe_load(TOC.read_text())
    files = [toc["root"], *(c["file"] for part in toc["parts"] for c in part["chapters"])]
    return [f.split("/", 1)[1] for f in files if f.startswith("sections/")]


def test_every_toc_section_declares_what_it_trains():
    assert list(ex.SECTIONS) == _toc_sections()


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_table1_applies_profile(profile):
    S = ex.settings(profile)
    pairs = ex.table1(S)
    assert len(pairs) == 16
    for row, config in pairs:
        want = S.long_epochs if row.tuned else S.epochs
        assert config.epochs == want and config.subset == S.subset
        assert config.replace(epochs=row.config.epochs, subset=None) == row.config  # all else is the row's own
    assert pairs[0][1].key() == pairs[1][1].key()
    if profile == "full":
        assert [c for _, c in pairs] == [r.config for r in paper.ROWS]


def test_overrides_and_validation():
    S = ex.settings("quick", epochs=1, long_epochs=4, subset=500, seeds=[3])
    assert ex.table1(S)[0][1].epochs == 1 and ex.tuned(S).epochs == 4 and ex.baseline(S).subset == 500
    assert ex.tuned(ex.settings("full"), "mnist").dataset == "mnist"
    for bad, match in (({"seeds": 5}, "seeds must be"), ({"epochs": 0}, "epochs must be"),
                       ({"subset": 10}, "subset must be"), ({"colour": 1}, "unknown profile setting")):
        with pytest.raises(ValueError, match=match):
            ex.settings("quick", **bad)
    with pytest.raises(ValueError, match="profile must be"):
        ex.settings("medium")


def test_sections_share_configurations_with_table1():
    """The one-factor sections train exactly Table 1's configurations, so the summary trains nothing new."""
    full = ex.book_configs("full")
    assert full["10_summary"] == [], "every Table 1 row is trained by an earlier section"
    assert full["02_baseline"] == [ex.baseline(ex.settings("full"))]
    assert len(full["03_optimizers"]) == 8, "the 3 x 3 grid less the baseline, which 02 trains"
    inits = ex.initializers(ex.settings("full"))
    assert inits["He (report's code)"] == paper.ROWS[13].config
    assert inits["Kaiming uniform (report's text)"].init == "kaiming_uniform"
    keys = [c.key() for cs in full.values() for c in cs]
    assert len(keys) == len(set(keys)), "each configuration is listed once, under the section that trains it"


def test_svd_sizes_follow_the_profile():
    full, quick = ex.settings("full"), ex.settings("quick")
    assert ex.svc_subset(full) == 20_000 and ex.svc_subset(quick) == 1_000
    assert ex.forensic_sizes(full, 20_000) == [2_000, 5_000, 10_000, 20_000]
    assert ex.forensic_sizes(full, 8_000) == [2_000, 5_000, 8_000]
    assert ex.forensic_sizes(quick, 1_000) == [1_000]
    assert ex.svc_subset(ex.settings("quick", svd_subset=500)) == 500


def test_protocol_ablation_differs_only_in_protocol():
    S = ex.settings("full")
    ab = ex.protocol_ablation(S)
    assert ab["ours"] == ex.baseline(S) and ab["MNIST constants"].normalization == "mnist"
    splits = [c.split_seed for name, c in ab.items() if name.startswith("original")]
    assert splits == [1, 2, 3, 4]
    for c in ab.values():
        assert c.replace(normalization="train", split_seed=0) == ex.baseline(S)


def test_precision_is_a_profile_setting_applied_to_every_network():
    # (the "beyond" recipe is the stored study's, in the study's own precision)
    sections = [declare for name, declare in ex.SECTIONS.items() if name != "07b_beyond"]
    configs = [c for declare in sections for c in declare(ex.settings("quick", precision="bf16"))]
    assert configs and all(c.precision == "bf16" for c in configs)
    assert all(c.precision == "fp32" for declare in sections for c in declare(ex.settings("full")))
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16"):
        ex.settings("full", precision="fp16")
