"""How well each feature and score finds what scientists labeled: ROC AUC and average precision.

Two tasks on a labeled image set (``file,label`` CSV, such as the HiRISE landmark crops):

* ``ice_terrain``: crops with a positive label (default ``swiss_cheese`` and ``spider``) against the rest;
* ``landmark``: crops with any label other than ``other`` against ``other``.

A file listed twice with two labels carries both (it is positive for a task if either label is).
Confidence intervals come from a bootstrap that resamples *source images* (the file name up to
``_RED``), not crops, because crops of one source image look alike and are not independent.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from marsviz.config import AnalysisSettings
from marsviz.errors import LabelsError
from marsviz.records import json_records, json_value

#: Labels of ice terrain in the HiRISE landmark set (swiss cheese: CO2 ice cap; spiders: seasonal CO2 ice).
ICE_LABELS = ("swiss_cheese", "spider")
#: The label of crops showing none of the landmark kinds.
OTHER_LABEL = "other"
#: The two tasks, in display order.
TASKS = ("ice_terrain", "landmark")
#: Targets of issue 4 (ROC AUC on source images kept out of training).
TARGETS = {"ice_terrain": 0.95, "landmark": 0.85}
#: Decimal places of the figures written to evaluation summaries.
FIGURE_DIGITS = 6
#: Table columns, in order.
COLUMNS = ["task", "score", "auc", "auc_low", "auc_high", "average_precision", "ap_low", "ap_high",
           "n_positive", "n_negative", "positive_sources", "note"]


def source_image_id(file_name: str) -> str:
    """The HiRISE source image a crop comes from: its file name up to ``_RED`` (or its stem).

    Examples
    --------
    >>> source_image_id("ESP_011386_2065_RED-0014.jpg")
    'ESP_011386_2065'
    """
    stem = Path(file_name).name
    match = re.match(r"(.+?)_RED", stem)
    return match.group(1) if match else Path(stem).stem


def load_labels(labels_csv: str | Path) -> pd.DataFrame:
    """Read a ``file,label`` CSV, one row per file.

    Parameters
    ----------
    labels_csv : path
        CSV with a header ``file,label``.  A file may appear on several lines with different labels.

    Returns
    -------
    DataFrame
        Columns ``file``, ``labels`` (sorted tuple of the file's labels) and ``source`` (source image id),
        sorted by file name.

    Raises
    ------
    LabelsError
        If the file cannot be read or lacks the columns.
    """
    try:
        table = pd.read_csv(labels_csv, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise LabelsError(f"cannot read labels {labels_csv}: {error}") from None
    if not {"file", "label"} <= set(table.columns):
        raise LabelsError(f"{labels_csv}: expected columns file,label; found {','.join(table.columns)}")
    table = table.dropna(subset=["file", "label"])
    if table.empty:
        raise LabelsError(f"{labels_csv}: no labeled files")
    grouped = table.groupby("file", sort=True)["label"].agg(lambda labels: tuple(sorted(set(labels))))
    result = grouped.reset_index().rename(columns={"label": "labels"})
    result["source"] = result["file"].map(source_image_id)
    return result


def task_targets(labels: pd.DataFrame, positive: Iterable[str] = ICE_LABELS) -> dict[str, np.ndarray]:
    """The boolean target of each task, one per row of `labels`.

    Parameters
    ----------
    labels : DataFrame
        As returned by :func:`load_labels`.
    positive : iterable of str
        Labels that count as ice terrain.

    Returns
    -------
    dict of str to ndarray
        ``ice_terrain``: any label in `positive`; ``landmark``: any label other than ``other``.
    """
    positive = set(positive)
    return {"ice_terrain": labels["labels"].map(lambda ls: bool(positive & set(ls))).to_numpy(bool),
            "landmark": labels["labels"].map(lambda ls: bool(set(ls) - {OTHER_LABEL})).to_numpy(bool)}


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative (ties count half).

    Parameters
    ----------
    y : ndarray
        Boolean targets.
    scores : ndarray
        Higher means more likely positive.

    Returns
    -------
    float
        In [0, 1]; NaN when `y` holds a single class.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    """Average precision: precision averaged over the recall steps of the ranking (tied scores as one step).

    Same definition as ``sklearn.metrics.average_precision_score``.  Its chance level is the share of
    positives, unlike ROC AUC's 0.5.

    Examples
    --------
    >>> average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.8333333333333333
    """
    y = np.asarray(y, dtype=bool)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    ranked, hits = scores[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ranked) != 0), ranked.size - 1]
    true_positives = np.cumsum(hits)[last_of_tie]
    precision = true_positives / (last_of_tie + 1)
    recall = true_positives / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def grouped_bootstrap(y: np.ndarray, scores: np.ndarray, groups: np.ndarray,
                      metric: Callable[[np.ndarray, np.ndarray], float], resamples: int = 1000, seed: int = 0,
                      level: float = 0.95) -> tuple[float, float]:
    """Percentile confidence interval of `metric`, resampling whole groups (source images) with replacement.

    Parameters
    ----------
    y, scores, groups : ndarray
        Targets, scores and the group (source image id) of each row.
    metric : callable
        ``metric(y, scores) -> float``.
    resamples : int, optional
        Bootstrap resamples; those holding a single class are skipped.
    seed : int, optional
        Seed of the resampling (same seed, same interval).
    level : float, optional
        Coverage of the interval.

    Returns
    -------
    (float, float)
        Lower and upper bounds; NaN when no resample holds both classes.
    """
    y = np.asarray(y, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    unique, codes = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(codes == g) for g in range(unique.size)]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        rows = np.concatenate([members[g] for g in rng.integers(0, unique.size, unique.size)])
        sample = y[rows]
        if sample.all() or not sample.any():
            continue
        values.append(metric(sample, scores[rows]))
    if not values:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def evaluate_scores(scores: pd.DataFrame, labels: pd.DataFrame, positive: Iterable[str] = ICE_LABELS,
                    resamples: int = 1000, seed: int = 0, notes: dict[str, str] | None = None,
                    targets: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """ROC AUC and average precision, with grouped bootstrap intervals, of every score on both tasks (or on
    `targets`).

    Parameters
    ----------
    scores : DataFrame
        One column per feature or score, rows aligned with `labels`.
    labels : DataFrame
        As returned by :func:`load_labels`.
    positive : iterable of str
        Labels that count as ice terrain.
    resamples, seed : int
        Bootstrap resamples of source images, and their seed.
    notes : dict, optional
        A note per score name (such as "in-sample"), copied into the ``note`` column.
    targets : dict of str to ndarray, optional
        Other tasks than :data:`TASKS`: task name to boolean targets aligned with `labels` (`positive` is
        then not used).

    Returns
    -------
    DataFrame
        One row per (task, score) with the columns :data:`COLUMNS`.
    """
    notes = notes or {}
    targets = task_targets(labels, positive) if targets is None else targets
    groups = labels["source"].to_numpy()
    rows = []
    for task, y in targets.items():
        for name in scores.columns:
            values = scores[name].to_numpy(np.float64)
            auc_low, auc_high = grouped_bootstrap(y, values, groups, roc_auc, resamples, seed)
            ap_low, ap_high = grouped_bootstrap(y, values, groups, average_precision, resamples, seed)
            rows.append({"task": task, "score": name, "auc": roc_auc(y, values), "auc_low": auc_low,
                         "auc_high": auc_high, "average_precision": average_precision(y, values),
                         "ap_low": ap_low, "ap_high": ap_high, "n_positive": int(y.sum()),
                         "n_negative": int((~y).sum()), "positive_sources": int(np.unique(groups[y]).size),
                         "note": notes.get(name, "")})
    return pd.DataFrame(rows, columns=COLUMNS)


def score_images(labels: pd.DataFrame, image_dir: str | Path, progress: Callable[[int, int], None] | None = None,
                 features: dict | None = None, settings: AnalysisSettings | None = None) -> pd.DataFrame:
    """Compute every registered feature (or the given ones) on every labeled image.

    Parameters
    ----------
    labels : DataFrame
        As returned by :func:`load_labels`.
    image_dir : path
        Folder holding the files named in `labels`.
    progress : callable, optional
        ``progress(done, total)`` after each image.
    features : dict of str to Feature, optional
        Default: the registry (shared group steps run once per image).
    settings : AnalysisSettings, optional
        What to analyse at, as the app would; default: from the environment, read once.

    Returns
    -------
    DataFrame
        One column per feature, rows aligned with `labels`; for the whole registry also the view model's
        ``view`` and ``view_confidence`` and ``is_color``, which :func:`evaluate_by_view` needs.

    Raises
    ------
    LabelsError
        If a labeled file is missing.
    ImageRejected
        If a labeled file is not a readable image.
    """
    from marsviz.decode import load_image
    from marsviz.registry import ANNOTATIONS, REGISTRY, compute_values

    settings = settings or AnalysisSettings.from_environment()
    image_dir = Path(image_dir)
    rows = []
    for done, file_name in enumerate(labels["file"], start=1):
        path = image_dir / file_name
        if not path.is_file():
            raise LabelsError(f"labeled image {file_name} not found in {image_dir}")
        pixels = load_image(path, max_side=settings.max_side).pixels
        if features is None:
            rows.append({**compute_values(pixels, settings=settings), "is_color": pixels.ndim == 3})
        else:
            rows.append({name: feature.function(pixels, **feature.arguments(settings)).value
                         for name, feature in features.items()})
        if progress:
            progress(done, len(labels))
    columns = list(features) if features is not None else [*REGISTRY, *ANNOTATIONS, "is_color"]
    table = pd.DataFrame(rows, columns=columns)
    if features is None:
        table.update(context_of_names(labels["file"]).set_axis(table.index))
    return table


def context_of_names(names: Iterable[str]) -> pd.DataFrame:
    """The context features' values (:func:`marsviz.registry.placed`) of images known by file name
    alone: placed by an MRO product id in the name (:func:`marsviz.context.location.locate`), NaN otherwise.

    Examples
    --------
    >>> context_of_names(["ESP_011283_0945_RED-0030.jpg", "crop.jpg"]).round(2).to_dict("list")
    {'south_polar_ice_region': [1.0, nan], 'ground_ice_band': [1.0, nan]}
    """
    from marsviz.registry import context_names, placed

    return placed(pd.DataFrame({"name": list(names)}))[context_names()]


def in_sample_notes(labels: pd.DataFrame, model) -> dict[str, str]:
    """Notes marking the trained scores in-sample when `model` was fitted on any of `labels`' source images.

    Parameters
    ----------
    labels : DataFrame
        As :func:`load_labels` returns it (column ``source``).
    model : TerrainModel
        The model that computed the scores; its ``metadata["trained_on"]["source_image_ids"]`` are compared.

    Returns
    -------
    dict of str to str
        Score name to note, for :func:`evaluate_scores`' `notes`; empty when no source image was seen.
    """
    from marsviz.terrain.model import SCORES

    trained_on = set(model.metadata.get("trained_on", {}).get("source_image_ids", []))
    seen = len(trained_on & set(labels["source"]))
    if not seen:
        return {}
    note = f"in-sample: model trained on {seen} of these source images (cross-validated: evaluation.json)"
    return dict.fromkeys(SCORES, note)


def evaluate_by_view(values: pd.DataFrame, labels: pd.DataFrame, positive: Iterable[str] = ICE_LABELS,
                     resamples: int = 1000, seed: int = 0, notes: dict[str, str] | None = None,
                     targets: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The evaluation table over every image, then over the images of each view, with the composite presets.

    Parameters
    ----------
    values : DataFrame
        As :func:`score_images` returns it for the whole registry (feature columns, ``view``, ``is_color``).
    labels : DataFrame
        As returned by :func:`load_labels`.
    positive, resamples, seed, notes, targets
        As for :func:`evaluate_scores`.

    Returns
    -------
    DataFrame
        The :data:`COLUMNS` with a leading ``view`` column: ``all`` for every image, then one block per view
        the view model called (tasks with positives and negatives in that view only).  Besides each feature
        (its own value, whatever the view), every preset of :mod:`marsviz.presets` is a score named
        ``preset:NAME``, computed as the app ranks (:func:`marsviz.scoring.app_composite`): a trained score
        drops out of images of a view it was not validated on.
    """
    from marsviz.registry import REGISTRY
    from marsviz.presets import PRESETS
    from marsviz.scoring import app_composite, applicable_values, weights_of_preset

    features = [name for name in REGISTRY if name in values]
    scores = values[features].astype(float)
    applicable = applicable_values(values)
    for name in PRESETS:
        scores[f"preset:{name}"] = app_composite(values, weights_of_preset(name), applicable).fillna(-1.0)
    blocks = [evaluate_scores(scores, labels, positive, resamples, seed, notes, targets).assign(view="all")]
    views = values["view"] if "view" in values else pd.Series(None, index=values.index, dtype=object)
    for view in sorted(views.dropna().unique()):
        chosen = (views == view).to_numpy()
        view_notes = dict(notes or {})
        for name in features:
            if REGISTRY[name].not_validated_on(view):
                note = f"not validated on {view} views: left out of the composite there"
                view_notes[name] = "; ".join(filter(None, [view_notes.get(name), note]))
        table = evaluate_scores(scores[chosen].reset_index(drop=True), labels[chosen].reset_index(drop=True),
                                positive, resamples, seed, view_notes,
                                None if targets is None else {task: y[chosen] for task, y in targets.items()})
        blocks.append(table[(table["n_positive"] > 0) & (table["n_negative"] > 0)].assign(view=view))
    table = pd.concat(blocks, ignore_index=True)
    return table[["view", *COLUMNS]]


#: The task of :func:`evaluate_catalog_labels`: a person's positive labels against their other labels.
YOUR_LABELS_TASK = "your_labels"


def evaluate_catalog_labels(frame: pd.DataFrame, labels: pd.DataFrame, positive: Iterable[str],
                            negative: Iterable[str] = (), resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Every feature and preset of a catalog, as stored, against the labels a person gave its images.

    Parameters
    ----------
    frame : DataFrame
        The catalog (:meth:`marsviz.catalog.Catalog.frame`): ids, names, stored feature values, view.
    labels : DataFrame
        Its labels (:meth:`marsviz.catalog.Catalog.labels`).
    positive : iterable of str
        Labels that count as positive (spelled any way :func:`marsviz.labels.normalise_label` accepts).
    negative : iterable of str, optional
        Labels that count as negative; by default every other label.  Images with a label in neither are
        left out.
    resamples, seed : int, optional
        Bootstrap resamples and seed; the bootstrap resamples source images (:func:`source_image_id` of the
        name: crops of one HiRISE observation together), each other image on its own.

    Returns
    -------
    DataFrame
        As :func:`evaluate_by_view`, with one task, :data:`YOUR_LABELS_TASK`.

    Raises
    ------
    LabelsError
        If the labeled images are not of both classes; the message counts the labels there are.
    """
    from marsviz.labels import labeled_classes, shown

    rows, positive, negative = labeled_classes(frame, labels, positive, negative)
    y = rows["positive"].to_numpy()
    if y.all() or not y.any():
        counts = labels["label"].value_counts()
        have = ", ".join(f"{shown(name)} {count}" for name, count in counts.items()) or "none"
        wanted = f"labeled {' or '.join(map(shown, positive))}"
        other = f"labeled {' or '.join(map(shown, negative))}" if negative else "with another label"
        raise LabelsError(f"an evaluation needs images {wanted} and images {other}; this catalog's labels: {have}")
    table = pd.DataFrame({"file": rows["name"], "labels": rows["label"].map(lambda label: (label,)),
                          "source": rows["name"].map(source_image_id)})
    return evaluate_by_view(rows, table, resamples=resamples, seed=seed, targets={YOUR_LABELS_TASK: y})


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal: one line per (task, score), intervals in brackets."""
    by_view = "view" in table
    lines = [("view      " if by_view else "") + f"{'task':<12} {'score':<22} {'ROC AUC [95% CI]':<24} "
             f"{'avg precision [95% CI]':<24} {'pos/neg (pos sources)':<22} note"]
    for row in table.itertuples():
        lines.append((f"{row.view:<9} " if by_view else "") +
                     f"{row.task:<12} {row.score:<22} {_with_interval(row.auc, row.auc_low, row.auc_high):<24} "
                     f"{_with_interval(row.average_precision, row.ap_low, row.ap_high):<24} "
                     f"{f'{row.n_positive}/{row.n_negative} ({row.positive_sources})':<22} {row.note}")
    return "\n".join(lines)


def _with_interval(value, low, high) -> str:
    if value is None or np.isnan(value):
        return "n/a"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def render(table: pd.DataFrame, fmt: str) -> str:
    """The table as ``table`` (terminal text), ``csv`` or ``json`` (a list of row objects)."""
    if fmt == "table":
        return format_table(table) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
        return buffer.getvalue()
    if fmt == "json":
        return json.dumps(json_records(table), indent=1) + "\n"
    raise ValueError(f"unknown format {fmt!r}; expected table, csv or json")


def preset_evaluation(frames: dict[float, pd.DataFrame], targets: dict[str, np.ndarray], groups: np.ndarray,
                      resamples: int = 1000, seed: int = 0) -> list[dict]:
    """How well each composite preset ranks each task's positives above the rest, as the app would rank them.

    Parameters
    ----------
    frames : dict of float to DataFrame
        Per scale factor (1.0 for the images as they are), one row per image with the feature columns the
        catalog holds (held-out values for trained scores), ``view`` and ``is_color``; the composite is
        :func:`marsviz.scoring.app_composite`, the one the app ranks by.
    targets : dict of str to ndarray
        Task name to boolean targets, rows aligned with the frames.
    groups : ndarray
        Group (source image or sol) of each row, resampled by the bootstrap.
    resamples, seed : int, optional
        Bootstrap resamples and seed.

    Returns
    -------
    list of dict
        Per preset and task: ``preset``, its non-zero ``weights``, ``task``, ``auc`` with ``auc_low`` and
        ``auc_high`` (95% bootstrap interval), ``average_precision``, ``n_positive``, ``n_negative``, and
        ``auc_at_scale`` (scale factor as text to ROC AUC; empty when only 1.0 is given).  An image with no
        composite (every weighted feature missing) ranks last.
    """
    from marsviz.presets import PRESETS
    from marsviz.scoring import app_composite, weights_of_preset

    rows = []
    for name in PRESETS:
        weights = weights_of_preset(name)
        composite = {factor: app_composite(frame, weights).fillna(-1.0).to_numpy(dtype=float)
                     for factor, frame in frames.items()}
        for task, y in targets.items():
            y = np.asarray(y, dtype=bool)
            values = composite[1.0]
            low, high = grouped_bootstrap(y, values, groups, roc_auc, resamples, seed)
            rows.append({"preset": name, "weights": {k: w for k, w in weights.items() if w}, "task": task,
                         "auc": figure(roc_auc(y, values)),
                         "auc_low": figure(low), "auc_high": figure(high),
                         "average_precision": figure(average_precision(y, values)),
                         "n_positive": int(y.sum()), "n_negative": int((~y).sum()),
                         "auc_at_scale": {f"{factor:g}": figure(roc_auc(y, scores))
                                          for factor, scores in composite.items() if factor != 1.0}})
    return rows


def figure(value: float | None) -> float | None:
    """A figure of an evaluation summary as stored: :data:`FIGURE_DIGITS` decimals, None when missing (NaN)."""
    return json_value(value, FIGURE_DIGITS)
