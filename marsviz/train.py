"""Train the terrain model from labeled crops, with cross-validation grouped by source image.

``python -m marsviz train data/hirise/labels.csv data/hirise/images`` rebuilds the shipped
``marsviz/terrain/model.json`` and its ``evaluation.json`` (what the Method page shows):

1. every crop is decoded and described exactly as the features do at run time (one tile per crop), and so
   are its 7 rotated and mirrored copies (:func:`dihedral_copies`), the augmentation the labeled set's authors
   used: training parts learn from all 8 copies of each of their crops, held-out crops are scored as they are;
2. nested cross-validation: outer folds split *source images* (never crops); inside each outer training
   part, an inner grouped cross-validation picks the regularisation of each head (C of the ice terrain
   logistic regression, alpha of the landmark network); the outer held-out source images are scored by a
   model that never saw them, for training or for tuning;
3. the held-out scores give the evaluation table (bootstrap intervals over source images), beside the
   seed features' values on the same crops;
4. the final model is fitted on everything, with the hyper-parameters an all-data grouped CV picks.

Same data and seed, same files.  Needs scikit-learn (only here; loading the model does not).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from marsviz.errors import MarsvizError
from marsviz.evaluate import ICE_LABELS, TARGETS, LabelsError, evaluate_scores, load_labels, roc_auc
from marsviz.terrain.descriptors import DESCRIPTOR_NAMES
from marsviz.terrain.model import ICE_CLASS, OTHER_CLASS, SHIPPED_MODEL, Head, TerrainModel

#: Model class of each label of the HiRISE set (impact ejecta, a single crop, is merged with craters).
CLASS_OF_LABEL = {"other": OTHER_CLASS, "crater": "crater", "impact_ejecta": "crater", "dark_dune": "dark_dune",
                  "bright_dune": "bright_dune", "slope_streak": "slope_streak", "swiss_cheese": ICE_CLASS,
                  "spider": ICE_CLASS}
#: When a crop has several labels, the class listed first here wins (landmarks before "other").
CLASS_PRIORITY = [ICE_CLASS, "slope_streak", "bright_dune", "dark_dune", "crater", OTHER_CLASS]
#: Hyper-parameters tried by the inner cross-validation: inverse L2 strength of the ice head (logistic
#: regression) and L2 weight decay of the landmark head (network of HIDDEN_UNITS ReLU units).
C_GRID = (0.3, 1.0, 3.0, 10.0)
ALPHA_GRID = (1.0, 3.0, 10.0)
HIDDEN_UNITS = 64
#: Outer and inner folds (fewer when there are fewer source images of a class).
OUTER_FOLDS = 5
INNER_FOLDS = 3
#: Bootstrap resamples of source images for the intervals.
RESAMPLES = 1000
#: Copies of each training crop: itself and its 7 rotations by 90/180/270 degrees and mirror images.
DIHEDRAL_COPIES = 8


def crop_class(labels: tuple[str, ...]) -> str:
    """The model class of a crop from its labels (see :data:`CLASS_PRIORITY`).

    Examples
    --------
    >>> crop_class(("crater", "other"))
    'crater'
    """
    classes = {CLASS_OF_LABEL.get(label, "crater" if label != OTHER_CLASS else OTHER_CLASS) for label in labels}
    return next(c for c in CLASS_PRIORITY if c in classes)


def dihedral_copies(image: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations by multiples of 90 degrees and mirror images of an image, the image itself first.

    Orbital terrain has no up: a crater or a dune field rotated or mirrored is still one.  (The descriptors
    are nearly invariant to these by design; the copies still differ by where the 2x2 averaging grid falls on
    an odd-sized crop and by which ties the texture codes break.)

    Examples
    --------
    >>> copies = dihedral_copies(np.arange(6).reshape(2, 3))
    >>> len(copies), copies[0].tolist(), copies[1].tolist()
    (8, [[0, 1, 2], [3, 4, 5]], [[2, 5], [1, 4], [0, 3]])
    """
    mirrored = image[:, ::-1]
    return [np.ascontiguousarray(np.rot90(base, k)) for base in (image, mirrored) for k in range(4)]


def describe_crops(labels: pd.DataFrame, image_dir: str | Path, seed_features: bool = True,
                   progress: Callable[[int, int], None] | None = None,
                   copies: int = DIHEDRAL_COPIES) -> tuple[np.ndarray, pd.DataFrame]:
    """Decode every labeled crop and describe it, and its rotated and mirrored copies, as the features do.

    Parameters
    ----------
    labels : DataFrame
        As returned by :func:`marsviz.evaluate.load_labels`.
    image_dir : path
        Folder holding the crops.
    seed_features : bool, optional
        Also compute the registry's other (untrained) features, for the evaluation table.
    progress : callable, optional
        ``progress(done, total)`` after each crop.
    copies : int, optional
        How many of :func:`dihedral_copies` to describe (1: the crop alone).

    Returns
    -------
    descriptors : ndarray
        (N, copies, D): per copy, the mean over its scored tiles (a crop of the training size is one
        tile); copy 0 is the crop as it is.
    seed_values : DataFrame
        The other features' values on the crops as they are, one column each (empty when `seed_features` is
        False).
    """
    from marsviz.decode import load_image
    from marsviz.features import REGISTRY
    from marsviz.terrain.features import TERRAIN_FEATURES, image_descriptors

    terrain_names = {feature.name for feature in TERRAIN_FEATURES}
    others = {name: f for name, f in REGISTRY.items() if name not in terrain_names} if seed_features else {}
    image_dir = Path(image_dir)
    descriptors, seed_rows = [], []
    for done, file_name in enumerate(labels["file"], start=1):
        path = image_dir / file_name
        if not path.is_file():
            raise LabelsError(f"labeled image {file_name} not found in {image_dir}")
        pixels = load_image(path).pixels
        per_copy = []
        for copy in dihedral_copies(pixels)[:copies]:
            tiles = image_descriptors(copy)
            chosen = tiles.descriptors[tiles.valid] if tiles.valid.any() else tiles.descriptors
            per_copy.append(chosen.mean(axis=0))
        descriptors.append(per_copy)
        seed_rows.append({name: feature.function(pixels).value for name, feature in others.items()})
        if progress:
            progress(done, len(labels))
    return np.array(descriptors), pd.DataFrame(seed_rows, columns=list(others))


def _require_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MarsvizError("training needs scikit-learn: pip install scikit-learn") from None


def _training_rows(descriptors: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Every copy of every crop as one row, (N * K, D), with its class; and K (1 for (N, D) descriptors)."""
    if descriptors.ndim == 2:
        return descriptors, classes, 1
    copies = descriptors.shape[1]
    return descriptors.reshape(-1, descriptors.shape[2]), np.repeat(classes, copies), copies


def standardisation(descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each descriptor (1 where a descriptor is constant)."""
    scale = descriptors.std(axis=0)
    return descriptors.mean(axis=0), np.where(scale > 1e-12, scale, 1.0)


def _symmetric(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn stores a two-class fit as one output (class 1 against 0); a softmax over (-w/2, w/2) is the same.
    return np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]


def fit_linear_head(z: np.ndarray, classes: np.ndarray, c: float) -> Head:
    """Class-balanced multinomial logistic regression on standardised descriptors (the ice terrain head)."""
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z, classes)
    coef, intercept = fitted.coef_, fitted.intercept_
    if len(fitted.classes_) == 2:
        coef, intercept = _symmetric(coef, intercept)
    return Head(classes=[str(k) for k in fitted.classes_], coef=np.array(coef), intercept=np.array(intercept))


def fit_network_head(z: np.ndarray, classes: np.ndarray, alpha: float, seed: int) -> Head:
    """One hidden layer of :data:`HIDDEN_UNITS` ReLU units, softmax output (the landmark head)."""
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = MLPClassifier((HIDDEN_UNITS,), alpha=alpha, solver="lbfgs", max_iter=1000,
                                random_state=seed).fit(z, classes)
    coef, intercept = fitted.coefs_[1].T, fitted.intercepts_[1]
    if len(fitted.classes_) == 2:
        coef, intercept = _symmetric(coef, intercept)
    return Head(classes=[str(k) for k in fitted.classes_], coef=np.array(coef), intercept=np.array(intercept),
                hidden_weights=fitted.coefs_[0].T.copy(), hidden_bias=fitted.intercepts_[0].copy())


def fit_model(descriptors: np.ndarray, classes: np.ndarray, c: float, alpha: float, seed: int = 0,
              metadata: dict | None = None) -> TerrainModel:
    """Fit the standardisation and both heads.

    Parameters
    ----------
    descriptors : ndarray
        (N, D), or (N, K, D) for K copies of each crop (:func:`dihedral_copies`), all trained on.
    classes : ndarray
        (N,) class names; must include ``ice_terrain`` and ``other``.
    c : float
        Inverse L2 strength of the ice terrain head (logistic regression), per crop (see Notes).
    alpha : float
        L2 weight decay of the landmark head (network), per crop.
    seed : int, optional
        Seeds the network's initial weights and batches.
    metadata : dict, optional
        Stored in the model file.

    Returns
    -------
    TerrainModel

    Notes
    -----
    scikit-learn weighs the L2 penalty against the data term summed (logistic regression) or averaged (network)
    over rows, so K nearly identical copies of each crop would weaken it K-fold; C is divided and alpha
    multiplied by K so that a value means the same with and without copies.
    """
    _require_sklearn()
    rows, row_classes, copies = _training_rows(descriptors, classes)
    mean, scale = standardisation(rows)
    z = (rows - mean) / scale
    heads = {"ice_terrain_score": fit_linear_head(z, row_classes, c / copies),
             "landmark_score": fit_network_head(z, row_classes, alpha * copies, seed)}
    return TerrainModel(descriptor_names=list(DESCRIPTOR_NAMES), mean=mean, scale=scale, heads=heads,
                        metadata=metadata or {})


def _folds(classes: np.ndarray, groups: np.ndarray, wanted: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    # Ice terrain comes from the fewest source images; more folds than those would leave folds without it.
    ice_sources = np.unique(groups[classes == ICE_CLASS]).size
    splits = max(2, min(wanted, ice_sources, np.unique(groups).size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(StratifiedGroupKFold(splits, shuffle=True, random_state=seed).split(classes, classes, groups))


def choose_hyperparameters(descriptors: np.ndarray, classes: np.ndarray, groups: np.ndarray,
                           seed: int) -> dict[str, float]:
    """Pick C (ice head) and alpha (landmark head) by grouped cross-validation on the data given.

    Each value is judged by the mean over folds of its own score's ROC AUC (ice terrain against the rest for
    C, any landmark against "other" for alpha) on the fold's held-out source images.  `descriptors` is (N, D)
    or (N, K, D) as in :func:`fit_model`: training parts use every copy (with C and alpha per crop, as there),
    held-out crops only copy 0, the crop as it is.
    """
    totals = {("c", value): [] for value in C_GRID} | {("alpha", value): [] for value in ALPHA_GRID}
    as_is = descriptors if descriptors.ndim == 2 else descriptors[:, 0]
    for train_rows, test_rows in _folds(classes, groups, INNER_FOLDS, seed):
        if not {ICE_CLASS, OTHER_CLASS} <= set(classes[train_rows]):
            continue
        rows, row_classes, copies = _training_rows(descriptors[train_rows], classes[train_rows])
        mean, scale = standardisation(rows)
        z_train = (rows - mean) / scale
        z_test = (as_is[test_rows] - mean) / scale
        ice, landmark = classes[test_rows] == ICE_CLASS, classes[test_rows] != OTHER_CLASS
        for value in C_GRID:
            head = fit_linear_head(z_train, row_classes, value / copies)
            totals[("c", value)].append(roc_auc(ice, head.probabilities(z_test)[:, head.classes.index(ICE_CLASS)]))
        for value in ALPHA_GRID:
            head = fit_network_head(z_train, row_classes, value * copies, seed)
            other = head.probabilities(z_test)[:, head.classes.index(OTHER_CLASS)]
            totals[("alpha", value)].append(roc_auc(landmark, 1.0 - other))

    def best(name, grid):
        means = [np.nanmean(totals[(name, value)]) if np.isfinite(totals[(name, value)]).any() else -1.0
                 for value in grid]
        return float(grid[int(np.argmax(means))])

    return {"c": best("c", C_GRID), "alpha": best("alpha", ALPHA_GRID)}


def cross_validated_scores(descriptors: np.ndarray, classes: np.ndarray, groups: np.ndarray,
                           seed: int) -> tuple[pd.DataFrame, list[dict]]:
    """Both terrain scores of every crop from a model that never saw its source image (nested grouped CV).

    `descriptors` is (N, D) or (N, K, D) as in :func:`fit_model`; each crop is scored as it is (copy 0), by a
    model trained on every copy of the other source images' crops.

    Returns
    -------
    scores : DataFrame
        ``ice_terrain_score`` and ``landmark_score`` per crop.
    chosen : list of dict
        The hyper-parameters each outer fold's inner cross-validation picked.
    """
    _require_sklearn()
    scores = pd.DataFrame(np.nan, index=range(len(classes)), columns=["ice_terrain_score", "landmark_score"])
    chosen = []
    for fold, (train_rows, test_rows) in enumerate(_folds(classes, groups, OUTER_FOLDS, seed)):
        picked = choose_hyperparameters(descriptors[train_rows], classes[train_rows], groups[train_rows],
                                        seed + 1 + fold)
        chosen.append(picked)
        model = fit_model(descriptors[train_rows], classes[train_rows], picked["c"], picked["alpha"], seed)
        held_out = descriptors[test_rows] if descriptors.ndim == 2 else descriptors[test_rows, 0]
        for name, values in model.scores(held_out).items():
            scores.loc[test_rows, name] = values
    return scores, chosen


def train(labels_csv: str | Path, image_dir: str | Path, output: str | Path | None = None,
          evaluation_output: str | Path | None = None, seed: int = 0, resamples: int = RESAMPLES,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Describe the crops, cross-validate, fit the final model and write it with its evaluation.

    Parameters
    ----------
    labels_csv, image_dir : path
        The labeled set (``file,label`` CSV and the folder of crops).
    output : path, optional
        Model file to write; default the shipped ``marsviz/terrain/model.json``.
    evaluation_output : path, optional
        Evaluation summary; default ``evaluation.json`` beside `output`.
    seed : int, optional
        Seeds the folds and the bootstrap.
    resamples : int, optional
        Bootstrap resamples of source images.
    progress : callable, optional
        ``progress(done, total)`` while describing crops.

    Returns
    -------
    dict
        The evaluation summary (also written as JSON).
    """
    _require_sklearn()
    from threadpoolctl import threadpool_limits

    # Many small fits: BLAS threads only contend (several times slower on a busy machine), so use one.
    with threadpool_limits(limits=1):
        return _train(labels_csv, image_dir, output, evaluation_output, seed, resamples, progress)


def _train(labels_csv, image_dir, output, evaluation_output, seed, resamples, progress) -> dict:
    output = Path(output) if output else SHIPPED_MODEL
    evaluation_output = Path(evaluation_output) if evaluation_output else output.with_name("evaluation.json")
    labels = load_labels(labels_csv)
    classes = labels["labels"].map(crop_class).to_numpy()
    if not {ICE_CLASS, OTHER_CLASS} <= set(classes):
        raise LabelsError(f"{labels_csv}: training needs ice terrain ({', '.join(ICE_LABELS)}) and 'other' crops")
    groups = labels["source"].to_numpy()
    if np.unique(groups[classes == ICE_CLASS]).size < 2:
        raise LabelsError(f"{labels_csv}: grouped cross-validation needs ice terrain from at least 2 source images")
    descriptors, seed_values = describe_crops(labels, image_dir, progress=progress)

    held_out, chosen = cross_validated_scores(descriptors, classes, groups, seed)
    scores = pd.concat([held_out, seed_values], axis=1)
    notes = {name: "cross-validated by source image" for name in held_out.columns}
    notes.update({name: "untrained: all crops" for name in seed_values.columns})
    table = evaluate_scores(scores, labels, ICE_LABELS, resamples=resamples, seed=seed, notes=notes)
    by_class = _landmark_by_class(held_out["landmark_score"].to_numpy(), classes)

    final = choose_hyperparameters(descriptors, classes, groups, seed)
    class_counts = {k: int((classes == k).sum()) for k in sorted(set(classes))}
    metadata = {
        "trained_on": {"crops": int(len(labels)), "source_images": int(np.unique(groups).size),
                       "class_counts": class_counts, "source_image_ids": sorted(np.unique(groups).tolist())},
        "ice_terrain_head": f"multinomial logistic regression, class-balanced, C={final['c']}",
        "landmark_head": f"{HIDDEN_UNITS} ReLU units, softmax, weight decay alpha={final['alpha']}",
        "training_copies": f"{DIHEDRAL_COPIES} per crop: rotations by 0/90/180/270 degrees and their mirror images",
        "seed": seed, "command": "python -m marsviz train LABELS.csv IMAGE_DIR",
    }
    model = fit_model(descriptors, classes, final["c"], final["alpha"], seed, metadata)
    summary = {
        "dataset": {"labels": Path(labels_csv).name, "crops": int(len(labels)),
                    "source_images": int(np.unique(groups).size), "class_counts": class_counts,
                    "files_with_two_labels": int((labels["labels"].map(len) > 1).sum()),
                    "duplicate_rule": "a file listed with several labels is one crop carrying all of them: "
                                      "positive for a task if any label is; its model class is the first of "
                                      + ", ".join(CLASS_PRIORITY)},
        "protocol": {"grouping": "source image id (file name up to _RED)", "outer_folds": OUTER_FOLDS,
                     "inner_folds": INNER_FOLDS, "c_grid": list(C_GRID), "alpha_grid": list(ALPHA_GRID),
                     "hidden_units": HIDDEN_UNITS,
                     "training_copies": f"{DIHEDRAL_COPIES} per training crop (rotations by multiples of 90 "
                                        "degrees, mirror images); held-out crops scored as they are; C and "
                                        "alpha per crop (C divided, alpha multiplied by the copies)",
                     "chosen_per_outer_fold": chosen, "final": final,
                     "seed": seed, "bootstrap_resamples": resamples,
                     "interval": "95% percentile bootstrap over source images"},
        "targets": TARGETS,
        "rows": _records(table),
        "landmark_by_class": by_class,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(output, model.to_json())
    _write_atomic(evaluation_output, json.dumps(summary, indent=1, sort_keys=False) + "\n")
    return summary


def _landmark_by_class(landmark_scores: np.ndarray, classes: np.ndarray) -> list[dict]:
    """Held-out landmark score ROC AUC of each landmark class against "other" alone."""
    rows = []
    for kind in sorted(set(classes) - {OTHER_CLASS}):
        chosen = (classes == kind) | (classes == OTHER_CLASS)
        rows.append({"class": kind, "n": int((classes == kind).sum()),
                     "auc_vs_other": _finite(roc_auc(classes[chosen] == kind, landmark_scores[chosen]))})
    return rows


def _finite(value: float):
    return None if value is None or np.isnan(value) else round(float(value), 6)


def _records(table: pd.DataFrame) -> list[dict]:
    records = []
    for row in table.to_dict(orient="records"):
        records.append({key: (_finite(value) if isinstance(value, float) else value) for key, value in row.items()})
    return records


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
