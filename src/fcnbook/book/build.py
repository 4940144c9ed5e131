"""Build the report: execute the sections of ``book/_toc.yml`` (:mod:`fcnbook.book.sections`), then run Jupyter Book.

:func:`build_book` executes every section listed in ``book/_toc.yml`` with papermill and runs Jupyter Book 1 on
``book/`` (``-W -n --keep-going``: any warning fails the build). With ``only``, the other sections keep their
last executed notebook; one that has never been executed is executed too, since the book cannot be built
without it. With ``pdf=True`` the whole book is also printed to one PDF (:mod:`fcnbook.book.pdf`).

The sections run in the book's order, but the root section (the opening page, which states what the others found)
runs last (:func:`fcnbook.book.sections.execution_order`). A build reads and writes its profile's results folder
(:func:`fcnbook.paths.profile_results`: the quick profile's is ``results-quick/``, which git ignores), and only a
build that starts from an empty store appends its timing to that folder.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from fcnbook import machine
from fcnbook.book.jupyterbook import CONFIG, BookError, jupyter_book
from fcnbook.book.sections import BOOK, NOTEBOOKS, SectionError, execution_order, run_section, toc_sections
from fcnbook.paths import profile_results


def _start_timing(profile: str, only: list[str], pdf: bool, peak: Callable[[], float] | None) -> dict | None:
    """What a build's timing record knows before it starts: the declared runs and how many the store holds.

    ``None`` (no record) unless the store starts empty (no declared run, no SVD entry): a build that reuses stored
    results times something other than the book's cost, and not recording it keeps the shipped
    ``results/timings`` unchanged by ``make book`` and by a full build that retrains a few missing runs.

    A full-profile build that must train measures the sgemm peak before it starts and again when it ends, so that
    its FLOP bound (:mod:`fcnbook.report.budget`) uses the machine's speed of that hour, not of another day.
    """
    from fcnbook.paths import results_dir
    from fcnbook.report import budget, experiments
    from fcnbook.store import records as store

    root = results_dir()
    seeds = experiments.settings(profile).seeds
    declared = experiments.book_configs(profile)
    configs = [c for section in declared.values() for c in section]
    stored = sum(store.record_path(c, s, root).exists() for c in configs for s in seeds)
    svd = len(list((root / "svd").glob("*.json"))) if (root / "svd").is_dir() else 0
    if stored or svd:
        return None
    cost = budget.book_budget(profile, declared)
    timing = {"profile": profile, "only": list(only), "pdf": pdf, "runs": len(configs) * len(seeds),
              "runs_stored_at_start": stored, "svd_entries_at_start": svd, "gflop": round(cost["total_gflop"], 1),
              "probe_gflop": round(cost["probe_gflop"], 1), "sections": {}, "started": time.strftime(
                  "%Y-%m-%dT%H:%M:%S%z")}
    if profile == "full" and peak is not None:
        timing["sgemm_gflops_before"] = round(peak(), 1)
    return timing


def _finish_timing(timing: dict, total: float, *, failed: list[str], problems: bool,
                   peak: Callable[[], float] | None, describe: Callable[[], dict]) -> None:
    """Complete the build's timing record (total, peak RSS, machine, sgemm peak after) and append it to the store."""
    import resource

    from fcnbook.report import budget
    from fcnbook.version import TRAINING_CODE_VERSION

    if "sgemm_gflops_before" in timing and peak is not None:
        timing["sgemm_gflops_after"] = round(peak(), 1)
    # ru_maxrss of the waited-for children (the section kernels, Jupyter Book) is the largest one's, in kB on Linux.
    timing |= {"total_s": round(total, 1), "failed": failed, "problems": problems,
               "peak_rss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
               "code_version": TRAINING_CODE_VERSION, "machine": describe()}
    path = budget.record(timing)
    print(f"[book] timing recorded in {path}", flush=True)


def _workdir_copy(workdir: Path) -> tuple[Path, Path]:
    """Copy the book's sources and ``_config.yml`` into ``workdir`` (same layout); return (book, config)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG, workdir / CONFIG.name)
    ignore = shutil.ignore_patterns("_build", "sections", "__pycache__")
    shutil.copytree(BOOK, workdir / BOOK.name, ignore=ignore, dirs_exist_ok=True)
    return workdir / BOOK.name, workdir / CONFIG.name


def _check_sections(names: list[str], only: list[str], notebooks: Path) -> None:
    """``ValueError`` before anything runs: a name of ``only`` that is no section, or a section without a source."""
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; allowed (book/_toc.yml): {', '.join(names)}")
    missing = [str(notebooks / f"{n}.py") for n in names if not (notebooks / f"{n}.py").is_file()]
    if missing:
        raise ValueError(f"book/_toc.yml lists sections whose source does not exist: {', '.join(missing)}")


def _start_timing_or_none(profile: str, only: list[str], pdf: bool, peak: Callable[[], float] | None) -> dict | None:
    """:func:`_start_timing`, or ``None`` when it fails: the timing record is a by-product that never stops a build."""
    try:
        return _start_timing(profile, only, pdf, peak)
    except Exception as exc:  # noqa: BLE001
        print(f"[book] this build is not timed ({type(exc).__name__}: {exc})", flush=True)
        return None


def _run_sections(names: list[str], only: list[str], *, profile: str, notebooks: Path, book: Path,
                  timing: dict | None) -> dict[str, str]:
    """Execute the sections in the order of ``names`` (outside ``only``, those executed before are kept) and time
    each in ``timing["sections"]``; return the failed ones' messages, by name. A failure never stops the others."""
    failed: dict[str, str] = {}
    for name in names:
        out = book / "sections" / f"{name}.ipynb"
        if only and name not in only:
            if out.is_file():
                print(f"[book] {name}: kept the previous execution", flush=True)
                continue
            print(f"[book] {name}: never executed, so it runs too", flush=True)
        t0 = time.perf_counter()
        print(f"[book] {name}: running (profile {profile}) ...", flush=True)
        try:
            run_section(name, out=out, profile=profile, notebooks=notebooks, book=book)
            print(f"[book] {name}: ok ({time.perf_counter() - t0:.1f} s)", flush=True)
        except SectionError as e:
            failed[name] = str(e)
            print(f"[book] {name}: FAILED ({time.perf_counter() - t0:.1f} s): {e}", flush=True)
        if timing is not None:
            timing["sections"][name] = round(time.perf_counter() - t0, 2)
    return failed


def _compile(book: Path, config: Path, *, pdf: bool, timing: dict | None, problems: list[str]) -> Path:
    """Jupyter Book on ``book`` (timed in ``timing``), then the PDF when ``pdf``; the HTML index. A
    :class:`BookError` of either is appended to ``problems``, not raised."""
    index = book / "_build" / "html" / "index.html"
    try:
        t0 = time.perf_counter()
        index = jupyter_book(book, config)
        if timing is not None:
            timing["jupyter_book_s"] = round(time.perf_counter() - t0, 2)
        if pdf:
            from fcnbook.book.pdf import build_pdf

            build_pdf(book, config)
    except BookError as e:
        problems.append(str(e))
    return index


def build_book(
    profile: str = "full",
    only: Iterable[str] | None = None,
    *,
    pdf: bool = False,
    notebooks: Path | None = None,
    workdir: Path | None = None,
    peak: Callable[[], float] | None = None,
    describe: Callable[[], dict] = machine.cpu,
) -> Path:
    """Execute the sections and build the HTML book (and, with ``pdf``, the PDF).

    Parameters
    ----------
    profile : {"quick", "full"}
        Passed to every executed section as its ``profile`` parameter.
    only : iterable of str, optional
        Execute just these sections; the others keep their last executed notebook (a section that has never
        been executed is executed as well).
    pdf : bool
        Also print the whole book to ``book/_build/pdf/fcnbook.pdf`` (:func:`fcnbook.book.pdf.build_pdf`).
    notebooks : path, optional
        Folder of the ``.py`` sources (default ``notebooks/``).
    workdir : path, optional
        Build a copy of the book there (``workdir/book``, ``workdir/_config.yml``) instead of in ``book/``;
        the tests use this so that they never replace the user's executed sections.
    peak, describe : callable, optional
        For the build's timing record: the machine's sgemm peak in GFLOP/s, measured before and after a full
        build that trains (the command line passes :func:`fcnbook.training.precision.sgemm_gflops`), and the
        machine's description (default :func:`fcnbook.machine.cpu`). The book machinery itself never imports torch.

    Returns
    -------
    Path
        ``book/_build/html/index.html`` (under ``workdir`` if given).

    Raises
    ------
    ValueError
        A name in ``only`` is not a section, or a section's source is missing (before anything runs).
    BookError
        Some section failed (the book is still built, showing the traceback) or Jupyter Book failed.
    """
    with profile_results(profile):
        return _build(profile, only, pdf, notebooks, workdir, peak, describe)


def _build(profile, only, pdf, notebooks, workdir, peak, describe) -> Path:
    notebooks = Path(notebooks) if notebooks else NOTEBOOKS
    book, config = _workdir_copy(Path(workdir)) if workdir else (BOOK, CONFIG)
    names = toc_sections(book)
    only = list(only or [])
    _check_sections(names, only, notebooks)
    start = time.perf_counter()
    timing = _start_timing_or_none(profile, only, pdf, peak)
    failed = _run_sections(execution_order(book), only, profile=profile, notebooks=notebooks, book=book, timing=timing)
    problems = [f"section {n} failed: {msg}" for n, msg in failed.items()]
    index = _compile(book, config, pdf=pdf and not failed, timing=timing, problems=problems)
    print(f"[book] total {time.perf_counter() - start:.1f} s", flush=True)
    if timing is not None:
        _finish_timing(timing, time.perf_counter() - start, failed=list(failed), problems=bool(problems),
                       peak=peak, describe=describe)
    if problems:
        head = f"book build failed; failed sections: {', '.join(failed) or 'none'}"
        if pdf and failed:
            head += " (no PDF made)"
        raise BookError("\n".join([head, *problems]), failed)
    return index
