"""The view model: what an image shows (orbital ground, a rover's view of terrain, rover hardware, other).

Networks of one hidden layer over the standardised :func:`marsviz.view.descriptors.view_inputs`, trained with
different seeds on fine classes (each Curiosity label, HiRISE crops, non-Mars photographs); a class's
probability is their mean, a view's the sum of its classes'.  Stored as plain numbers in JSON
(``view_model.json``), loaded without scikit-learn; ``python -m marsviz train-view`` rebuilds it
(:mod:`marsviz.view.train`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from marsviz import config
from marsviz.errors import ModelError
from marsviz.terrain.model import (Head, head_from_dict, mean_probabilities, read_json_file, read_model_text,
                                   rounded_list)
from marsviz.view.descriptors import VIEW_INPUT_NAMES, view_inputs

#: The model shipped with the package, and its evaluation (the Method page's view table).
SHIPPED_VIEW_MODEL = Path(__file__).with_name("view_model.json")
SHIPPED_VIEW_EVALUATION = SHIPPED_VIEW_MODEL.with_name("view_evaluation.json")
#: Format version of the model file.
FORMAT_VERSION = 3
#: The views, in display order.
VIEWS = ("orbital", "surface", "hardware", "other")
#: What each view means, for the viewer and the Method page.
VIEW_MEANINGS = {
    "orbital": "ground seen from orbit",
    "surface": "a rover's or lander's view of terrain or sky",
    "hardware": "rover hardware or a calibration target",
    "other": "a map, globe, diagram, artwork or not Mars",
}


@dataclass(frozen=True)
class ViewResult:
    """An image's view.

    Attributes
    ----------
    view : str
        One of :data:`VIEWS`: the likeliest.
    confidence : float
        Its probability, in [0, 1].
    probabilities : dict of str to float
        Every view's probability (they sum to 1).
    """

    view: str
    confidence: float
    probabilities: dict


@dataclass(frozen=True)
class ViewModel:
    """Standardisation, classifier heads over fine classes, and the view of each class.

    Attributes
    ----------
    mean, scale : ndarray
        (D,) standardisation of the descriptors.
    heads : tuple of Head
        Networks over the same fine classes, in the same order (fitted with different seeds); their
        probabilities are averaged.
    view_of : dict of str to str
        The view of each class.
    metadata : dict
        What it was trained on; informational.
    """

    mean: np.ndarray
    scale: np.ndarray
    heads: tuple[Head, ...]
    view_of: dict
    metadata: dict = field(default_factory=dict)

    def view_probabilities(self, descriptors: np.ndarray) -> np.ndarray:
        """(N, len(VIEWS)) view probabilities of descriptor vectors (N, D) or (D,)."""
        z = (np.atleast_2d(descriptors) - self.mean) / self.scale
        fine = mean_probabilities(self.heads, z)
        columns = np.array([VIEWS.index(self.view_of[c]) for c in self.heads[0].classes])
        out = np.zeros((fine.shape[0], len(VIEWS)))
        np.add.at(out.T, columns, fine.T)
        return out

    def classify(self, image: np.ndarray) -> ViewResult:
        """The view of one float image in [0, 1], (H, W) or (H, W, 3)."""
        return self.classify_descriptors(view_inputs(image))

    def classify_descriptors(self, vector: np.ndarray) -> ViewResult:
        """The view of an image from its input vector (:func:`marsviz.view.descriptors.view_inputs`)."""
        p = self.view_probabilities(vector)[0]
        best = int(np.argmax(p))
        return ViewResult(VIEWS[best], float(p[best]), {v: float(x) for v, x in zip(VIEWS, p)})

    def to_json(self) -> str:
        """The model file's text (stable order and precision: equal models give equal files)."""
        payload = {"format": FORMAT_VERSION, "descriptor_names": list(VIEW_INPUT_NAMES),
                   "mean": rounded_list(self.mean), "scale": rounded_list(self.scale),
                   "heads": [head.as_dict() for head in self.heads], "view_of": dict(sorted(self.view_of.items())),
                   "metadata": self.metadata}
        return json.dumps(payload, indent=1, sort_keys=True) + "\n"


def view_model_from_json(text: str, name: str = "view model") -> ViewModel:
    """Parse and check a view model file's text.

    Raises
    ------
    ModelError
        If it is not a view model of this format and these descriptors, or its arrays are malformed.
    """
    try:
        payload = json.loads(text)
        if payload.get("format") != FORMAT_VERSION:
            raise ModelError(f"{name}: view model format {payload.get('format')!r}, expected {FORMAT_VERSION}; "
                             "retrain it with `python -m marsviz train-view`")
        if payload["descriptor_names"] != VIEW_INPUT_NAMES:
            raise ModelError(f"{name}: trained on other descriptors than this version computes; "
                             "retrain it with `python -m marsviz train-view`")
        heads = tuple(head_from_dict(head) for head in payload["heads"])
        if not heads:
            raise ValueError("no heads")
        model = ViewModel(mean=np.asarray(payload["mean"], dtype=np.float64),
                          scale=np.asarray(payload["scale"], dtype=np.float64), heads=heads,
                          view_of=dict(payload["view_of"]), metadata=dict(payload.get("metadata", {})))
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"{name}: not a view model file ({type(error).__name__}: {error})") from None
    dims = len(VIEW_INPUT_NAMES)
    ok = model.mean.shape == model.scale.shape == (dims,)
    ok &= all(head.classes == model.heads[0].classes and head.fits(dims) for head in model.heads)
    ok &= set(model.heads[0].classes) == set(model.view_of) and set(model.view_of.values()) <= set(VIEWS)
    if not ok or np.any(model.scale <= 0):
        raise ModelError(f"{name}: arrays of the wrong shape, classes without a view, or values not finite")
    return model


def view_model_path() -> Path:
    """The view model file in use: setting ``view_model``, or the shipped model when that is empty."""
    return Path(config.get("view_model") or SHIPPED_VIEW_MODEL).expanduser().resolve()


def load_view_model(path: str | Path | None = None) -> ViewModel:
    """Load a view model file (cached per path).

    Parameters
    ----------
    path : str or Path, optional
        Default: setting ``view_model``, or the model shipped in the package when that is empty.

    Raises
    ------
    ModelError
        If the file is missing, unreadable or not a compatible model.
    """
    return _load_cached(Path(path).expanduser().resolve() if path else view_model_path())


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> ViewModel:
    return view_model_from_json(read_model_text(path, "view model"), name=str(path))


def load_view_evaluation(path: str | Path | None = None) -> dict:
    """The evaluation written with the view model (``views``, ``rover_labels``, ``terrain_vs_hardware_auc``).

    `path` defaults to ``view_evaluation.json`` beside the model in use (:func:`view_model_path`).

    Raises
    ------
    ModelError
        If the file is missing or not JSON.
    """
    return read_json_file(Path(path or view_model_path().with_name(SHIPPED_VIEW_EVALUATION.name)), "view evaluation")


def classify_view(image: np.ndarray, model: ViewModel | None = None) -> ViewResult:
    """What an image shows: its view and the view's probability.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3), at least 32 px a side.
    model : ViewModel, optional
        Default: the shipped model.

    Returns
    -------
    ViewResult
    """
    return (model or load_view_model()).classify(image)
