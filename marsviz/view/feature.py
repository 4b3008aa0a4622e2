"""The view model as a registry feature: how likely the image shows Mars terrain, and (its detail) the view.

One classification gives both: the feature's value, the probability that the frame shows terrain (from
orbit or the surface) rather than rover hardware or something that is not a view of Mars, which the
composite weighs so that hardware and calibration frames rank low; and the view with its probability,
which the catalog stores beside the values (:data:`marsviz.registry.ANNOTATIONS`).
"""

from __future__ import annotations

import numpy as np

from marsviz.features._base import Feature, FeatureResult
from marsviz.terrain.backbone import backbone_fingerprint
from marsviz.terrain.model import model_fingerprint
from marsviz.view.descriptors import view_descriptors, view_inputs
from marsviz.view.model import VIEWS, load_view_model, view_model_path

#: The views that count as Mars terrain.
TERRAIN_VIEWS = ("orbital", "surface")


def view_scores(image: np.ndarray) -> dict[str, FeatureResult]:
    """The terrain-view score of an image, with the view and its probability as the result's detail.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).

    Returns
    -------
    dict of str to FeatureResult
        ``terrain_view_score``: value P(orbital) + P(surface) in [0, 1]; map that value over the whole
        frame (the view is a property of the frame); detail ``view``, ``view_confidence``,
        ``view_probabilities`` and ``descriptors`` (the hand-made part of the classified vector, float32, in
        the order of :data:`marsviz.view.descriptors.VIEW_DESCRIPTOR_NAMES`; what a person's labels learn from).

    Examples
    --------
    >>> result = view_scores(np.random.default_rng(0).random((120, 160)).astype(np.float32))
    >>> sorted(result["terrain_view_score"].detail)
    ['descriptors', 'view', 'view_confidence', 'view_probabilities']
    """
    descriptors = view_descriptors(image)
    result = load_view_model().classify_descriptors(view_inputs(image, descriptors))
    value = float(np.clip(sum(result.probabilities[v] for v in TERRAIN_VIEWS), 0.0, 1.0))
    detail = {"view": result.view, "view_confidence": round(result.confidence, 6),
              "view_probabilities": {v: round(result.probabilities[v], 6) for v in VIEWS},
              "descriptors": descriptors.astype(np.float32)}
    return {"terrain_view_score": FeatureResult(value, np.full(image.shape[:2], value, np.float32), detail)}


def terrain_view_score(image: np.ndarray) -> FeatureResult:
    """How likely the image shows Mars terrain (orbital or surface view) rather than hardware or other.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).

    Returns
    -------
    FeatureResult
        See :func:`view_scores`.
    """
    return view_scores(image)["terrain_view_score"]


VIEW_FEATURE = Feature(
    name="terrain_view_score", label="Shows Mars terrain (trained)", function=terrain_view_score,
    version=f"3.{backbone_fingerprint()}.{model_fingerprint(view_model_path())}",
    measures="How likely the frame shows Mars terrain, from orbit or from the surface, rather than a rover's own "
             "hardware or calibration targets, a map, a globe or something that is not Mars.",
    method="The view model (Method page: What an image shows): 118 whole-frame descriptors made by hand, of the "
           "image reduced to 128 px (texture; brightness, contrast and edges in bands from top to bottom and left "
           "to right; edge directions; colour), and 464 of the terrain scores' pretrained network over the frame "
           "at about 256 px (a larger frame halved and seen as the terrain scores see it, from their network "
           "pass); five networks of 64 ReLU units, averaged, over fine classes (every Curiosity label; "
           "HiRISE crops and orbital products assembled from them; kinds of images that are not Mars terrain). "
           "Value: P(orbital) + P(surface).",
    why="A frame of a wheel or a calibration target has no terrain in it, however much colour or edge it has; "
        "without this the ranking does not know a rover wheel from Martian ground.",
    limits="Trained on Curiosity Mastcam and MAHLI frames, HiRISE crops and products assembled from them, and "
           "maps, artwork, screenshots and photographs that are not Mars. About 2 in 10 drill-hole close-ups of "
           "later sols are called hardware; other rovers' cameras are not validated; orbital images of other "
           "cameras are validated only as products assembled from HiRISE crops; a real labeled set of other "
           "cameras' products does not exist here.",
    overlay_colour=(255, 255, 255), has_overlay=False, gates=True, group=view_scores)
