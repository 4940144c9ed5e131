"""The test suite's own bookkeeping: the ``heavy`` list of tests/conftest.py names tests that exist."""

import ast
from pathlib import Path

from conftest import HEAVY, _heavy

ROOT = Path(__file__).resolve().parents[1]


def test_every_heavy_entry_names_a_module_or_a_test_function():
    for entry in HEAVY:
        path, _, name = entry.partition("::")
        assert (ROOT / path).is_file(), entry
        if name:
            tree = ast.parse((ROOT / path).read_text())
            functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
            assert name in functions, f"{entry}: no such test (renamed? update tests/conftest.py's HEAVY)"


def test_heavy_matches_whole_modules_and_every_parameter_of_a_test_but_not_a_longer_name():
    assert _heavy("tests/test_oracle.py::test_fit_equals_plain_pytorch_loop[sgd]")
    assert _heavy("tests/test_kernels.py::test_stacked_linear_matches_baddbmm_forward_and_backward[5-True]")
    assert _heavy("tests/test_cli.py::test_unknown_section_and_parameter")
    assert not _heavy("tests/test_cli.py::test_unknown_section_and_parameter_more")
    assert not _heavy("tests/test_kernels.py::test_something_else")
