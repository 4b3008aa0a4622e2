"""The labeled data sets behind the models, fetched the standard way and laid out as ``train`` and
``evaluate`` read them.

Each set is a Zenodo record named by its DOI.  :func:`fetch` downloads its archive with pooch, which checks
it against the checksum the record itself publishes (or, from a mirror, the SHA-256 given), unpacks it,
and writes the set as a folder holding ``labels.csv`` and ``images/``: the form of ``../shared/hirise-train``
and ``../shared/msl-rover``, which ``python -m marsviz train`` and ``evaluate`` take.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from marsviz.errors import DataSetError
from marsviz.labels import normalise_label


@dataclass(frozen=True)
class DataSet:
    """A labeled data set on Zenodo.

    Attributes
    ----------
    doi : str
        The record's DOI.
    archive : str
        The file of the record that holds the set.
    title, citation : str
        What it is and how to cite it.
    lay_out : callable
        ``lay_out(unpacked, folder)``: write ``labels.csv`` and ``images/`` of the set unpacked under
        `unpacked` into `folder`; returns the number of labeled images.
    """

    doi: str
    archive: str
    title: str
    citation: str
    lay_out: Callable[[Path, Path], int]


def _only(root: Path, name: str) -> Path:
    """The one file or folder called `name` under `root` (archives nest their content in a folder)."""
    found = sorted(root.rglob(name))
    if len(found) != 1:
        raise DataSetError(f"the archive holds {len(found)} entries named {name}, not one: is it the right record?")
    return found[0]


def _move_images(source: Path, folder: Path) -> Path:
    """Move the unpacked image folder `source` to ``folder/images`` (a rename: the set is not copied)."""
    images = folder / "images"
    if images.exists():
        shutil.rmtree(images)
    os.replace(source, images)
    return images


def _write_labels(folder: Path, columns: list[str], rows: list[list]) -> int:
    part = folder / "labels.csv.part"
    with open(part, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    os.replace(part, folder / "labels.csv")  # the labels appear last, whole: a killed run leaves none
    return len(rows)


def lay_out_hirise(unpacked: Path, folder: Path) -> int:
    """HiRISE v3: ``labels-map-proj-v3.txt`` (``file class_id`` per line), the class map
    ``landmarks_map-proj-v3_classmap.csv`` (``class_id,name``) and the crops in ``map-proj-v3/``."""
    with open(_only(unpacked, "landmarks_map-proj-v3_classmap.csv"), encoding="utf-8") as handle:
        classes = {row[0].strip(): normalise_label(row[1]) for row in csv.reader(handle) if len(row) >= 2}
    rows = []
    for line in _only(unpacked, "labels-map-proj-v3.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in classes:
            rows.append([parts[0], classes[parts[1]]])
    _move_images(_only(unpacked, "map-proj-v3"), folder)
    return _write_labels(folder, ["file", "label"], rows)


#: The splits of the MSL set, by the file listing each (the authors split by sol).
MSL_SPLITS = {"train": "train-calibrated-shuffled.txt", "val": "val-calibrated-shuffled.txt",
              "test": "test-calibrated-shuffled.txt"}


def lay_out_msl(unpacked: Path, folder: Path) -> int:
    """MSL v1: ``calibrated/`` browse images, a file per split (``calibrated/NAME.JPG class_id`` per line) and
    ``msl_synset_words-indexed.txt`` (``class_id  name``); the sol is the first four digits of a name."""
    classes = {}
    for line in _only(unpacked, "msl_synset_words-indexed.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            classes[parts[0]] = normalise_label(parts[1])
    rows = []
    for split, listing in MSL_SPLITS.items():
        for line in _only(unpacked, listing).read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] in classes:
                name = Path(parts[0]).name
                rows.append([name, classes[parts[1]], split, int(name[:4]) if name[:4].isdigit() else ""])
    _move_images(_only(unpacked, "calibrated"), folder)
    return _write_labels(folder, ["file", "label", "split", "sol"], rows)


DATASETS = {
    "hirise-v3": DataSet(
        doi="10.5281/zenodo.2538136", archive="hirise-map-proj-v3.zip",
        title="Mars orbital image (HiRISE) labeled data set, version 3: 227x227 crops, 8 classes",
        citation="Wagstaff, Lu, Doran, Mandrake (2018), DOI 10.5281/zenodo.2538136", lay_out=lay_out_hirise),
    "msl-v1": DataSet(
        doi="10.5281/zenodo.1049137", archive="msl-images.zip",
        title="Mars surface image (Curiosity rover) labeled data set, version 1: 6,691 images, 24 classes, "
              "split by sol",
        citation="Stanboli and Wagstaff (2017), DOI 10.5281/zenodo.1049137; Wagstaff et al., IAAI 2018",
        lay_out=lay_out_msl),
}


def fetch(name: str, folder: str | Path, *, mirror: str | None = None, sha256: str | None = None,
          progress: bool = False) -> tuple[Path, int]:
    """Download data set `name`, check it, unpack it and lay it out under ``folder/name``.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    folder : path
        Where the set goes; the downloaded archive is kept in ``folder/downloads`` (a second fetch reuses it).
    mirror : str, optional
        A web address holding the record's files under the same names, instead of the DOI's record.
    sha256 : str, optional
        The archive's SHA-256 when fetched from a `mirror` (required there); from the DOI, the checksum
        the record publishes is used.
    progress : bool
        Show a download progress bar.

    Returns
    -------
    (Path, int)
        The set's folder and its number of labeled images.

    Raises
    ------
    DataSetError
        An unknown set, a failed download, a checksum that does not match, or an archive of another layout.
    """
    import pooch
    import requests

    if name not in DATASETS:
        raise DataSetError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")
    spec = DATASETS[name]
    folder = Path(folder)
    downloads = folder / "downloads"
    try:
        if mirror:
            if not sha256:
                raise DataSetError("a mirror needs the archive's --sha256 (the DOI's record publishes its own)")
            store = pooch.create(path=downloads, base_url=mirror.rstrip("/") + "/",
                                 registry={spec.archive: f"sha256:{sha256}"}, retry_if_failed=2)
        else:
            store = pooch.create(path=downloads, base_url=f"doi:{spec.doi}/", registry=None, retry_if_failed=2)
            store.load_registry_from_doi()
        unpacked = downloads / f"{name}-unpacked"
        if unpacked.exists():
            shutil.rmtree(unpacked)  # what an earlier, interrupted lay-out left
        store.fetch(spec.archive, processor=pooch.Unzip(extract_dir=unpacked.name), progressbar=progress)
    except ValueError as error:  # pooch: a checksum that does not match, or a file the record lacks
        raise DataSetError(f"{spec.archive}: {error}") from None
    except (requests.RequestException, OSError) as error:
        raise DataSetError(f"cannot download {spec.archive} ({error})") from None
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    count = spec.lay_out(unpacked, target)
    shutil.rmtree(unpacked, ignore_errors=True)
    return target, count
