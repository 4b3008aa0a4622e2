"""The contract every feature follows, and input checks shared by all of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np


class FeatureResult(NamedTuple):
    """What a feature function returns.

    Attributes
    ----------
    value : float
        The feature's value, in [0, 1].
    map : ndarray
        A 2-D array with the image's height and width: a boolean pixel mask, or a float map in [0, 1],
        showing where in the image the value comes from.
    detail : dict or None
        What the feature found beyond its value, stored beside it (the view model's call: see
        :data:`marsviz.registry.ANNOTATIONS`); None for most features.
    """

    value: float
    map: np.ndarray
    detail: dict | None = None


@dataclass(frozen=True)
class Feature:
    """A registered feature: the function and everything the catalog, the UI and the Method page say of it.

    Attributes
    ----------
    name : str
        Column name in the catalog and key in JSON output (snake_case).
    label : str
        Short human name for axes and tables.
    function : callable
        ``function(image, **settings) -> FeatureResult`` with `image` as given by
        :func:`marsviz.decode.load_image`.
    version : str
        Bumped whenever the function's output changes; stored values of an older version are recomputed.
    measures, method, why, limits : str
        The Method page's text: what it measures, how (thresholds, resolution), why it hints at water,
        ice or unusual terrain, and where it is weak.
    overlay_colour : tuple of int
        RGB colour of the overlay drawn in the viewer.
    has_overlay : bool
        False for a property of the whole frame, whose map is the same everywhere: the viewer offers no
        overlay for it.
    gates : bool
        True for the probability that the frame shows what the other features measure (Mars terrain): the
        composite multiplies every other feature's value by it before averaging, and averages it in too
        (:func:`marsviz.scoring.composite_score`).
    colour_only : bool
        True when the feature says nothing about grayscale images; scoring then treats a grayscale
        image's value as missing rather than as 0.
    group : callable or None
        ``group(image, **settings) -> dict[str, FeatureResult]`` computing several features from one shared
        step; :func:`marsviz.registry.compute_all` calls it once for all features naming it.
    settings : tuple of str
        Fields of :class:`marsviz.config.AnalysisSettings` that `function` and `group` take as keyword
        arguments of the same name (``tile_side``); :func:`marsviz.registry.compute_all` passes them from
        the run's settings, so the function never reads the environment.
    stands_in_for : tuple of str
        Trained scores this plain measurement stands in for: in the composite it counts only on images where
        none of them (with a weight) applies, so that a measurement shown to rank worse does not dilute the
        validated score where there is one.  Empty: it always counts.
    validated_views : tuple of str or None
        The views (:data:`marsviz.view.model.VIEWS`) a trained score was validated on; on an image of another
        view the score does not apply and scoring treats it as missing.  None: a plain measurement that
        applies to every view.
    context : bool
        True for a context feature (:mod:`marsviz.context.features`): a function of where the image is, not
        of its pixels, ``function(latitude, longitude) -> ndarray`` (degrees north and east; values in [0, 1],
        NaN where the place is unknown), computed when the catalog locates the image, never from pixels.  It
        has no overlay, and the outlier score, the projection and the neighbours, which compare appearance,
        leave it out.
    """

    name: str
    label: str
    function: Callable[..., FeatureResult]
    version: str
    measures: str
    method: str
    why: str
    limits: str
    overlay_colour: tuple[int, int, int] = (255, 0, 0)
    has_overlay: bool = True
    gates: bool = False
    colour_only: bool = False
    group: Callable[..., dict[str, FeatureResult]] | None = None
    settings: tuple[str, ...] = ()
    stands_in_for: tuple[str, ...] = ()
    validated_views: tuple[str, ...] | None = None
    context: bool = False

    def arguments(self, settings) -> dict:
        """The keyword arguments `function` and `group` take from `settings` (an
        :class:`marsviz.config.AnalysisSettings`): one per name in :attr:`settings`."""
        return {name: getattr(settings, name) for name in self.settings}

    def not_validated_on(self, view: str | None) -> bool:
        """Whether `view` is known and not among the views this feature was validated on."""
        return view is not None and self.validated_views is not None and view not in self.validated_views

    def applies_to(self, is_color: bool, view: str | None = None) -> bool:
        """Whether this feature means anything on a colour (True) or grayscale (False) image of `view`.

        An image whose view is unknown (None) is not excluded by view.
        """
        return not self.not_validated_on(view) and (is_color or not self.colour_only)

    def why_not_applied(self, is_color: bool, view: str | None = None) -> str:
        """Why the feature does not apply to such an image, in a sentence; empty if it does."""
        if self.not_validated_on(view):
            return (f"{self.label} was validated only on {' and '.join(self.validated_views)} images; this image "
                    f"looks like a {view} view, where it was never validated, so the composite leaves it out.")
        if not is_color and self.colour_only:
            return f"{self.label} needs colour; this image is grayscale, so the composite leaves it out."
        return ""


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate a feature input and return it unchanged.

    Parameters
    ----------
    image : ndarray
        Float image in [0, 1]: shape (H, W) for grayscale or (H, W, 3) for RGB.

    Raises
    ------
    ValueError
        If the shape, dtype or range is wrong.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"image too small for features: {image.shape[:2]}")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"expected a float image in [0, 1], got dtype {image.dtype}")
    return image


def enlarged(image: np.ndarray, min_side: int) -> tuple[np.ndarray, int]:
    """`image` enlarged by pixel repetition so that its short side is at least `min_side`, and the factor.

    Examples
    --------
    >>> big, factor = enlarged(np.zeros((10, 40)), 32)
    >>> big.shape, factor
    ((40, 160), 4)
    """
    factor = max(1, math.ceil(min_side / min(image.shape[:2])))
    if factor > 1:
        image = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    return image, factor


def luminance(image: np.ndarray) -> np.ndarray:
    """Luminance in [0, 1] (Rec. 709 weights for RGB; grayscale returned as is), as float32."""
    if image.ndim == 2:
        return image.astype(np.float32, copy=False)
    weights = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return image.astype(np.float32, copy=False) @ weights
