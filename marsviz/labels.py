"""A person's review of the catalog: one label (and a note) per image, kept by content so it outlives re-analysis.

Labels are stored by the catalog (:meth:`marsviz.catalog.Catalog.set_label`), keyed by the image's SHA-256:
a re-analysis, a new feature version, a re-scrape or a re-add of the same file keeps them, and a labels
file moves them to any catalog holding the same images.  This module holds what is not storage: the
label vocabulary, the rule for writing a label, the labels file format, and the review queue.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from marsviz.errors import LabelsError

#: The quick labels the viewer offers as one-click buttons: a verdict, the terrain classes of the labeled
#: HiRISE set (so labels feed ``evaluate`` and ``train`` with the names those sets use), then the views.
VERDICTS = ("interesting", "not_interesting")
TERRAIN_CLASSES = ("crater", "dark_dune", "bright_dune", "slope_streak", "impact_ejecta", "swiss_cheese", "spider")
VIEW_CLASSES = ("orbital", "surface", "hardware", "other")
QUICK_LABELS = (*VERDICTS, *TERRAIN_CLASSES, *VIEW_CLASSES)

#: Longest label and note, in characters.
LABEL_MAX_CHARS, NOTE_MAX_CHARS = 60, 2000
#: Columns of a labels file (:func:`write_labels_csv`); ``sha256`` and ``label`` are required on import.
LABEL_FILE_COLUMNS = ("sha256", "label", "note", "labeled_by", "labeled_at", "name")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Label:
    """One image's current label.

    Attributes
    ----------
    label : str
        The label (:func:`normalise_label`).
    note : str
        Free text; may be empty.
    labeled_by : str
        Who set it; empty when unknown.
    labeled_at : str
        When, as an ISO 8601 UTC timestamp to the second.
    change : int
        The number of the change that set it: grows with every label change in the catalog, so a
        writer can tell whether the label it showed is still the current one.
    """

    label: str
    note: str
    labeled_by: str
    labeled_at: str
    change: int


def normalise_label(text: str) -> str:
    """`text` as a label: trimmed, lower case, runs of spaces, hyphens and underscores as one ``_``.

    One spelling per label, so that "Dark dune", "dark-dune" and "dark_dune" are one class, named as the
    labeled data sets name theirs.

    Raises
    ------
    LabelsError
        If nothing is left, it is longer than :data:`LABEL_MAX_CHARS`, or it holds control characters.

    Examples
    --------
    >>> normalise_label("  Dark  dune "), normalise_label("not-interesting")
    ('dark_dune', 'not_interesting')
    """
    label = re.sub(r"[\s_-]+", "_", str(text).strip().lower()).strip("_")
    if not label:
        raise LabelsError("a label cannot be empty")
    if len(label) > LABEL_MAX_CHARS:
        raise LabelsError(f"a label has at most {LABEL_MAX_CHARS} characters; this one has {len(label)}")
    if not label.isprintable():
        raise LabelsError("a label cannot hold control characters")
    return label


def check_note(text: str) -> str:
    """`text` trimmed as a note; raises :class:`LabelsError` past :data:`NOTE_MAX_CHARS` characters."""
    note = str(text or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise LabelsError(f"a note has at most {NOTE_MAX_CHARS} characters; this one has {len(note)}")
    return note


def shown(label: str) -> str:
    """A label as people read it.

    Examples
    --------
    >>> shown("not_interesting")
    'not interesting'
    """
    return label.replace("_", " ")


def moment(timestamp: str) -> str:
    """An ISO 8601 UTC timestamp as people read it, to the minute.

    Examples
    --------
    >>> moment("2026-12-06T08:14:51+00:00"), moment("yesterday")
    ('2026-12-06 08:14 UTC', 'yesterday')
    """
    try:
        return datetime.fromisoformat(timestamp).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(timestamp)


#: The label columns :func:`with_labels` adds to a table.
LABEL_COLUMNS = ("label", "note", "labeled_by", "labeled_at")


def with_labels(table: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` (catalog rows with an ``id``) with :data:`LABEL_COLUMNS` from `labels`
    (:meth:`marsviz.catalog.Catalog.labels`); None where an image has no label."""
    by_id = labels.set_index("id")
    out = table.copy()
    for column in LABEL_COLUMNS:
        out[column] = out["id"].map(by_id[column]).astype(object).where(out["id"].isin(by_id.index), None)
    return out


def labeled_classes(frame: pd.DataFrame, labels: pd.DataFrame, positive: Iterable[str],
                    negative: Iterable[str] = ()) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """The labeled images of a catalog as two classes, for an evaluation or a fit.

    Parameters
    ----------
    frame : DataFrame
        Catalog rows with an ``id`` (:meth:`marsviz.catalog.Catalog.frame`).
    labels : DataFrame
        Its labels (:meth:`marsviz.catalog.Catalog.labels`).
    positive, negative : iterable of str
        Labels counted positive, and negative (empty: every other label), spelled any way
        :func:`normalise_label` accepts.

    Returns
    -------
    (DataFrame, tuple of str, tuple of str)
        The labeled rows of `frame` with ``label`` and ``positive`` (bool), images with a label in neither
        class left out; and the normalised positive and negative labels, sorted.
    """
    positive = tuple(sorted({normalise_label(p) for p in positive}))
    negative = tuple(sorted({normalise_label(n) for n in negative}))
    rows = frame.merge(labels[["id", "label"]], on="id")
    if negative:
        rows = rows[rows["label"].isin(positive + negative)]
    return rows.assign(positive=rows["label"].isin(positive)).reset_index(drop=True), positive, negative


def labels_csv(labels: pd.DataFrame) -> str:
    """A labels file: one row per label with :data:`LABEL_FILE_COLUMNS` (``name`` is informative only)."""
    out = io.StringIO()
    labels.reindex(columns=list(LABEL_FILE_COLUMNS)).fillna("").to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()


def read_labels_csv(path: Path) -> pd.DataFrame:
    """The labels of a file written by :func:`labels_csv` (or by hand: ``sha256,label`` at least).

    Returns
    -------
    DataFrame
        Columns ``sha256`` (lower case), ``label`` (normalised), ``note``, ``labeled_by``, ``labeled_at``
        (empty strings where the file has none); one row per image, the last one where a file repeats it.

    Raises
    ------
    LabelsError
        If the file cannot be read, lacks a required column, or any row holds an invalid hash, label or
        note: nothing is imported from a file with a bad row, and the message names its line.
    """
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise LabelsError(f"cannot read the labels file {path}: {error}") from None
    missing = [c for c in ("sha256", "label") if c not in table]
    if missing:
        raise LabelsError(f"{path}: a labels file needs the columns sha256 and label; it has "
                          f"{', '.join(table.columns) or 'none'}")
    rows = []
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        sha = row["sha256"].strip().lower()
        if not _SHA256.fullmatch(sha):
            raise LabelsError(f"{path}, line {line}: {row['sha256']!r} is not a SHA-256 (64 hex digits); "
                              "nothing was imported")
        try:
            rows.append({"sha256": sha, "label": normalise_label(row["label"]), "note": check_note(row.get("note")),
                         "labeled_by": str(row.get("labeled_by", "")).strip(),
                         "labeled_at": str(row.get("labeled_at", "")).strip()})
        except LabelsError as error:
            raise LabelsError(f"{path}, line {line}: {error}; nothing was imported") from None
    frame = pd.DataFrame(rows, columns=["sha256", "label", "note", "labeled_by", "labeled_at"])
    return frame.drop_duplicates("sha256", keep="last").reset_index(drop=True)


def next_unreviewed(order: np.ndarray, current: int | None, reviewed: np.ndarray) -> int | None:
    """The review queue's next image: the first one after `current` in `order` that is not reviewed.

    Parameters
    ----------
    order : ndarray of int
        Image ids in the order shown (a ranking, a filtered and sorted table).
    current : int or None
        The image open now; the walk starts after it, or at the top when it is None or not in `order`.
    reviewed : ndarray of int
        Ids of the images that have a label.

    Returns
    -------
    int or None
        The id; the walk wraps around to the top once; None when every image in `order` is reviewed.

    Examples
    --------
    >>> next_unreviewed(np.array([5, 3, 9, 1]), 3, np.array([9]))
    1
    >>> next_unreviewed(np.array([5, 3, 9, 1]), 1, np.array([9])), next_unreviewed(np.array([5]), None, np.array([5]))
    (5, None)
    """
    order = np.asarray(order, dtype=np.int64)
    after = np.flatnonzero(order == current)
    start = int(after[0]) + 1 if current is not None and len(after) else 0
    walk = np.concatenate([order[start:], order[:start]])
    open_ = walk[~np.isin(walk, np.asarray(reviewed, dtype=np.int64))]
    open_ = open_[open_ != current] if current is not None else open_
    return int(open_[0]) if len(open_) else None
