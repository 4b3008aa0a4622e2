"""New to you: which images are least like anything a person has reviewed, and in what.

After DEMUD (Wagstaff et al. 2013, "Guiding scientific discovery with explanations using DEMUD", AAAI): a
low-rank model of the reviewed images' descriptor vectors (their mean and main directions, each descriptor
standardised as the view model standardises it) reconstructs every image; the larger the reconstruction error, the less
the image resembles anything reviewed, and the descriptors with the largest residuals say what is new in it.
Each label changes the model, so walking this order and labeling as one goes is DEMUD's discovery loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from marsviz.view.descriptors import VIEW_DESCRIPTOR_NAMES
from marsviz.view.model import load_view_model

#: Share of the reviewed images' variance the low-rank model keeps, and the most directions it uses: nearly
#: all, so that a few reviewed images of a new kind add their direction and the rest of that kind stop being new.
VARIANCE_KEPT, MAX_RANK = 0.99, 10
#: Descriptors named when saying what makes an image new.
WHY_DESCRIPTORS = 3


@dataclass(frozen=True)
class Standardisation:
    """Mean and standard deviation of every descriptor."""

    mean: np.ndarray
    scale: np.ndarray

    def apply(self, descriptors: np.ndarray) -> np.ndarray:
        """`descriptors` (n, d) in standard deviations from the mean."""
        return (np.asarray(descriptors, np.float64) - self.mean) / self.scale


def descriptor_standardisation() -> Standardisation:
    """The view model's standardisation of the stored descriptors (over its training images: rover frames,
    orbital crops and products, images that are not Mars): the same in every catalog, and known without reading
    one.  The stored descriptors are the hand-made part of the model's inputs, their first
    ``len(VIEW_DESCRIPTOR_NAMES)`` (:func:`marsviz.view.descriptors.view_inputs`).

    Raises
    ------
    ModelError
        If the view model cannot be loaded.
    """
    model, stored = load_view_model(), slice(0, len(VIEW_DESCRIPTOR_NAMES))
    return Standardisation(np.asarray(model.mean[stored], np.float64), np.asarray(model.scale[stored], np.float64))


@dataclass(frozen=True)
class ReviewedModel:
    """The low-rank model of the reviewed images' standardised descriptors.

    Attributes
    ----------
    standardisation : Standardisation
    centre : ndarray
        (d,) mean of the reviewed images (zeros, the standardisation's mean, when none is reviewed).
    basis : ndarray
        (k, d) orthonormal main directions of the reviewed images; k may be 0.
    reviewed : int
        How many images the model was made of.
    """

    standardisation: Standardisation
    centre: np.ndarray
    basis: np.ndarray
    reviewed: int

    def residuals(self, descriptors: np.ndarray) -> np.ndarray:
        """(n, d) what the model cannot reconstruct of each vector, in standard deviations."""
        offset = self.standardisation.apply(descriptors) - self.centre
        return offset - (offset @ self.basis.T) @ self.basis

    def novelty(self, descriptors: np.ndarray) -> np.ndarray:
        """(n,) reconstruction error of each vector: root mean square residual, in standard deviations."""
        return np.sqrt(np.mean(np.square(self.residuals(descriptors)), axis=1))

    def why(self, vector: np.ndarray, names: list[str], top: int = WHY_DESCRIPTORS) -> list[tuple[str, float]]:
        """The `top` descriptors (by `names`) in which `vector` is least like the reviewed images, with
        their residuals in standard deviations (positive: more than the reviewed images have)."""
        residual = self.residuals(np.asarray(vector)[None])[0]
        order = np.argsort(-np.abs(residual))[:top]
        return [(names[i], float(residual[i])) for i in order]


def reviewed_model(reviewed: np.ndarray, scaling: Standardisation) -> ReviewedModel:
    """Fit the :class:`ReviewedModel` of the reviewed images' descriptor vectors `reviewed` (m, d).

    Its rank is the fewest main directions that keep :data:`VARIANCE_KEPT` of their variance, at most
    :data:`MAX_RANK` and m - 1.
    """
    reviewed = np.asarray(reviewed, np.float64)
    d = len(scaling.mean)
    if not len(reviewed):
        return ReviewedModel(scaling, np.zeros(d), np.empty((0, d)), 0)
    z = scaling.apply(reviewed)
    centre = z.mean(axis=0)
    _, singular, directions = np.linalg.svd(z - centre, full_matrices=False)
    variance = np.square(singular)
    if variance.sum() <= 0:
        return ReviewedModel(scaling, centre, np.empty((0, d)), len(reviewed))
    kept = np.cumsum(variance) / variance.sum()
    rank = int(min(np.searchsorted(kept, VARIANCE_KEPT) + 1, MAX_RANK, len(reviewed) - 1))
    return ReviewedModel(scaling, centre, directions[:rank], len(reviewed))


def novelty_order(values: np.ndarray) -> np.ndarray:
    """Each image's place in the "New to you" order (1: the newest), from its novelty; missing values last.

    Examples
    --------
    >>> novelty_order(np.array([0.5, 2.0, np.nan, 1.0])).tolist()
    [3, 1, 4, 2]
    """
    values = np.where(np.isfinite(values), values, -np.inf)
    places = np.empty(len(values), dtype=np.int64)
    places[np.argsort(-values, kind="stable")] = np.arange(1, len(values) + 1)
    return places


def catalog_reviewed_model(catalog, reviewed_ids: Iterable[int], scaling: Standardisation) -> ReviewedModel:
    """The :class:`ReviewedModel` of the catalog's images `reviewed_ids` (those with stored descriptors)."""
    found = [matrix for _, matrix in catalog.descriptor_chunks(ids=list(reviewed_ids))]
    return reviewed_model(np.concatenate(found) if found else np.empty((0, len(scaling.mean))), scaling)


def catalog_novelty(catalog, model: ReviewedModel) -> tuple[np.ndarray, np.ndarray]:
    """Every image's novelty under `model`: (ids, values), a pass over the stored descriptors; images without
    descriptors are left out."""
    ids, values = [], []
    for chunk_ids, matrix in catalog.descriptor_chunks():
        ids.append(chunk_ids)
        values.append(model.novelty(matrix))
    return (np.concatenate(ids), np.concatenate(values)) if ids else (np.empty(0, np.int64), np.empty(0))


def novelty_table(catalog, reviewed_ids: Iterable[int], labels: list[str],
                  top: int = WHY_DESCRIPTORS) -> tuple[ReviewedModel, "pd.DataFrame"]:
    """Every image's novelty against the reviewed images `reviewed_ids`, and what makes it new.

    Parameters
    ----------
    catalog : Catalog
    reviewed_ids : iterable of int
    labels : list of str
        How people read each descriptor (in the stored vectors' order).
    top : int
        Descriptors named per image.

    Returns
    -------
    (ReviewedModel, DataFrame)
        The model, and one row per image with stored descriptors: ``id``, ``new_to_you`` (root mean square
        residual, in standard deviations) and ``new_in`` (the `top` descriptors it is least like the
        reviewed images in, "; "-separated, each with its signed residual).
    """
    import pandas as pd

    model = catalog_reviewed_model(catalog, reviewed_ids, descriptor_standardisation())
    parts = []
    for ids, matrix in catalog.descriptor_chunks():
        residuals = model.residuals(matrix)
        order = np.argsort(-np.abs(residuals), axis=1)[:, :top]
        picked = np.take_along_axis(residuals, order, axis=1)
        parts.append(pd.DataFrame({
            "id": ids, "new_to_you": np.sqrt(np.mean(np.square(residuals), axis=1)),
            "new_in": ["; ".join(f"{labels[i]} {r:+.1f} sd" for i, r in zip(row, values))
                       for row, values in zip(order, picked)]}))
    return model, (pd.concat(parts, ignore_index=True) if parts else
                   pd.DataFrame({"id": pd.Series(dtype="int64"), "new_to_you": [], "new_in": []}))
