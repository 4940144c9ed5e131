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
# # Linear-algebra baselines: the SVD classifier
#
# The seed report {cite:p}`hippe_hw4` ends its study of fully connected networks by bringing back the best
# classifier of the previous assignment, which it calls an "SVD classifier", with an accuracy of 0.9128 on
# FashionMNIST, above every network in its Table 1. This section does three things with that claim:
#
# 1. It builds the classifier the name describes, a subspace classifier with one truncated SVD per class,
#    chooses its rank on the validation split, and scores it once on the test set.
# 2. It puts that classifier, three PCA pipelines of the kind the course used and the networks of the
#    earlier sections side by side, on FashionMNIST and on MNIST, with what each costs to fit and to predict.
# 3. It checks what 0.9128 measured: the seed's notebook scored scikit-learn's default `SVC()` on the images it
#    had been fitted on (see {doc}`../reproduction-notes`); refitting it and scoring it both ways shows which
#    kind of number 0.9128 resembles.

# %% tags=["remove-cell"]
# Imports come before the parameters cell so that the parameters are what a reader sees first.
from IPython.display import Markdown, display

from fcnbook.lab import Lab
from fcnbook.report import experiments, paper, svd_figures
from fcnbook.report.chapters import svd as svd_report

# %% tags=["parameters"]
profile = "full"  # "quick" or "full"
svd_subset = None  # None: the profile's training images for the SVD classifier and PCA pipelines (full: all)
svc_subset = None  # None: training images for every RBF-SVC fit, 20 000 in full, 1 000 in quick (at most svd_subset)
ranks = None  # None: 1, 2, 3, 5, ..., 150 (fcnbook.svd.study.DEFAULT_RANKS)
forensic_sizes = None  # None: 2 000, 5 000, 10 000 and svc_subset images in full; svc_subset alone otherwise
energy = 0.85  # fraction of variance PCA keeps in the pipelines
device = "auto"  # for the networks, when they are not in the run store yet
precision = None  # None: the profile's ("fp32"); "bf16" on AMX CPUs and recent GPUs
epochs = None  # None: the profile's; the baseline network
long_epochs = None  # None: the profile's; the tuned network
seeds = None  # None: the profile's seeds
subset = None  # None: the profile's training subset for the networks

# %% tags=["remove-cell"]
S = experiments.settings(profile, epochs=epochs, long_epochs=long_epochs, seeds=seeds, subset=subset,
                         svd_subset=svd_subset, precision=precision, lab=Lab(device))
report = svd_report.study(S, svc_subset=svc_subset, ranks=ranks, forensic_sizes=forensic_sizes, energy=energy)
text = svd_report.sentences(report)

# %% tags=["remove-input"]
display(Markdown(text["settings"]))

# %% [markdown]
# ## Two methods behind one name
#
# **Subspace classifier.** Stack the training images of class $k$ as the columns of a matrix
# $A_k \in \mathbb{R}^{784 \times n_k}$ and take its singular value decomposition
# $A_k = U_k \Sigma_k V_k^\top$. The first $r$ columns of $U_k$ form an orthonormal basis $U_{k,r}$ of the
# $r$-dimensional subspace that best approximates the class's images in the least-squares sense. A new image
# $x$ is assigned to the class whose subspace it is closest to,
#
# $$
# \hat y(x) = \arg\min_k \; \lVert x - U_{k,r} U_{k,r}^\top x \rVert_2 ,
# $$
#
# the classical method for handwritten digits {cite:p}`elden2007matrix` (chapter 10). The matrices are not
# centred, so a class's first singular vector is close to its mean image. One rank $r$ is used for all classes
# and chosen on the validation split. Fixing a fraction of the squared singular values per class instead looks
# natural but works badly here: the first singular value dominates each spectrum to a different degree, so the
# classes end up with very different ranks. Pixels are used as they are, scaled to $[0, 1]$, so the black
# background stays at the origin of every subspace.
#
# **PCA pipelines.** Principal component analysis of the (centred) training images keeps the fewest components
# that explain a fixed fraction of the variance; a classifier then works in that low-dimensional space. The
# pipelines here use ridge regression on one-hot targets (a linear classifier), the five nearest neighbours,
# or an RBF support vector machine, all from scikit-learn {cite:p}`pedregosa2011scikit`. Training an RBF
# SVM costs time that grows faster than linearly with the number of training images, so every SVC in this
# section is fitted on a stratified subset (stated above) rather than on the whole training split.
#
# ## Choosing the rank on the validation split

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Validation accuracy of the subspace classifier against the rank of each class subspace (log scale), with the chosen rank marked. Only the training and validation splits are used.", "name": "fig-svd-rank"}}
fig = svd_figures.rank_figure(report.choice)

# %% tags=["remove-input"]
display(Markdown(text["rank"]))

# %% [markdown]
# ## Test accuracy and cost
#
# Every model below is fitted once on the training split and scored once on the 10 000 test images. The
# networks are the baseline and the tuned model of the earlier sections as the report's code ran them (mean over
# seeds, SD between seeds). Times are wall-clock seconds on the machine that filled the results cache (networks:
# the training time in the store); they show orders of magnitude, not precise costs.

# %% tags=["remove-input"]
svd_figures.styled_accuracy_table(report.table, report.devices)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Test accuracy of every method; networks show the mean over seeds with a bar of one SD. The RBF-SVC rows were fitted on a subset of the training images (see the table). The axis starts well above zero to make the differences visible.", "name": "fig-svd-compare"}}
fig = svd_figures.compare_figure(report.table)

# %% tags=["remove-input"]
display(Markdown(text["compare"]))

# %% [markdown]
# ## What was 0.9128?
#
# A fitted SVM classifies its own training images better than new ones, so scoring `SVC()` on its training
# images and on the test set gives different numbers; which of the two 0.9128 matches says what it measured.
# Below, the same estimator (RBF kernel, $C = 1$, `gamma="scale"`) is fitted on FashionMNIST training sets of
# increasing size and scored both ways. With `gamma="scale"` rescaling all pixels by one factor changes nothing,
# so it does not matter whether the seed fed it pixels in $[0, 255]$, in $[0, 1]$ or standardised.

# %% tags=["remove-input"]
svd_figures.styled_forensic_table(report.forensic, paper.SVD_CLASSIFIER_ACCURACY, report.full)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Default SVC() on FashionMNIST: accuracy on its own training images and on the test set against the number of training images (log scale), with the seed report's 0.9128. Hollow markers, where there are three sizes or more, continue each curve on a straight line (in the logarithm of the size) through its three largest sizes to the whole training split and to all 60 000 training images; they are a rough guide, not measurements. Stars (full profile): the fit on the whole training split, measured.", "name": "fig-svd-forensic"}}
fig = svd_figures.forensic_figure(report.forensic, report.extrapolated, paper.SVD_CLASSIFIER_ACCURACY, report.full)

# %% tags=["remove-input"]
display(Markdown(text["forensic"]))

# %% [markdown]
# Whatever the exact figure, the score of a model on the images it was fitted on says how well it fits, not
# how well it generalises; only the test-set rows above are comparable with the networks' test accuracies.
