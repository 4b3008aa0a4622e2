"""Train the terrain model from labeled crops, with cross-validation grouped by source image.

``python -m marsviz train data/hirise/labels.csv data/hirise/images`` rebuilds the shipped
``marsviz/terrain/model.json`` and its ``evaluation.json`` (what the Method page shows):

1. every crop is decoded and described exactly as the features do at run time (one tile per crop);
2. nested cross-validation: outer folds split *source images* (never crops); inside each outer training
   part, an inner grouped cross-validation picks the regularisation strength; the outer held-out source
   images are scored by a model that never saw them, for training or for tuning;
3. the held-out scores give the evaluation table (bootstrap intervals over source images), beside the
   seed features' values on the same crops;
4. the final model is fitted on everything, with the strength an all-data grouped CV picks.

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
from marsviz.terrain.model import ICE_CLASS, OTHER_CLASS, SHIPPED_MODEL, TerrainModel

#: Model class of each label of the HiRISE set (impact ejecta, a single crop, is merged with craters).
CLASS_OF_LABEL = {"other": OTHER_CLASS, "crater": "crater", "impact_ejecta": "crater", "dark_dune": "dark_dune",
                  "bright_dune": "bright_dune", "slope_streak": "slope_streak", "swiss_cheese": ICE_CLASS,
                  "spider": ICE_CLASS}
#: When a crop has several labels, the class listed first here wins (landmarks before "other").
CLASS_PRIORITY = [ICE_CLASS, "slope_streak", "bright_dune", "dark_dune", "crater", OTHER_CLASS]
#: Inverse regularisation strengths tried by the inner cross-validation.
C_GRID = (0.3, 1.0, 3.0, 10.0)
#: Outer and inner folds (fewer when there are fewer source images of a class).
OUTER_FOLDS = 5
INNER_FOLDS = 3
#: Bootstrap resamples of source images for the intervals.
RESAMPLES = 1000


def crop_class(labels: tuple[str, ...]) -> str:
    """The model class of a crop from its labels (see :data:`CLASS_PRIORITY`).

    Examples
    --------
    >>> crop_class(("crater", "other"))
    'crater'
    """
    classes = {CLASS_OF_LABEL.get(label, "crater" if label != OTHER_CLASS else OTHER_CLASS) for label in labels}
    return next(c for c in CLASS_PRIORITY if c in classes)


def describe_crops(labels: pd.DataFrame, image_dir: str | Path, seed_features: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Decode every labeled crop and describe it as the terrain features do at run time.

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

    Returns
    -------
    descriptors : ndarray
        (N, D): the mean over each crop's scored tiles (a crop of the training size is one tile).
    seed_values : DataFrame
        The other features' values, one column each (empty when `seed_features` is False).
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
        tiles = image_descriptors(pixels)
        chosen = tiles.descriptors[tiles.valid] if tiles.valid.any() else tiles.descriptors
        descriptors.append(chosen.mean(axis=0))
        seed_rows.append({name: feature.function(pixels).value for name, feature in others.items()})
        if progress:
            progress(done, len(labels))
    return np.array(descriptors), pd.DataFrame(seed_rows, columns=list(others))


def _require_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MarsvizError("training needs scikit-learn: pip install scikit-learn") from None


def fit_model(descriptors: np.ndarray, classes: np.ndarray, c: float, metadata: dict | None = None) -> TerrainModel:
    """Fit standardisation and a class-balanced multinomial logistic regression.

    Parameters
    ----------
    descriptors : ndarray
        (N, D).
    classes : ndarray
        (N,) class names; must include ``ice_terrain`` and ``other``.
    c : float
        Inverse L2 regularisation strength.
    metadata : dict, optional
        Stored in the model file.

    Returns
    -------
    TerrainModel
    """
    _require_sklearn()
    from sklearn.linear_model import LogisticRegression

    mean = descriptors.mean(axis=0)
    scale = descriptors.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (descriptors - mean) / scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z, classes)
    coef, intercept = fitted.coef_, fitted.intercept_
    if len(fitted.classes_) == 2:
        # scikit-learn stores a two-class fit as one row (class 1 vs 0); a softmax over (-w/2, w/2) is the same.
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]
    return TerrainModel(descriptor_names=list(DESCRIPTOR_NAMES), mean=mean, scale=scale,
                        classes=[str(k) for k in fitted.classes_], coef=np.array(coef),
                        intercept=np.array(intercept), metadata=metadata or {})


def _folds(classes: np.ndarray, groups: np.ndarray, wanted: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    # Ice terrain comes from the fewest source images; more folds than those would leave folds without it.
    ice_sources = np.unique(groups[classes == ICE_CLASS]).size
    splits = max(2, min(wanted, ice_sources, np.unique(groups).size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(StratifiedGroupKFold(splits, shuffle=True, random_state=seed).split(classes, classes, groups))


def _task_auc(model: TerrainModel, descriptors: np.ndarray, classes: np.ndarray) -> float:
    scores = model.scores(descriptors)
    aucs = [roc_auc(classes == ICE_CLASS, scores["ice_terrain_score"]),
            roc_auc(classes != OTHER_CLASS, scores["landmark_score"])]
    aucs = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def choose_c(descriptors: np.ndarray, classes: np.ndarray, groups: np.ndarray, seed: int) -> float:
    """The strength in :data:`C_GRID` with the best mean of both tasks' ROC AUC in grouped cross-validation."""
    folds = _folds(classes, groups, INNER_FOLDS, seed)
    best, best_auc = C_GRID[0], -1.0
    for c in C_GRID:
        aucs = []
        for train_rows, test_rows in folds:
            if not {ICE_CLASS, OTHER_CLASS} <= set(classes[train_rows]):
                continue
            model = fit_model(descriptors[train_rows], classes[train_rows], c)
            aucs.append(_task_auc(model, descriptors[test_rows], classes[test_rows]))
        score = float(np.nanmean(aucs)) if aucs else float("nan")
        if score > best_auc:
            best, best_auc = c, score
    return best


def cross_validated_scores(descriptors: np.ndarray, classes: np.ndarray, groups: np.ndarray,
                           seed: int) -> tuple[pd.DataFrame, list[float]]:
    """Both terrain scores of every crop from a model that never saw its source image (nested grouped CV).

    Returns
    -------
    scores : DataFrame
        ``ice_terrain_score`` and ``landmark_score`` per crop.
    chosen : list of float
        The strength each outer fold's inner cross-validation picked.
    """
    _require_sklearn()
    scores = pd.DataFrame(np.nan, index=range(len(classes)), columns=["ice_terrain_score", "landmark_score"])
    chosen = []
    for fold, (train_rows, test_rows) in enumerate(_folds(classes, groups, OUTER_FOLDS, seed)):
        c = choose_c(descriptors[train_rows], classes[train_rows], groups[train_rows], seed + 1 + fold)
        chosen.append(c)
        model = fit_model(descriptors[train_rows], classes[train_rows], c)
        for name, values in model.scores(descriptors[test_rows]).items():
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

    final_c = choose_c(descriptors, classes, groups, seed)
    class_counts = {k: int((classes == k).sum()) for k in sorted(set(classes))}
    metadata = {
        "trained_on": {"crops": int(len(labels)), "source_images": int(np.unique(groups).size),
                       "class_counts": class_counts, "source_image_ids": sorted(np.unique(groups).tolist())},
        "c": final_c, "seed": seed, "class_weight": "balanced",
        "command": "python -m marsviz train LABELS.csv IMAGE_DIR",
    }
    model = fit_model(descriptors, classes, final_c, metadata)
    summary = {
        "dataset": {"labels": Path(labels_csv).name, "crops": int(len(labels)),
                    "source_images": int(np.unique(groups).size), "class_counts": class_counts,
                    "files_with_two_labels": int((labels["labels"].map(len) > 1).sum()),
                    "duplicate_rule": "a file listed with several labels is one crop carrying all of them: "
                                      "positive for a task if any label is; its model class is the first of "
                                      + ", ".join(CLASS_PRIORITY)},
        "protocol": {"grouping": "source image id (file name up to _RED)", "outer_folds": OUTER_FOLDS,
                     "inner_folds": INNER_FOLDS, "c_grid": list(C_GRID), "c_chosen_per_outer_fold": chosen,
                     "c_final": final_c, "seed": seed, "bootstrap_resamples": resamples,
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
