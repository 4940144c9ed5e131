# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# # Provenance of the results
#
# Every number in this book comes from a run record in the results folder: one JSON file per configuration and
# seed, written by the training code and read back by the sections (see the README's "How results are kept").
# This page lists those records as they are stored: which configuration, which seeds, how long training took,
# on which machine and library versions, with which training-code version and when; what every record shares is
# said once, above the table. Nothing on it is typed.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from fcnbook.report import budget, plots
from fcnbook.report.chapters import provenance
from fcnbook.version import TRAINING_CODE_VERSION

# %% tags=["parameters"]
profile = "full"  # "quick" or "full": which sections' configurations the table is ordered by

# %% tags=["remove-cell"]
records = provenance.stored(code_version=TRAINING_CODE_VERSION)
table = provenance.table(records, profile)
totals = provenance.section_totals(table) if len(table) else None

# %% [markdown]
# ## Per configuration

# %% tags=["remove-input"]
shown, constants = provenance.split_constant(table.drop(columns=["key"]) if len(table) else table)
display(Markdown(provenance.constant_text(constants)))
plots.style(shown, digits=1).hide(axis="index")

# %% [markdown]
# ## Per section

# %% tags=["remove-input"]
plots.style(totals, digits=1) if totals is not None else None

# %% tags=["remove-input"]
display(Markdown(" ".join(filter(None, [
    provenance.summary_text(table, TRAINING_CODE_VERSION), provenance.untimed_text(records),
    provenance.study_text(provenance.stored(code_version=TRAINING_CODE_VERSION, study=True))]))))

# %% [markdown]
# ## What a build from an empty store costs
#
# Every build of the book that computes something records its own timing in the results folder
# (`timings/book.jsonl`); the newest complete build of this profile that started from an empty store is shown
# here, with the counted matmul work of its runs and the sgemm peak measured around it.

# %% tags=["remove-input"]
build = budget.latest_from_empty(profile=profile)
display(Markdown(budget.build_text(build, target=False) if build else "No complete build of this profile from an empty store "
                 "has been timed in this results folder yet; `make book RETRAIN=1` records one."))
plots.style(budget.section_table(build), digits=1) if build else None

# %% [markdown]
# ## How to verify
#
# `fcnbook verify --sample 2` retrains two randomly chosen records of the current training code and compares
# them with what is stored: history, test accuracy and every test prediction must be identical when the record
# was made on the same CPU model with the same torch version and thread count (a member of a stacked run
# computes exactly what a lone run of its seed computes; `verify` retrains with the record's thread count, since
# some products round differently with another one); on another machine the test accuracy must agree within 0.01 and the observed
# differences are printed. `make book RETRAIN=1` recomputes every result into a fresh results folder.
