"""The trained terrain model: load the shipped JSON file, score descriptor vectors, explain a score.

The model is a multinomial logistic regression over standardised descriptors
(:data:`marsviz.terrain.descriptors.DESCRIPTOR_NAMES`), stored as plain numbers in JSON so that loading it
needs neither pickle nor scikit-learn.  Its classes are terrain kinds of the labeled HiRISE set (``other``,
``crater``, ``dark_dune``, ``bright_dune``, ``slope_streak``, ``ice_terrain``); the two scores read from it
are P(ice_terrain) and 1 - P(other).  ``python -m marsviz train`` rebuilds the file (:mod:`marsviz.train`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from marsviz import config
from marsviz.errors import ModelError
from marsviz.terrain.descriptors import DESCRIPTOR_NAMES

#: The model shipped with the package.
SHIPPED_MODEL = Path(__file__).with_name("model.json")
#: Cross-validated evaluation of the shipped model, written by ``python -m marsviz train`` (the Method page's table).
SHIPPED_EVALUATION = SHIPPED_MODEL.with_name("evaluation.json")
#: Format version of the model file; bumped when its layout changes.
FORMAT_VERSION = 1
#: The class whose probability is the ice terrain score.
ICE_CLASS = "ice_terrain"
#: The class whose complement is the landmark score.
OTHER_CLASS = "other"
#: Scores the model gives, in the order the registry lists them.
SCORES = ("ice_terrain_score", "landmark_score")


@dataclass(frozen=True)
class TerrainModel:
    """A standardisation plus multinomial logistic regression, as stored in the model file.

    Attributes
    ----------
    descriptor_names : list of str
        Must equal :data:`DESCRIPTOR_NAMES`.
    mean, scale : ndarray
        (D,) standardisation: ``z = (x - mean) / scale``.
    classes : list of str
        Class names; must include :data:`ICE_CLASS` and :data:`OTHER_CLASS`.
    coef : ndarray
        (K, D) weights of the standardised descriptors, one row per class.
    intercept : ndarray
        (K,).
    metadata : dict
        What it was trained on (counts, source image ids, seed, hyper-parameters); informational.
    """

    descriptor_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    metadata: dict = field(default_factory=dict)

    def standardise(self, descriptors: np.ndarray) -> np.ndarray:
        """Standardised descriptors ``(x - mean) / scale``, shape (N, D)."""
        return (np.atleast_2d(descriptors) - self.mean) / self.scale

    def probabilities(self, descriptors: np.ndarray) -> np.ndarray:
        """Class probabilities, (N, K), each row summing to 1.

        Parameters
        ----------
        descriptors : ndarray
            (N, D) or (D,) raw descriptor vectors.
        """
        logits = self.standardise(descriptors) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def scores(self, descriptors: np.ndarray) -> dict[str, np.ndarray]:
        """Both terrain scores of each descriptor vector, each (N,) in [0, 1].

        ``ice_terrain_score`` is P(ice terrain); ``landmark_score`` is 1 - P(other): the chance that the
        tile shows any of the labeled landmark kinds (ice terrain included).
        """
        p = self.probabilities(descriptors)
        return {"ice_terrain_score": p[:, self.classes.index(ICE_CLASS)],
                "landmark_score": 1.0 - p[:, self.classes.index(OTHER_CLASS)]}

    def contributions(self, descriptor: np.ndarray, score: str) -> np.ndarray:
        """How much each descriptor pushed `score` up (positive) or down, for one descriptor vector.

        Parameters
        ----------
        descriptor : ndarray
            (D,) raw descriptor vector.
        score : str
            One of :data:`SCORES`.

        Returns
        -------
        ndarray
            (D,) contributions to the score's log-odds, relative to a tile with the training set's mean
            descriptors.

        Notes
        -----
        Gradient times input: the gradient of the score's log-odds with respect to the standardised
        descriptors, times those descriptors.  For the ice score this is ``z * (w_ice - sum_k p_k w_k) /
        (1 - p_ice)``; for the landmark score the same with the ``other`` class and the sign reversed.  It
        is the exact first-order split of the log-odds, a local explanation rather than a global one.
        """
        z = self.standardise(descriptor)[0]
        p = self.probabilities(descriptor)[0]
        expected = p @ self.coef
        if score == "ice_terrain_score":
            k = self.classes.index(ICE_CLASS)
            gradient = (self.coef[k] - expected) / max(1.0 - p[k], 1e-9)
        elif score == "landmark_score":
            k = self.classes.index(OTHER_CLASS)
            gradient = -(self.coef[k] - expected) / max(1.0 - p[k], 1e-9)
        else:
            raise ValueError(f"unknown terrain score {score!r}; expected one of {SCORES}")
        return gradient * z

    def to_json(self) -> str:
        """The model file's text (stable key order and float precision, so equal models give equal files)."""
        payload = {
            "format": FORMAT_VERSION,
            "kind": "standardised multinomial logistic regression",
            "descriptor_names": list(self.descriptor_names),
            "mean": _rounded(self.mean), "scale": _rounded(self.scale),
            "classes": list(self.classes),
            "coef": [_rounded(row) for row in self.coef], "intercept": _rounded(self.intercept),
            "metadata": self.metadata,
        }
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"


def _rounded(values: np.ndarray) -> list[float]:
    return [float(f"{v:.9g}") for v in np.asarray(values, dtype=np.float64)]


def model_from_json(text: str, name: str = "model") -> TerrainModel:
    """Parse and check a model file's text.

    Parameters
    ----------
    text : str
        JSON as written by :meth:`TerrainModel.to_json`.
    name : str, optional
        How to refer to the file in error messages.

    Raises
    ------
    ModelError
        If the text is not a model of this format, or was trained on other descriptors.
    """
    try:
        payload = json.loads(text)
        if payload.get("format") != FORMAT_VERSION:
            raise ModelError(f"{name}: model format {payload.get('format')!r}, expected {FORMAT_VERSION}")
        model = TerrainModel(
            descriptor_names=list(payload["descriptor_names"]),
            mean=np.asarray(payload["mean"], dtype=np.float64),
            scale=np.asarray(payload["scale"], dtype=np.float64),
            classes=list(payload["classes"]),
            coef=np.asarray(payload["coef"], dtype=np.float64),
            intercept=np.asarray(payload["intercept"], dtype=np.float64),
            metadata=dict(payload.get("metadata", {})),
        )
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"{name}: not a terrain model file ({type(error).__name__}: {error})") from None
    if model.descriptor_names != DESCRIPTOR_NAMES:
        raise ModelError(f"{name}: trained on other descriptors than this version computes; "
                         f"retrain it with `python -m marsviz train`")
    dims = len(DESCRIPTOR_NAMES)
    shapes_ok = (model.mean.shape == (dims,) and model.scale.shape == (dims,)
                 and model.coef.shape == (len(model.classes), dims) and model.intercept.shape == (len(model.classes),))
    if not shapes_ok or not all(np.isfinite(a).all() for a in (model.mean, model.scale, model.coef, model.intercept)):
        raise ModelError(f"{name}: arrays of the wrong shape or not finite")
    if np.any(model.scale <= 0):
        raise ModelError(f"{name}: standardisation scale must be positive")
    if ICE_CLASS not in model.classes or OTHER_CLASS not in model.classes:
        raise ModelError(f"{name}: classes {model.classes} lack {ICE_CLASS!r} or {OTHER_CLASS!r}")
    return model


def model_path() -> Path:
    """The model file in use: setting ``terrain_model``, or the shipped model when that is empty."""
    return Path(config.get("terrain_model") or SHIPPED_MODEL).expanduser().resolve()


def model_fingerprint(path: str | Path | None = None) -> str:
    """A short hash of the model file's bytes (``missing`` if unreadable), part of the features' version.

    Retraining changes the terrain scores, so values stored with another model must be recomputed.
    """
    import hashlib

    try:
        return hashlib.sha256(Path(path or model_path()).read_bytes()).hexdigest()[:10]
    except OSError:
        return "missing"


def load_model(path: str | Path | None = None) -> TerrainModel:
    """Load a terrain model file (cached per path).

    Parameters
    ----------
    path : str or Path, optional
        Default: setting ``terrain_model``, or the model shipped in the package when that is empty.

    Returns
    -------
    TerrainModel

    Raises
    ------
    ModelError
        If the file is missing, unreadable or not a compatible model.
    """
    return _load_cached(Path(path).expanduser().resolve() if path else model_path())


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> TerrainModel:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"cannot read terrain model {path} ({error})") from None
    return model_from_json(text, name=str(path))


def load_evaluation(path: str | Path | None = None) -> dict:
    """The evaluation summary written with a model: dataset, protocol, targets and one row per (task, score).

    Parameters
    ----------
    path : str or Path, optional
        Default: the shipped ``evaluation.json``.

    Returns
    -------
    dict
        ``rows`` holds ``task``, ``score``, ``auc``, ``auc_low``, ``auc_high``, ``average_precision``,
        ``ap_low``, ``ap_high``, ``n_positive``, ``n_negative``, ``positive_sources`` and ``note`` (how it was
        measured); ``landmark_by_class`` the landmark score's ROC AUC per class against "other".

    Raises
    ------
    ModelError
        If the file is missing or not JSON.
    """
    path = Path(path or SHIPPED_EVALUATION)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelError(f"cannot read terrain evaluation {path} ({error})") from None
