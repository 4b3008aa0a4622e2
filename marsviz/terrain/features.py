"""The two trained terrain scores as registry features: ice terrain and landmark (interesting terrain).

Both come from one pass: the image's luminance is cut into tiles of about the training crops' size
(``tile_side``, which the registry passes down from the setting ``terrain_tile_side``), each tile is
described (hand-made descriptors, :mod:`marsviz.terrain.descriptors`, and a pretrained network's,
:mod:`marsviz.terrain.backbone`) and scored by the shipped model
(:mod:`marsviz.terrain.model`).  A tile's score is what was validated on labeled HiRISE
crops; an image's value is the mean of its best quarter of tiles, and its map paints each tile's score.
:func:`terrain_scores` computes both (the registry's shared group step); each feature function also
works alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marsviz.config import AnalysisSettings
from marsviz.features._base import Feature, FeatureResult, check_image, enlarged, luminance
from marsviz.terrain.backbone import BACKBONE_NAMES, backbone_descriptors, backbone_fingerprint
from marsviz.terrain.descriptors import (DESCRIPTOR_LABELS, DESCRIPTOR_NAMES, MIN_TILE_SIDE, describe_tiles,
                                         half_resolution, terrain_tiles, untile)
from marsviz.terrain.model import HAND_MADE, SCORES, TerrainModel, load_model, model_fingerprint

#: Tiles with less than this share of data pixels (the rest black no-data fill) are not scored.
MIN_VALID_FRACTION = 0.5
#: Share of an image's scored tiles, best first, whose mean is the image's value.
TOP_TILE_FRACTION = 0.25
#: How many descriptors an explanation lists each way (up and down).
EXPLAINED_DESCRIPTORS = 5
#: What an explanation lists: each hand-made descriptor, and the pretrained network's channels as one.
EXPLAINED_NAMES = [*DESCRIPTOR_NAMES, "pretrained_texture"]
EXPLAINED_LABELS = {**DESCRIPTOR_LABELS,
                    "pretrained_texture": f"pretrained network's texture channels ({len(BACKBONE_NAMES)}, together)"}
#: Tile side when none is given: the labeled HiRISE crops' size, the setting's default.
DEFAULT_TILE_SIDE = AnalysisSettings().tile_side


@dataclass(frozen=True)
class TileDescriptors:
    """Descriptors of an image's tiles and where the tiles lie.

    Attributes
    ----------
    descriptors : ndarray
        (rows * cols, D), row-major: :data:`marsviz.terrain.model.TILE_DESCRIPTOR_NAMES`.
    valid : ndarray
        (rows * cols,) bool: enough data pixels to be scored.
    rows, cols : int
        The tile grid.
    tile_height, tile_width : float
        Size of one tile in pixels of the image given (the last row and column of tiles also take the
        few leftover pixels).
    """

    descriptors: np.ndarray
    valid: np.ndarray
    rows: int
    cols: int
    tile_height: float
    tile_width: float


def half_resolution_tiles(image: np.ndarray, tile_side: int = DEFAULT_TILE_SIDE
                          ) -> tuple[np.ndarray, np.ndarray, int, int, float]:
    """An image's luminance at half resolution, cut into terrain tiles with their no-data filled.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    tile_side : int, optional
        Side of a tile in pixels of `image` (about; the grid divides the image evenly).

    Returns
    -------
    tiles, valid_fraction, rows, cols
        As :func:`marsviz.terrain.descriptors.terrain_tiles`.
    factor : float
        How much a tiny image was enlarged first (1 for most).
    """
    gray = luminance(check_image(image))
    # Tiny images are enlarged (pixel repetition) so that a tile at half resolution is big enough to describe.
    gray, factor = enlarged(gray, 2 * MIN_TILE_SIDE)
    return *terrain_tiles(half_resolution(gray), tile_side), factor


def image_descriptors(image: np.ndarray, tile_side: int = DEFAULT_TILE_SIDE) -> TileDescriptors:
    """Cut an image into terrain tiles and describe each.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3); colour is reduced to luminance.
    tile_side : int, optional
        Side of a tile in pixels of `image` (about; the grid divides the image evenly); tiles are described
        at half resolution (:func:`half_resolution_tiles`): each by the hand-made descriptors, and the whole
        half-resolution image by the pretrained network, pooled over each tile.

    Returns
    -------
    TileDescriptors
    """
    filled, valid_fraction, rows, cols, factor = half_resolution_tiles(image, tile_side)
    descriptors = np.hstack([describe_tiles(filled), backbone_descriptors(untile(filled, rows, cols), rows, cols)])
    return TileDescriptors(descriptors, valid_fraction >= MIN_VALID_FRACTION, rows, cols,
                           filled.shape[1] * 2 / factor, filled.shape[2] * 2 / factor)


def _tile_map(tiles: TileDescriptors, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Paint each tile's value over its pixels, as a float32 (H, W) map."""
    row_of = np.minimum((np.arange(shape[0]) / tiles.tile_height).astype(np.intp), tiles.rows - 1)
    col_of = np.minimum((np.arange(shape[1]) / tiles.tile_width).astype(np.intp), tiles.cols - 1)
    grid = values.reshape(tiles.rows, tiles.cols).astype(np.float32)
    return grid[row_of][:, col_of]


def aggregate(tile_scores: np.ndarray, valid: np.ndarray) -> float:
    """An image's value from its tile scores: the mean of the best quarter of the scored tiles.

    The mean of the best quarter, rather than the maximum, so that an image is not judged by one tile
    and large images (more tiles, more chances of one false alarm) are not favoured; a single tile
    (a crop of the training size) keeps its own score.

    Examples
    --------
    >>> aggregate(np.array([0.9, 0.1, 0.2, 0.3]), np.ones(4, dtype=bool))
    0.9
    >>> aggregate(np.array([0.9, 0.1]), np.array([False, False]))
    0.0
    """
    scored = np.sort(tile_scores[valid])[::-1]
    if scored.size == 0:
        return 0.0
    top = max(1, math.ceil(scored.size * TOP_TILE_FRACTION))
    return float(np.clip(scored[:top].mean(), 0.0, 1.0))


def terrain_scores(image: np.ndarray, model: TerrainModel | None = None,
                   tile_side: int = DEFAULT_TILE_SIDE) -> dict[str, FeatureResult]:
    """Both terrain scores of an image, and why, from one descriptor pass.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    model : TerrainModel, optional
        Default: :func:`marsviz.terrain.model.load_model`.
    tile_side : int, optional
        Side of the tiles in pixels of `image` (:func:`image_descriptors`).

    Returns
    -------
    dict of str to FeatureResult
        ``ice_terrain_score`` and ``landmark_score``: value in [0, 1]; map a float32 (H, W) array of the
        score of the tile each pixel lies in (0 on tiles that are mostly no-data); detail
        ``{"explanation": ...}``, what :func:`explain` returns for that score.

    Raises
    ------
    ModelError
        If the model file cannot be loaded.

    Examples
    --------
    >>> image = np.random.default_rng(0).random((300, 400)).astype(np.float32)
    >>> results = terrain_scores(image)
    >>> sorted(results), results["landmark_score"].map.shape
    (['ice_terrain_score', 'landmark_score'], (300, 400))
    >>> sorted(results["landmark_score"].detail["explanation"])
    ['down', 'likeliest', 'score', 'tile', 'up']
    """
    model = model or load_model()
    tiles = image_descriptors(image, tile_side)
    shape = image.shape[:2]
    results = {}
    for name, values in model.scores(tiles.descriptors).items():
        values = np.where(tiles.valid, np.clip(values, 0.0, 1.0), 0.0)
        results[name] = FeatureResult(aggregate(values, tiles.valid), _tile_map(tiles, values, shape),
                                      {"explanation": _explanation(tiles, values, name, model)})
    return results


def ice_terrain_score(image: np.ndarray, tile_side: int = DEFAULT_TILE_SIDE) -> FeatureResult:
    """How much the image looks like the ice terrain of the labeled HiRISE set (swiss cheese, spiders).

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    tile_side : int, optional
        Side of the tiles in pixels of `image` (:func:`image_descriptors`).

    Returns
    -------
    FeatureResult
        `value`: the model's probability of ice terrain (mean over the best quarter of tiles); `map`:
        each tile's probability.
    """
    return terrain_scores(image, tile_side=tile_side)["ice_terrain_score"]


def landmark_score(image: np.ndarray, tile_side: int = DEFAULT_TILE_SIDE) -> FeatureResult:
    """How likely the image shows one of the labeled landmark kinds rather than "other" terrain.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    tile_side : int, optional
        Side of the tiles in pixels of `image` (:func:`image_descriptors`).

    Returns
    -------
    FeatureResult
        `value`: 1 - the model's probability of "other" (mean over the best quarter of tiles); `map`:
        each tile's score.
    """
    return terrain_scores(image, tile_side=tile_side)["landmark_score"]


def explain(image: np.ndarray, score: str, top: int = EXPLAINED_DESCRIPTORS, model: TerrainModel | None = None,
            tile_side: int = DEFAULT_TILE_SIDE) -> dict:
    """Why an image got its terrain score: the descriptors that pushed it up or down most.

    :func:`terrain_scores` gives the same explanation of both scores as its results' detail, from the
    descriptor pass it scores with; this function is for one score alone.

    Parameters
    ----------
    image : ndarray
        float image in [0, 1], (H, W) or (H, W, 3).
    score : str
        ``ice_terrain_score`` or ``landmark_score``.
    top : int, optional
        How many descriptors to list each way.
    model : TerrainModel, optional
        Default: the shipped model.
    tile_side : int, optional
        Side of the tiles in pixels of `image`, as the image's score was computed with.

    Returns
    -------
    dict
        ``tile`` (row, col) of the best-scoring tile, which is explained; ``score`` its score;
        ``likeliest`` the terrain class the model finds likeliest there and its probability;
        ``up`` and ``down``: lists of ``{"descriptor", "label", "value", "contribution"}``
        (contribution to the score's log-odds), largest first.
    """
    if score not in SCORES:
        raise ValueError(f"unknown terrain score {score!r}; expected one of {SCORES}")
    model = model or load_model()
    tiles = image_descriptors(image, tile_side)
    values = np.where(tiles.valid, np.clip(model.scores(tiles.descriptors)[score], 0.0, 1.0), 0.0)
    return _explanation(tiles, values, score, model, top)


def _explanation(tiles: TileDescriptors, tile_scores: np.ndarray, score: str, model: TerrainModel,
                 top: int = EXPLAINED_DESCRIPTORS) -> dict:
    """:func:`explain`'s answer from an image's tiles and their (clipped) scores of `score`."""
    best = int(np.argmax(np.where(tiles.valid, tile_scores, -1.0)))
    descriptor = tiles.descriptors[best]
    every = model.contributions(descriptor, score)
    probabilities = model.probabilities(descriptor, score)[0]
    likeliest = int(np.argmax(probabilities))
    # The hand-made descriptors one by one; the pretrained channels, which have no name a person can read, together.
    hand = slice(*HAND_MADE)
    contributions = np.append(every[hand], every[HAND_MADE[1]:].sum())
    values = np.append(descriptor[hand], np.nan)
    order = np.argsort(contributions)

    def rows(indices):
        return [{"descriptor": EXPLAINED_NAMES[i], "label": EXPLAINED_LABELS[EXPLAINED_NAMES[i]],
                 "value": None if np.isnan(values[i]) else float(values[i]),
                 "contribution": float(contributions[i])} for i in indices]

    return {"tile": divmod(best, tiles.cols), "score": float(tile_scores[best]) if tiles.valid[best] else 0.0,
            "likeliest": (model.classes(score)[likeliest], float(probabilities[likeliest])),
            "up": rows([i for i in order[::-1][:top] if contributions[i] > 0]),
            "down": rows([i for i in order[:top] if contributions[i] < 0])}


#: Feature version: the code's, plus the model's and the network's fingerprints, so that retraining (or another
#: network) recomputes stored values.
VERSION = f"2.{backbone_fingerprint()}.{model_fingerprint()}"

_METHOD = ("Luminance is cut into tiles of about terrain_tile_side px (a setting; by default the size of the "
           "labeled HiRISE crops). Each tile is described at half resolution by {count} hand-made texture and shape "
           "descriptors (brightness quantiles, gradients at 2, 4 and 8 px, rotation-invariant LBP histograms at 3 "
           "scales, GLCM contrast/homogeneity/energy/correlation, Hessian blob and ridge strength, orientation "
           "coherence and entropy, heterogeneity between blocks, Gabor energy) and by {network} pretrained texture "
           "descriptors (the mean and spread over the tile of each channel of blocks 4, 7 and 10 of "
           "EfficientNet-Lite0, an ImageNet network used as it is). A model trained on the labeled HiRISE crops "
           "counted on the Method page, with rotated, mirrored, shrunk and enlarged copies (python -m marsviz "
           "train), scores each tile; "
           "each score is calibrated on held-out source images so that it reads as a probability. Black no-data "
           "borders are filled before describing; tiles mostly no-data are not scored. The image's value is the "
           "mean of its best quarter of tiles; the map shows each tile's score.")
_COUNTS = {"count": len(DESCRIPTOR_NAMES), "network": len(BACKBONE_NAMES)}

ICE_TERRAIN_FEATURE = Feature(
    name="ice_terrain_score", label="Ice terrain (trained)", function=ice_terrain_score, version=VERSION,
    measures="How much the image looks like the CO2 ice terrain scientists labeled in HiRISE images: the south "
             "polar cap's swiss cheese terrain and the spiders (araneiforms) carved by seasonal CO2 ice.",
    method=_METHOD.format(**_COUNTS) + " Value: the model's probability of ice terrain, the mean of a "
           "multinomial logistic regression on the hand-made descriptors and one on all of them.",
    why="Swiss cheese pits and spiders exist because of ice: they are the water/ice signal of the labeled set, "
        "validated on HiRISE source images kept out of training (see the Method page's evaluation table).",
    limits="Validated only on grayscale HiRISE orbital crops, at their own scale and at half and twice it; colour "
           "is reduced to luminance. Rover images and other cameras are not validated. The labeled ice crops come "
           "from few source images, all polar (Method page): water-ice features (frost, gullies, ice-exposing "
           "craters) were not in the training set.",
    overlay_colour=(60, 220, 120), group=terrain_scores, settings=("tile_side",),
    validated_views=("orbital",))

LANDMARK_FEATURE = Feature(
    name="landmark_score", label="Landmark terrain (trained)", function=landmark_score, version=VERSION,
    measures="How likely the image shows one of the landmark kinds scientists labeled in HiRISE images "
             "(craters, dark or bright dunes, slope streaks, impact ejecta, swiss cheese, spiders) rather "
             "than unremarkable terrain.",
    method=_METHOD.format(**_COUNTS) + " Value: 1 minus the probability of 'other' from a multinomial "
           "logistic regression on all the descriptors.",
    why="An 'interesting terrain' score learnt from what planetary scientists chose to label, instead of a "
        "hand-set threshold; validated on HiRISE source images kept out of training.",
    limits="Validated only on grayscale HiRISE orbital crops (see the evaluation table): the 'other' class holds "
           "many salient but unlabeled features, so a high score on an 'other' crop is not always wrong. Rover "
           "images and other cameras are not validated; the pretrained texture channels come from ImageNet "
           "photographs, and only the classifier over them was fitted to Mars.",
    overlay_colour=(255, 150, 0), group=terrain_scores, settings=("tile_side",),
    validated_views=("orbital",))

#: The terrain features, in registry order.
TERRAIN_FEATURES = [ICE_TERRAIN_FEATURE, LANDMARK_FEATURE]
