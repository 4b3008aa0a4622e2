"""The feature registry: one list drives the catalog columns, the app's choices and the Method page.

It sits above every family of features: the seed's four (:mod:`marsviz.features`), the trained terrain
scores (:mod:`marsviz.terrain.features`), the view model's (:mod:`marsviz.view.feature`) and the context
features (:mod:`marsviz.context.features`, functions of the place, not the pixels), which know only the
contract in :mod:`marsviz.features._base`.  Models are loaded when a feature is first computed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from marsviz.config import AnalysisSettings
from marsviz.context.features import CONTEXT_FEATURES
from marsviz.context.location import LOCATION_VERSION, locate
from marsviz.decode import DECODE_VERSION
from marsviz.features import SEED_FEATURES
from marsviz.features._base import Feature, FeatureResult, check_image
from marsviz.terrain.features import TERRAIN_FEATURES
from marsviz.view.feature import VIEW_FEATURE

#: Registered features by name, in display order: the seed four, the trained terrain scores, the view score,
#: the context features.
REGISTRY: dict[str, Feature] = {feature.name: feature for feature in [*SEED_FEATURES, *TERRAIN_FEATURES,
                                                                       VIEW_FEATURE, *CONTEXT_FEATURES]}


def appearance_names() -> list[str]:
    """The registered features computed from pixels (all but the context features), in display order."""
    return [name for name, feature in REGISTRY.items() if not feature.context]


def context_names() -> list[str]:
    """The registered context features (functions of the place: :mod:`marsviz.context.features`)."""
    return [name for name, feature in REGISTRY.items() if feature.context]


def place_version() -> str:
    """What stored places and context values depend on: the location rules' version and each context
    feature's; places stored under another one are found again (cheaply: no pixel is read)."""
    return ";".join([f"location={LOCATION_VERSION}", *(f"{n}={REGISTRY[n].version}" for n in context_names())])


def context_values(latitude, longitude) -> dict[str, np.ndarray]:
    """Every context feature's values at these places (degrees north and east; NaN where unknown)."""
    return {name: np.asarray(REGISTRY[name].function(latitude, longitude), dtype=float) for name in context_names()}


def placed(rows: pd.DataFrame) -> pd.DataFrame:
    """Each row's place and time (:func:`marsviz.context.location.locate`, which says what `rows` holds) and
    its context features' values (:func:`context_values`), one column each, with `rows`' index."""
    found = locate(rows)
    return found.assign(**context_values(found["latitude"].to_numpy(), found["longitude"].to_numpy()))


def feature_names() -> list[str]:
    """Names of the registered features, in display order."""
    return list(REGISTRY)


def feature_labels() -> dict[str, str]:
    """Each registered feature's name and the label a person reads, in display order.

    Examples
    --------
    >>> feature_labels()["water_ice_ratio"]
    'Potential water/ice'
    """
    return {name: feature.label for name, feature in REGISTRY.items()}


#: What the catalog stores per image beside the feature values, with SQL types: the view model's call
#: (``orbital``, ``surface``, ``hardware`` or ``other``; see :mod:`marsviz.view`) and its probability, found
#: by the ``terrain_view_score`` feature (its :attr:`FeatureResult.detail`).  Not features: no value to
#: weigh, but what the ranking is read and filtered by.
ANNOTATIONS = {"view": "TEXT", "view_confidence": "REAL"}
#: The catalog column holding each image's descriptor vector (the view model's, from the
#: ``terrain_view_score`` detail, as float32 bytes in the order of
#: :data:`marsviz.view.descriptors.VIEW_DESCRIPTOR_NAMES`): what a person's labels are learnt from and what
#: "New to you" compares (:mod:`marsviz.learn`).  Read apart from the other columns: it is large.
DESCRIPTORS = "descriptors"
#: The catalog column of "Your labels, trained" (:mod:`marsviz.learn`): a score fitted to a person's labels,
#: not a function of the pixels alone, so not a registered feature; null until a score is fitted.
LEARNED_SCORE = "your_labels_score"
#: Version of what an analysis stores beside the feature values (2: the descriptor vector).
STORED_VERSION = 2


def feature_set_version(settings: AnalysisSettings | None = None) -> str:
    """A short hash of what the stored values depend on; values stored under another one are recomputed.

    That is every feature's name and version (the trained ones' include their model files' fingerprints), the
    decoder's version (:data:`marsviz.decode.DECODE_VERSION`) and the analysis settings the values were
    computed with, so that one catalog never mixes values computed two ways.

    Parameters
    ----------
    settings : AnalysisSettings, optional
        The run's settings; default :meth:`AnalysisSettings.from_environment`.
    """
    settings = settings or AnalysisSettings.from_environment()
    parts = [f"{f.name}={f.version}" for f in REGISTRY.values() if not f.context]
    parts += [f"decode={DECODE_VERSION}", f"stored={STORED_VERSION}", *settings.version_parts()]
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:12]


def compute_all(image: np.ndarray, names=None, settings: AnalysisSettings | None = None) -> dict[str, FeatureResult]:
    """Compute every registered appearance feature (or those in `names`) on `image`, running each shared group
    step once.  Context features are not computed from pixels (:func:`context_values`).

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    names : collection of str, optional
        Registered feature names to compute; default all.
    settings : AnalysisSettings, optional
        The run's settings, passed to the features that take them (:attr:`Feature.settings`); default
        :meth:`AnalysisSettings.from_environment`.

    Returns
    -------
    dict of str to FeatureResult
        In registry order.
    """
    check_image(image)
    settings = settings or AnalysisSettings.from_environment()
    wanted = [name for name in appearance_names() if names is None or name in names]
    results: dict[str, FeatureResult] = {}
    done_groups = set()
    for name in wanted:
        feature = REGISTRY[name]
        if name in results:
            continue
        arguments = feature.arguments(settings)
        if feature.group is not None and feature.group not in done_groups:
            done_groups.add(feature.group)
            results.update(feature.group(image, **arguments))
        if name not in results:
            results[name] = feature.function(image, **arguments)
    return {name: results[name] for name in wanted}


def compute_values(image: np.ndarray, names=None,
                   settings: AnalysisSettings | None = None) -> dict[str, float | str | None]:
    """What the catalog stores of an image: every feature's value (or those in `names`, as
    :func:`compute_all`, with `settings`), its :data:`ANNOTATIONS` and its :data:`DESCRIPTORS` (as bytes)
    from the features' details; None where no computed feature gives them."""
    results = compute_all(image, names, settings)
    annotations = dict.fromkeys([*ANNOTATIONS, DESCRIPTORS])
    for result in results.values():
        annotations.update({k: v for k, v in (result.detail or {}).items() if k in annotations})
    if annotations[DESCRIPTORS] is not None:
        annotations[DESCRIPTORS] = np.asarray(annotations[DESCRIPTORS], dtype="<f4").tobytes()
    return {**{name: result.value for name, result in results.items()}, **annotations}
