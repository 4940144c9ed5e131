"""Run profiles of the book: how much work each section does.

``full`` is the report: all training data, the seed report's epochs, five seeds. ``quick`` is a preview that runs
the whole book in a few minutes on two CPU cores (stratified subset, two epochs, two seeds); the tests use it.
Every section's parameters cell names ``profile`` and leaves ``epochs``, ``long_epochs``, ``seeds``, ``subset`` at
``None``; :func:`resolve` fills what was not overridden from the profile.
"""

from __future__ import annotations

PROFILES: dict[str, dict] = {
    "quick": {"epochs": 2, "long_epochs": 3, "seeds": [0, 1], "subset": 3000, "svd_subset": 3000},
    "full": {"epochs": 15, "long_epochs": 70, "seeds": [0, 1, 2, 3, 4], "subset": None, "svd_subset": None},
}


def resolve(profile: str, **overrides) -> dict:
    """The profile's settings with every override that is not ``None`` applied.

    Parameters
    ----------
    profile : {"quick", "full"}
    **overrides
        ``epochs``, ``long_epochs``, ``seeds`` (list of int), ``subset``, ``svd_subset``; ``None`` keeps the
        profile's value.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)} (got {profile!r})")
    settings = dict(PROFILES[profile])
    for name, value in overrides.items():
        if name not in settings:
            raise ValueError(f"unknown profile setting {name!r}; allowed: {', '.join(settings)}")
        if value is not None:
            settings[name] = list(value) if name == "seeds" else value
    settings["profile"] = profile
    return settings
