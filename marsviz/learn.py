"""A score learnt from a person's own labels: "Your labels, trained".

A regularised logistic regression on the descriptor vectors the catalog stores
(:data:`marsviz.registry.DESCRIPTORS`, the view model's 118 whole-frame descriptors), fitted to the images
a person labeled with the positive labels against those with the negative ones (by default every other
label).  Before it is fitted its ROC AUC is cross-validated with whole source images held out, so the
number shown says how well the score ranks images it was not fitted on.  Fitting is explicit (``train
--from-catalog`` or the app's button) and every fit is recorded in the catalog with its counts and AUC;
the catalog column :data:`marsviz.registry.LEARNED_SCORE` holds every image's score under the latest fit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from marsviz.errors import LabelsError
from marsviz.evaluate import roc_auc, source_image_id
from marsviz.labels import labeled_classes, shown

#: How the learnt score (the catalog column :data:`marsviz.registry.LEARNED_SCORE`) is named for people.
LEARNED_LABEL = "Your labels, trained"
#: Labeled images needed of each class before a score is fitted.
MIN_PER_CLASS = 10
#: Inverse strength of the L2 penalty on the standardised descriptors' weights (as scikit-learn's ``C``):
#: strong, because a person labels tens of images and there are 118 descriptors.
INVERSE_REGULARISATION = 0.1
#: Most cross-validation folds (fewer when there are fewer source images of a class).
MAX_FOLDS = 5


@dataclass(frozen=True)
class LabelModel:
    """A fitted "Your labels, trained" score and what it was fitted on.

    Attributes
    ----------
    positive, negative : tuple of str
        The labels counted positive, and negative (empty: every other label).
    mean, scale : ndarray
        Standardisation of the descriptors (the labeled images').
    weights : ndarray
        Logistic weights of the standardised descriptors.
    intercept : float
    n_positive, n_negative : int
        Labeled images of each class it was fitted on.
    cv_auc : float or None
        Cross-validated ROC AUC (source images held out); None when there are too few source images to hold
        any out.
    folds : int
        Cross-validation folds.
    fitted_at, fitted_by : str
        When (ISO 8601 UTC) and by whom.
    """

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    mean: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    intercept: float
    n_positive: int
    n_negative: int
    cv_auc: float | None
    folds: int
    fitted_at: str = ""
    fitted_by: str = ""

    def scores(self, descriptors: np.ndarray) -> np.ndarray:
        """The score in [0, 1] of each row of `descriptors` (n, d)."""
        standardised = (np.asarray(descriptors, np.float64) - self.mean) / self.scale
        return _sigmoid(standardised @ self.weights + self.intercept)

    def describe(self) -> str:
        """What the score was fitted on and how well it ranks held-out images, for people.

        Examples
        --------
        >>> model = LabelModel(("interesting",), (), np.zeros(1), np.ones(1), np.zeros(1), 0.0, 12, 30, 0.81, 5)
        >>> model.describe()
        'fitted on 12 interesting against 30 others; cross-validated ROC AUC 0.81 (5 folds, source images held out)'
        """
        against = " or ".join(map(shown, self.negative)) if self.negative else "others"
        auc = ("too few source images to cross-validate" if self.cv_auc is None else
               f"cross-validated ROC AUC {self.cv_auc:.2f} ({self.folds} folds, source images held out)")
        return (f"fitted on {self.n_positive} {' or '.join(map(shown, self.positive))} against "
                f"{self.n_negative} {against}; {auc}")

    def to_json(self) -> str:
        """The model as JSON text (plain numbers: loading needs no pickle)."""
        payload = asdict(self)
        for name in ("mean", "scale", "weights"):
            payload[name] = [float(v) for v in payload[name]]
        return json.dumps(payload, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabelModel:
        """A model from :meth:`to_json`'s text."""
        payload = json.loads(text)
        for name in ("mean", "scale", "weights"):
            payload[name] = np.asarray(payload[name], dtype=np.float64)
        payload["positive"], payload["negative"] = tuple(payload["positive"]), tuple(payload["negative"])
        return cls(**payload)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow


def fit_logistic(x: np.ndarray, y: np.ndarray, inverse_regularisation: float = INVERSE_REGULARISATION
                 ) -> tuple[np.ndarray, float]:
    """Weights and intercept of an L2-regularised logistic regression, the two classes weighted equally.

    Parameters
    ----------
    x : ndarray
        (n, d) standardised inputs.
    y : ndarray of bool
        (n,) targets, both classes present.
    inverse_regularisation : float
        ``C``: the loss is C times the class-weighted log loss plus half the squared weights.
    """
    from scipy.optimize import minimize  # here: the command line imports this module for every command

    y = np.asarray(y, dtype=bool)
    sample_weight = np.where(y, len(y) / (2 * y.sum()), len(y) / (2 * (~y).sum()))
    target = y.astype(np.float64)

    def loss(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        weights, intercept = parameters[:-1], parameters[-1]
        z = x @ weights + intercept
        log_loss = np.logaddexp(0.0, z) - target * z
        error = sample_weight * (_sigmoid(z) - target)
        value = inverse_regularisation * float(sample_weight @ log_loss) + 0.5 * float(weights @ weights)
        gradient = np.r_[inverse_regularisation * (x.T @ error) + weights, inverse_regularisation * error.sum()]
        return value, gradient

    result = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B")
    return result.x[:-1], float(result.x[-1])


def _standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 1e-9, scale, 1.0)


def fold_of_groups(y: np.ndarray, groups: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """A fold number per row: whole groups (source images) per fold, groups with positives spread evenly.

    Examples
    --------
    >>> folds = fold_of_groups(np.array([1, 1, 0, 0, 0, 1], bool), np.array(["a", "a", "b", "c", "d", "e"]), 2)
    >>> bool(folds[0] == folds[1]), sorted(folds[[0, 5]].tolist())  # "a" in one fold; the positive groups split
    (True, [0, 1])
    """
    rng = np.random.default_rng(seed)
    unique, codes = np.unique(groups, return_inverse=True)
    has_positive = np.zeros(len(unique), bool)
    np.logical_or.at(has_positive, codes, np.asarray(y, bool))
    fold_of_group = np.empty(len(unique), int)
    for members in (np.flatnonzero(has_positive), np.flatnonzero(~has_positive)):
        members = rng.permutation(members)
        fold_of_group[members] = np.arange(len(members)) % folds
    return fold_of_group[codes]


def fit_label_model(descriptors: np.ndarray, y: np.ndarray, groups: np.ndarray, positive: Iterable[str],
                    negative: Iterable[str] = (), seed: int = 0) -> LabelModel:
    """Cross-validate, then fit, a score separating the rows of `descriptors` where `y` is true.

    Parameters
    ----------
    descriptors : ndarray
        (n, d) descriptor vectors of the labeled images.
    y : ndarray of bool
        Whether each image has a positive label.
    groups : ndarray
        The source image of each (crops of one observation are held out together).
    positive, negative : iterable of str
        The labels the classes stand for (recorded with the model).
    seed : int
        Seed of the fold assignment.

    Returns
    -------
    LabelModel
        Fitted on every row; its ``cv_auc`` is the ROC AUC of the out-of-fold scores.
    """
    x, y = np.asarray(descriptors, np.float64), np.asarray(y, bool)
    folds = int(min(MAX_FOLDS, len(np.unique(groups[y])), len(np.unique(groups[~y]))))
    cv_auc = None
    if folds >= 2:
        fold = fold_of_groups(y, groups, folds, seed)
        held_out = np.empty(len(y))
        for k in range(folds):
            train = fold != k
            mean, scale = _standardisation(x[train])
            if y[train].all() or not y[train].any():
                break
            weights, intercept = fit_logistic((x[train] - mean) / scale, y[train])
            held_out[~train] = _sigmoid(((x[~train] - mean) / scale) @ weights + intercept)
        else:
            cv_auc = float(roc_auc(y, held_out))
    mean, scale = _standardisation(x)
    weights, intercept = fit_logistic((x - mean) / scale, y)
    return LabelModel(tuple(positive), tuple(negative), mean, scale, weights, intercept, int(y.sum()),
                      int((~y).sum()), cv_auc, folds if cv_auc is not None else 0)


def training_set(frame: pd.DataFrame, labels: pd.DataFrame, positive: Iterable[str],
                 negative: Iterable[str] = ()) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """The labeled images a score is fitted on: ``id``, ``name``, ``label``, ``positive`` (bool).

    Raises
    ------
    LabelsError
        If either class has fewer than :data:`MIN_PER_CLASS` images; the message counts what there is.
    """
    rows, positive, negative = labeled_classes(frame[["id", "name"]], labels, positive, negative)
    n_positive, n_negative = int(rows["positive"].sum()), int((~rows["positive"]).sum())
    if min(n_positive, n_negative) < MIN_PER_CLASS:
        against = " or ".join(map(shown, negative)) if negative else "with any other label"
        raise LabelsError(f"a score is learnt once at least {MIN_PER_CLASS} images are labeled "
                          f"{' or '.join(map(shown, positive))} and {MIN_PER_CLASS} {against}; there are "
                          f"{n_positive} and {n_negative}")
    return rows, positive, negative


def train_from_catalog(catalog, positive: Iterable[str] = ("interesting",), negative: Iterable[str] = (),
                       fitted_by: str = "", seed: int = 0) -> LabelModel:
    """Fit "Your labels, trained" to the catalog's labels, record the fit and score every image with it.

    Parameters
    ----------
    catalog : Catalog
    positive, negative : iterable of str
        Labels counted positive, and negative (default: every other label).
    fitted_by : str
        Who fits (recorded).
    seed : int
        Seed of the cross-validation folds.

    Returns
    -------
    LabelModel

    Raises
    ------
    LabelsError
        Too few labeled images of a class, or of them with descriptors (images analysed before descriptors
        were stored: ``python -m marsviz analyze`` adds them).
    CatalogError
        If the catalog cannot be written.
    """
    rows, positive, negative = training_set(catalog.frame(), catalog.labels(), positive, negative)
    found = [chunk for chunk in catalog.descriptor_chunks(ids=rows["id"].tolist())]
    ids = np.concatenate([ids for ids, _ in found]) if found else np.empty(0, np.int64)
    if len(ids) < len(rows):
        missing = len(rows) - len(ids)
        raise LabelsError(f"{missing} labeled images have no stored descriptors (analysed by an older version): run "
                          "`python -m marsviz analyze` first")
    rows = rows.set_index("id").loc[ids]
    model = fit_label_model(np.concatenate([matrix for _, matrix in found]), rows["positive"].to_numpy(),
                            rows["name"].map(source_image_id).to_numpy(), positive, negative, seed)
    model = replace(model, fitted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), fitted_by=fitted_by)
    scores = ((ids, model.scores(matrix)) for ids, matrix in catalog.descriptor_chunks())
    catalog.record_label_fit(model.to_json(), scores)
    return model


def latest_model(catalog) -> LabelModel | None:
    """The catalog's latest fitted "Your labels, trained" score, or None."""
    text = catalog.latest_label_fit()
    return None if text is None else LabelModel.from_json(text)


def learned_score(model: LabelModel | None, descriptors: bytes | None) -> float | None:
    """The score of one image's stored descriptor bytes (:data:`marsviz.registry.DESCRIPTORS`) under `model`;
    None without a model or descriptors."""
    if model is None or descriptors is None:
        return None
    return float(model.scores(np.frombuffer(descriptors, dtype="<f4")[None])[0])


def rescore(catalog, ids: list[int]) -> None:
    """Store the latest fitted score of images `ids` again, from their current descriptors (after a
    re-analysis); nothing when no score was fitted."""
    model = latest_model(catalog)
    if model is None or not ids:
        return
    for found, matrix in catalog.descriptor_chunks(ids=ids):
        catalog.set_learned_scores(list(zip(found.tolist(), model.scores(matrix).tolist())))
