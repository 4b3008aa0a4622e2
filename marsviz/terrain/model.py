"""The trained terrain model: load the shipped JSON file, score descriptor vectors, explain a score.

A tile's descriptors (:data:`TILE_DESCRIPTOR_NAMES`: the hand-made ones of
:mod:`marsviz.terrain.descriptors`, then the pretrained network's of :mod:`marsviz.terrain.backbone`) are
standardised, then each score has one or more classifier heads over the terrain classes of the labeled HiRISE
set (``other``, ``crater``, ``dark_dune``, ``bright_dune``, ``slope_streak``, ``ice_terrain``), each head
reading a slice of the descriptors; a score with several heads averages their probabilities:

* ``ice_terrain_score`` = P(ice_terrain), the mean of two multinomial logistic regressions, one on the
  hand-made descriptors and one on all of them (the first keeps spiders, which the network's channels
  miss; the second finds the other ice terrain far more precisely);
* ``landmark_score`` = 1 - P(other) from a multinomial logistic regression on all the descriptors.

A head may also have one hidden ReLU layer (an MLP head, as the view model's is).

Everything is stored as plain numbers in JSON, so loading needs neither pickle nor scikit-learn.
``python -m marsviz train`` rebuilds the file (:mod:`marsviz.train`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from marsviz import config
from marsviz.errors import ModelError
from marsviz.terrain.backbone import BACKBONE_NAMES
from marsviz.terrain.descriptors import DESCRIPTOR_NAMES

#: The model shipped with the package.
SHIPPED_MODEL = Path(__file__).with_name("model.json")

#: Cross-validated evaluation of the shipped model, written by ``python -m marsviz train`` (the Method page's table).
SHIPPED_EVALUATION = SHIPPED_MODEL.with_name("evaluation.json")
#: Format version of the model file; bumped when its layout changes.
FORMAT_VERSION = 4
#: What a model is fitted on, per tile: the hand-made descriptors, then the pretrained network's.
TILE_DESCRIPTOR_NAMES = [*DESCRIPTOR_NAMES, *BACKBONE_NAMES]
#: The slices of :data:`TILE_DESCRIPTOR_NAMES` a head may read: ``(start, stop)``.
HAND_MADE = (0, len(DESCRIPTOR_NAMES))
#: The class whose probability is the ice terrain score.
ICE_CLASS = "ice_terrain"
#: The class whose complement is the landmark score.
OTHER_CLASS = "other"
#: Scores the model gives, in the order the registry lists them.
SCORES = ("ice_terrain_score", "landmark_score")


@dataclass(frozen=True)
class Head:
    """A classifier over standardised descriptors: linear (multinomial logistic) or one hidden ReLU layer.

    Attributes
    ----------
    classes : list of str
        Class names, one per output.
    coef : ndarray
        (K, H) output weights; H = D for a linear head.
    intercept : ndarray
        (K,) output biases.
    hidden_weights : ndarray or None
        (H, D) hidden-layer weights (None for a linear head).
    hidden_bias : ndarray or None
        (H,) hidden-layer biases.
    inputs : tuple of int or None
        ``(start, stop)``: the slice of the standardised descriptor vector the head reads (D = stop - start);
        None for all of it.
    """

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    hidden_weights: np.ndarray | None = None
    hidden_bias: np.ndarray | None = None
    inputs: tuple[int, int] | None = None

    @property
    def kind(self) -> str:
        return "linear" if self.hidden_weights is None else "mlp"

    def _columns(self, width: int) -> slice:
        return slice(*self.inputs) if self.inputs else slice(0, width)

    def _features(self, z: np.ndarray) -> np.ndarray:
        z = z[:, self._columns(z.shape[1])]
        if self.hidden_weights is None:
            return z
        return np.maximum(z @ self.hidden_weights.T + self.hidden_bias, 0.0)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """Softmax class probabilities (N, K) of standardised descriptor vectors `z` (N, all descriptors)."""
        logits = self._features(z) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def logit_gradients(self, z: np.ndarray) -> np.ndarray:
        """(K, all descriptors) gradient of each class logit with respect to one standardised vector `z`
        (zero outside the head's inputs)."""
        columns = self._columns(z.shape[0])
        if self.hidden_weights is None:
            gradients = self.coef
        else:
            active = (z[columns] @ self.hidden_weights.T + self.hidden_bias) > 0
            gradients = (self.coef * active) @ self.hidden_weights
        full = np.zeros((gradients.shape[0], z.shape[0]))
        full[:, columns] = gradients
        return full

    def fits(self, width: int) -> bool:
        """Whether the head's arrays have the shapes a descriptor vector of `width` values needs, and are finite."""
        start, stop = self.inputs or (0, width)
        read = stop - start
        units = read if self.hidden_weights is None else self.hidden_weights.shape[0]
        classes = len(self.classes)
        ok = 0 <= start < stop <= width and self.coef.shape == (classes, units)
        ok &= self.intercept.shape == (classes,)
        arrays = [self.coef, self.intercept]
        if self.hidden_weights is not None:
            ok &= self.hidden_weights.shape == (units, read) and self.hidden_bias.shape == (units,)
            arrays += [self.hidden_weights, self.hidden_bias]
        return bool(ok) and all(np.isfinite(a).all() for a in arrays)

    def as_dict(self) -> dict:
        payload = {"kind": self.kind, "classes": list(self.classes),
                   "coef": [rounded_list(row) for row in self.coef], "intercept": rounded_list(self.intercept)}
        if self.inputs is not None:
            payload["inputs"] = list(self.inputs)
        if self.hidden_weights is not None:
            payload["hidden_weights"] = [rounded_list(row) for row in self.hidden_weights]
            payload["hidden_bias"] = rounded_list(self.hidden_bias)
        return payload


#: The class each score reads from its head, and whether the score is that class's probability (True) or
#: its complement (False).
SCORE_CLASS = {"ice_terrain_score": (ICE_CLASS, True), "landmark_score": (OTHER_CLASS, False)}


@dataclass(frozen=True)
class TerrainModel:
    """Standardisation plus the classifier heads of each score, as stored in the model file.

    Attributes
    ----------
    descriptor_names : list of str
        Must equal :data:`TILE_DESCRIPTOR_NAMES`.
    mean, scale : ndarray
        (D,) standardisation: ``z = (x - mean) / scale``.
    heads : dict of str to tuple of Head
        Per name in :data:`SCORES`, its heads (over the same classes); their probabilities are averaged.
    calibration : dict of str to tuple of float
        Per score, ``(slope, offset)`` of the Platt map applied to its log-odds, so that the score is a
        calibrated probability: ``score = sigmoid(slope * logit(raw) + offset)``; ``(1, 0)`` leaves it as is.
    metadata : dict
        What it was trained on (counts, source image ids, seed, hyper-parameters); informational.
    """

    descriptor_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    heads: dict[str, tuple[Head, ...]]
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def standardise(self, descriptors: np.ndarray) -> np.ndarray:
        """Standardised descriptors ``(x - mean) / scale``, shape (N, D)."""
        return (np.atleast_2d(descriptors) - self.mean) / self.scale

    def classes(self, score: str) -> list[str]:
        """The classes of the heads of `score`, in the order :meth:`probabilities` gives them."""
        return self.heads[_checked(score)][0].classes

    def probabilities(self, descriptors: np.ndarray, score: str = "landmark_score") -> np.ndarray:
        """Class probabilities (N, K) from the heads of `score` (averaged), each row summing to 1.

        Parameters
        ----------
        descriptors : ndarray
            (N, D) or (D,) raw descriptor vectors.
        score : str, optional
            Whose heads; the classes are :meth:`classes`.
        """
        return mean_probabilities(self.heads[_checked(score)], self.standardise(descriptors))

    def scores(self, descriptors: np.ndarray) -> dict[str, np.ndarray]:
        """Both terrain scores of each descriptor vector, each (N,) in [0, 1].

        ``ice_terrain_score`` is P(ice terrain); ``landmark_score`` is 1 - P(other): the chance that the
        tile shows any of the labeled landmark kinds (ice terrain included).  Both are calibrated
        (:attr:`calibration`).
        """
        raw = self.raw_scores(descriptors)
        return {score: calibrated(raw[score], self.score_calibration(score)) for score in SCORES}

    def score_calibration(self, score: str) -> tuple[float, float]:
        """The Platt map of `score` (identity when the model has none)."""
        return self.calibration.get(score, (1.0, 0.0))

    def raw_scores(self, descriptors: np.ndarray) -> dict[str, np.ndarray]:
        """The scores before calibration (what :func:`marsviz.train` fits the calibration on)."""
        result = {}
        for score in SCORES:
            name, direct = SCORE_CLASS[score]
            p = self.probabilities(descriptors, score)[:, self.classes(score).index(name)]
            result[score] = p if direct else 1.0 - p
        return result

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
            (D,) contributions to the score's (calibrated) log-odds, relative to a tile with the training set's
            mean descriptors.

        Notes
        -----
        Gradient times input: the gradient of the score's log-odds with respect to the standardised
        descriptors ``z``, times ``z``.  With ``g_ik`` the gradient of class ``k``'s logit in head ``i``,
        ``p_i`` its class probabilities and ``P`` their mean over the heads, the gradient of
        log(P_c / (1 - P_c)) is ``mean_i[p_ic (g_ic - sum_k p_ik g_ik)] / (P_c (1 - P_c))`` (sign reversed for
        the landmark score, the complement of ``other``).  Exact to first order; for linear heads ``g_ik`` is
        constant, for a network it holds for the tile's active hidden units.
        """
        name, direct = SCORE_CLASS[_checked(score)]
        k = self.classes(score).index(name)
        z = self.standardise(descriptor)[0]
        slope = np.zeros_like(z)
        mean_p = 0.0
        for head in self.heads[score]:
            p = head.probabilities(z[None])[0]
            gradients = head.logit_gradients(z)
            slope += p[k] * (gradients[k] - p @ gradients)
            mean_p += p[k]
        count = len(self.heads[score])
        mean_p /= count
        gradient = slope / count / max(mean_p * (1.0 - mean_p), 1e-12)
        return (gradient if direct else -gradient) * z * self.score_calibration(score)[0]

    def to_json(self) -> str:
        """The model file's text (stable key order and float precision, so equal models give equal files)."""
        payload = {
            "format": FORMAT_VERSION,
            "descriptor_names": list(self.descriptor_names),
            "mean": rounded_list(self.mean), "scale": rounded_list(self.scale),
            "heads": {score: [head.as_dict() for head in heads] for score, heads in self.heads.items()},
            # As fitted (rounded to 9 decimals there), so the file says what the evaluation reports.
            "calibration": {score: [float(v) for v in self.score_calibration(score)] for score in self.heads},
            "metadata": self.metadata,
        }
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"


def mean_probabilities(heads: tuple[Head, ...], z: np.ndarray) -> np.ndarray:
    """(N, K) class probabilities of standardised vectors `z`, averaged over `heads` (all over the same classes)."""
    return np.mean([head.probabilities(z) for head in heads], axis=0)


def calibrated(probability: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    """Apply a Platt map ``(slope, offset)`` to probabilities: ``sigmoid(slope * logit(p) + offset)``.

    Examples
    --------
    >>> calibrated(np.array([0.2, 0.5]), (1.0, 0.0)).round(6).tolist()
    [0.2, 0.5]
    >>> float(calibrated(np.array([0.5]), (1.0, np.log(3.0)))[0])
    0.75
    """
    slope, offset = calibration
    if slope == 1.0 and offset == 0.0:
        return np.asarray(probability, dtype=np.float64)
    p = np.clip(np.asarray(probability, dtype=np.float64), 1e-12, 1 - 1e-12)
    return 1.0 / (1.0 + np.exp(-(slope * np.log(p / (1 - p)) + offset)))


def _checked(score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"unknown terrain score {score!r}; expected one of {SCORES}")
    return score


def rounded_list(values: np.ndarray) -> list[float]:
    """Floats rounded to 9 significant digits, as model files store them (equal models, equal files)."""
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
            raise ModelError(f"{name}: model format {payload.get('format')!r}, expected {FORMAT_VERSION}; "
                             f"retrain it with `python -m marsviz train`")
        heads = {score: tuple(head_from_dict(head) for head in payload["heads"][score]) for score in SCORES}
        calibration = {score: tuple(float(v) for v in payload["calibration"][score]) for score in SCORES}
        model = TerrainModel(descriptor_names=list(payload["descriptor_names"]),
                             mean=np.asarray(payload["mean"], dtype=np.float64),
                             scale=np.asarray(payload["scale"], dtype=np.float64),
                             heads=heads, calibration=calibration, metadata=dict(payload.get("metadata", {})))
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"{name}: not a terrain model file ({type(error).__name__}: {error})") from None
    if model.descriptor_names != TILE_DESCRIPTOR_NAMES:
        raise ModelError(f"{name}: trained on other descriptors than this version computes; "
                         f"retrain it with `python -m marsviz train`")
    dims = len(TILE_DESCRIPTOR_NAMES)
    arrays = [model.mean, model.scale]
    shapes_ok = model.mean.shape == (dims,) and model.scale.shape == (dims,)
    for score, heads in model.heads.items():
        if not heads or any(head.classes != heads[0].classes for head in heads):
            raise ModelError(f"{name}: the {score} heads must be at least one, all over the same classes")
        shapes_ok &= all(head.fits(dims) for head in heads)
        arrays.append(np.asarray(model.calibration[score]))
        shapes_ok &= len(model.calibration[score]) == 2
        if SCORE_CLASS[score][0] not in heads[0].classes:
            raise ModelError(f"{name}: the {score} head's classes {heads[0].classes} lack {SCORE_CLASS[score][0]!r}")
    if not shapes_ok or not all(np.isfinite(a).all() for a in arrays):
        raise ModelError(f"{name}: arrays of the wrong shape or not finite")
    if np.any(model.scale <= 0):
        raise ModelError(f"{name}: standardisation scale must be positive")
    return model


def head_from_dict(payload: dict) -> Head:
    """A :class:`Head` from its :meth:`Head.as_dict` form (raises ValueError, KeyError or TypeError if malformed)."""
    hidden = payload.get("hidden_weights")
    if payload["kind"] not in ("linear", "mlp") or (payload["kind"] == "mlp") != (hidden is not None):
        raise ValueError(f"unknown head kind {payload['kind']!r}")
    inputs = payload.get("inputs")
    return Head(classes=[str(c) for c in payload["classes"]],
                coef=np.atleast_2d(np.asarray(payload["coef"], dtype=np.float64)),
                intercept=np.asarray(payload["intercept"], dtype=np.float64),
                hidden_weights=None if hidden is None else np.atleast_2d(np.asarray(hidden, dtype=np.float64)),
                hidden_bias=None if hidden is None else np.asarray(payload["hidden_bias"], dtype=np.float64),
                inputs=None if inputs is None else (int(inputs[0]), int(inputs[1])))


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


def read_model_text(path: Path, what: str) -> str:
    """A model or evaluation file's text; a clear :class:`ModelError` naming `what` if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"cannot read {what} {path} ({error})") from None


def read_json_file(path: Path, what: str) -> dict:
    """A JSON file written with a model (its evaluation); :class:`ModelError` if unreadable or not JSON."""
    text = read_model_text(path, what)
    try:
        return json.loads(text)
    except ValueError as error:
        raise ModelError(f"cannot read {what} {path} ({error})") from None


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> TerrainModel:
    return model_from_json(read_model_text(path, "terrain model"), name=str(path))


def load_evaluation(path: str | Path | None = None) -> dict:
    """The evaluation summary written with a model: dataset, protocol, targets and one row per (task, score).

    Parameters
    ----------
    path : str or Path, optional
        Default: ``evaluation.json`` beside the model in use (:func:`model_path`), which ``train`` writes.

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
    return read_json_file(Path(path or model_path().with_name(SHIPPED_EVALUATION.name)), "terrain evaluation")
