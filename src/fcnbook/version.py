"""The version of the training code, in a module without torch so that the report and the book can read it.

Bump :data:`TRAINING_CODE_VERSION` when a change to the model or the training loop changes the numbers a run
produces: stored results made by an older version are then retrained instead of reused, never mixed in.
"""

TRAINING_CODE_VERSION = 3  # 3: eval-mode training metrics on a fixed subset; diverged members keep their last
# finite state. 2: dropout masks from numpy's PCG64 (kernels.DropoutMasks), per-member mm
