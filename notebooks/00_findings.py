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
# # Fully connected networks on FashionMNIST and MNIST
#
# ## What this book finds
#
# This book reruns, checks and extends a short course report on fully connected networks for image classification,
# Hippe's *AMATH 482/582 Homework 4* {cite:p}`hippe_hw4`, with every configuration trained over several seeds.
# Each finding below is computed from the stored results by the chapter it links to.

# %% tags=["remove-cell"]
# Imports come before the parameters cell, so that the parameters are what a reader sees first.
from IPython.display import Markdown, display

from fcnbook.report.chapters import headlines

# %% tags=["parameters"]
profile = "full"  # "quick" or "full": whose results the findings are read from (nothing is trained here)
seeds = None  # None: the profile's seeds

# %% tags=["remove-input"]
display(Markdown(headlines.bullets(headlines.gather(profile, seeds))))

# %% [markdown]
# ## What this book is
#
# The report trained a small multilayer perceptron on Fashion-MNIST {cite:p}`xiao2017fashion`, varied the
# optimizer, learning rate, dropout, weight initialisation and batch normalisation one at a time, collected the
# outcomes in a table of sixteen test accuracies, and carried a tuned network over to handwritten digits (MNIST,
# {cite:p}`lecun1998gradient`). Everything in it is a single training run. Here every configuration is trained with
# several random seeds, so each number comes with a spread, a {term}`confidence interval` for the mean and, where a
# single run of the report is compared with ours, a prediction interval; and the whole book is regenerated
# from code by one command. Where the report's published numbers and what its code actually computed disagree, the
# {doc}`../reproduction-notes` page says how and what this book does instead.
#
# ## How to read it
#
# - **Background.** {doc}`../methods` defines the network, the loss, the three optimizers, the weight
#   initialisations, dropout and batch normalisation, with the equations behind each, and the statistics the
#   chapters use. {doc}`../reproduction-notes` lists the differences between the seed report's text, its code,
#   and this book.
# - **Experiments.** One chapter per question, in the order of the report: the data, the baseline network,
#   optimizers and learning rates, regularisation, initialisation, batch normalisation, the tuned network, a
#   validation-only search beyond it, how far one fully connected network goes when ingredients are added one at a
#   time, the transfer to MNIST, a classical (non-neural) classifier for comparison, a summary that puts the
#   report's Table 1 next to the reproduced numbers, and the report's original protocol run beside ours.
# - **Back matter.** {doc}`12_provenance` lists every stored run: its machine, library versions and training
#   time. {doc}`../rebuild` says how to rebuild the book, rerun a chapter with other parameters, or add one.
#   {doc}`../glossary` explains the terms of the search and of the statistics.
#
# Every chapter is an executed notebook whose source is a plain Python file, `notebooks/NN_name.py`. The code is
# hidden; the figures, the tables and every sentence that quotes a result are produced by that code from the stored
# runs, never typed in by hand. Where a chapter chooses a setting it does so on the validation split; the test set
# only reports.
