"""Turning files into catalog rows: validate, analyse, store, record.

The expensive step, :func:`analyse`, is a pure function of the file's bytes and the run's
:class:`~marsviz.config.AnalysisSettings` (resolved once per call of :func:`add_paths`, :func:`add_bytes`,
:func:`add_file` or :func:`reanalyse`, and passed to every worker), so batches run it on a
:mod:`marsviz.runner` (a process pool or a Dask cluster) while this process alone writes the catalog.
A file is stored and recorded only after it has been fully decoded and analysed, so a rejected file
changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

import numpy as np
from PIL import Image

from marsviz import config
from marsviz.catalog import Catalog
from marsviz.archive import archive_format, read_archive
from marsviz.config import AnalysisSettings
from marsviz.decode import ACCEPTED_SUFFIXES, EncodedFile, irregular_file_reason, load_image
from marsviz.errors import ClusterMismatch, ImageRejected, MarsvizError
from marsviz.learn import latest_model, learned_score, rescore
from marsviz.product_label import ProductInfo
from marsviz.products import LABEL_SUFFIXES, bundle, is_pds4_label, product_files
from marsviz.provenance import Provenance
from marsviz.registry import DESCRIPTORS, LEARNED_SCORE, compute_values, feature_set_version
from marsviz.runner import LocalRunner, Runner
from marsviz.store import is_intact, sha256_bytes, sha256_file

#: Why a file inside a folder is not read.
SKIPPED_REASON = ("not the name of an image file (JPEG, PNG, TIFF, WebP) or archive product (PDS, VICAR, FITS, "
                  "JPEG 2000)")
#: Re-analysed rows written to the catalog per transaction.
REANALYSE_BATCH = 200


@dataclass(frozen=True)
class Analysis:
    """Everything the catalog needs from one image file (no pixels, so it is cheap to pass around)."""

    sha256: str
    extension: str
    width: int
    height: int
    is_color: bool
    features: dict[str, float]
    thumbnail_jpeg: bytes
    note: str = ""
    product: ProductInfo = ProductInfo()


@dataclass(frozen=True)
class AddResult:
    """What happened to one file.

    Attributes
    ----------
    status : {"added", "duplicate", "rejected", "skipped"}
        ``skipped``: a file inside a folder given to :func:`add_paths` whose name is not an image's.
    name : str
        The file's name as the user knows it.
    image_id : int or None
        Catalog id (of the existing image, for a duplicate).
    reason : str
        Why it was rejected; empty otherwise.
    note : str
        For an added image: what decoding did beyond a plain conversion (see
        :attr:`marsviz.decode.DecodedImage.note`); for a duplicate: that its stored copy was missing or
        damaged and has been restored from this file; empty otherwise.
    """

    status: Literal["added", "duplicate", "rejected", "skipped"]
    name: str
    image_id: int | None = None
    reason: str = ""
    note: str = ""


def analyse(data: bytes, name: str, settings: AnalysisSettings) -> Analysis:
    """Decode and analyse encoded image bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name, for messages.
    settings : AnalysisSettings
        The resolution and tile side to analyse at.

    Returns
    -------
    Analysis

    Raises
    ------
    ImageRejected
        If the bytes are not an acceptable image.
    """
    decoded = load_image(data, name=name, max_side=settings.max_side)
    features = compute_values(decoded.pixels, settings=settings)
    return Analysis(sha256=sha256_bytes(data), extension=decoded.extension, width=decoded.width,
                    height=decoded.height, is_color=decoded.is_color, features=features,
                    thumbnail_jpeg=make_thumbnail(decoded.pixels), note=decoded.note, product=decoded.info)


def make_thumbnail(pixels: np.ndarray, side: int | None = None) -> bytes:
    """JPEG bytes of `pixels` (float in [0, 1]) shrunk to at most `side` px (default setting ``thumbnail_side``)."""
    side = side or int(config.get("thumbnail_side"))
    image = Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))
    image.thumbnail((side, side), Image.Resampling.BOX)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


RESTORED = "its stored copy was missing or damaged and has been restored from this file"


def record(catalog: Catalog, analysis: Analysis, data_or_path: bytes | Path, provenance: Provenance,
           feature_version: str, *, move: bool = False) -> AddResult:
    """Store an analysed file and its thumbnail and add its catalog row.

    `feature_version` is :func:`marsviz.registry.feature_set_version` of the settings `analysis` was made with.

    When the same content is already catalogued but its stored copy is missing or has another size
    (deleted or emptied behind the catalog's back), the copy is restored from this file, which hashes
    to the same content.
    """
    existing = catalog.find_by_sha(analysis.sha256)
    if existing is not None:
        restored = _restore_if_damaged(catalog, existing, analysis, data_or_path, move)
        if move and isinstance(data_or_path, Path):
            data_or_path.unlink(missing_ok=True)
        return AddResult("duplicate", provenance.name, existing, note=RESTORED if restored else "")
    catalog.ensure_writable()
    if isinstance(data_or_path, Path):
        catalog.images.put_file(data_or_path, analysis.sha256, analysis.extension, move=move)
    else:
        catalog.images.put_bytes(data_or_path, analysis.sha256, analysis.extension)
    catalog.thumbnails.put_bytes(analysis.thumbnail_jpeg, analysis.sha256, ".jpg")
    learned = learned_score(latest_model(catalog), analysis.features.get(DESCRIPTORS))
    image_id = catalog.insert(sha256=analysis.sha256, extension=analysis.extension, width=analysis.width,
                              height=analysis.height, is_color=analysis.is_color, provenance=provenance,
                              features={**analysis.features, LEARNED_SCORE: learned}, feature_version=feature_version,
                              product=analysis.product)
    if image_id is None:  # another writer added the same content in the meantime
        return AddResult("duplicate", provenance.name, catalog.find_by_sha(analysis.sha256))
    return AddResult("added", provenance.name, image_id, note=analysis.note)


def _restore_if_damaged(catalog: Catalog, image_id: int, analysis: Analysis, data_or_path: bytes | Path,
                        move: bool) -> bool:
    row = catalog.get(image_id)
    size = len(data_or_path) if isinstance(data_or_path, bytes) else Path(data_or_path).stat().st_size
    stored, thumbnail = catalog.image_path(row), catalog.thumbnail_path(row)
    damaged = not is_intact(stored, size)
    if damaged:
        if isinstance(data_or_path, Path):
            catalog.images.put_file(data_or_path, analysis.sha256, row["extension"], move=move, replace=True)
        else:
            catalog.images.put_bytes(data_or_path, analysis.sha256, row["extension"], replace=True)
    if damaged or not thumbnail.is_file() or thumbnail.stat().st_size == 0:
        catalog.thumbnails.put_bytes(analysis.thumbnail_jpeg, analysis.sha256, ".jpg", replace=True)
    return damaged


def add_bytes(catalog: Catalog, data: bytes, provenance: Provenance,
              settings: AnalysisSettings | None = None) -> AddResult:
    """Validate, analyse and add one image given as bytes (an upload), with `settings` (default: from the
    environment).

    Returns
    -------
    AddResult
        ``rejected`` (with the reason) for a file that is not an acceptable image; the catalog is then
        unchanged.  ``duplicate`` when the same content is already there.
    """
    sha = sha256_bytes(data)
    stored = catalog.rows_by_sha([sha]).get(sha)
    if stored is not None and is_intact(catalog.image_path(stored), len(data)):
        return AddResult("duplicate", provenance.name, stored["id"])
    settings = settings or AnalysisSettings.from_environment()
    try:
        analysis = analyse(data, provenance.name, settings)
    except ImageRejected as error:
        return AddResult("rejected", provenance.name, reason=error.reason)
    return record(catalog, analysis, data, provenance, feature_set_version(settings))


def add_file(catalog: Catalog, path: Path, provenance: Provenance, *, move: bool = False,
             settings: AnalysisSettings | None = None, product: ProductInfo | None = None) -> AddResult:
    """Like :func:`add_bytes` for a file on disk; with `move`, the file is moved into the store.

    `product` is what the product's label says when it came apart from the file (a browse image and its
    label); it fills what the file itself does not say.
    """
    path = Path(path)
    settings = settings or AnalysisSettings.from_environment()
    try:
        encoded = EncodedFile.read(path)
        analysis = analyse(encoded.data, provenance.name, settings)
    except ImageRejected as error:
        if move:
            path.unlink(missing_ok=True)
        return AddResult("rejected", provenance.name, reason=error.reason)
    if product is not None:
        analysis = replace(analysis, product=analysis.product.filled_from(product))
    return record(catalog, analysis, encoded.data if encoded.bundled else path, provenance,
                  feature_set_version(settings), move=move and not encoded.bundled)


def _walk(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """(path, skipped) for every file named and every file inside folders named, recursively, sorted.

    `skipped` is True for a file inside a folder whose name is not an image file's: it is reported,
    not read.  A file named on its own is always tried.
    """
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if not p.is_dir())
            claimed = _data_of_labels(inside)
            for file in inside:
                if file not in claimed:
                    yield file, not _worth_reading(file)
        else:
            yield path, False


#: Endings that other files share with archive products (sidecar XML, any .dat): inside a folder, such a
#: file is read only when it starts like a product or a label.
_SHARED_SUFFIXES = (*LABEL_SUFFIXES, ".img", ".dat")


def _worth_reading(file: Path) -> bool:
    """Whether a file found inside a folder is an image or an archive product (by name, and for names
    other files share, by its first bytes)."""
    suffix = file.suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        return False
    if suffix not in _SHARED_SUFFIXES:
        return True
    try:
        with open(file, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return True  # tried, and the reason it cannot be read is reported
    return archive_format(head) is not None or (suffix in LABEL_SUFFIXES and is_pds4_label(head))


def _data_of_labels(files: list[Path]) -> set[Path]:
    """The data files of the detached labels among `files`: each is read with its label, not alone."""
    claimed = set()
    for file in files:
        if file.suffix.lower() in LABEL_SUFFIXES:
            try:
                claimed.update(product_files(file)[1:])
            except ImageRejected:
                pass  # the label itself is tried, and says why it cannot be read
    return claimed


def _not_a_regular_file(path: Path) -> str:
    """Why `path` is not read (missing, a device, FIFO or socket), or '' for a regular file."""
    try:
        return irregular_file_reason(path.stat().st_mode)
    except OSError as error:
        return f"cannot read file ({error.strerror or error})"


@dataclass(frozen=True)
class ImageTask:
    """One image's analysis as a worker runs it (see :mod:`marsviz.runner`): picklable, it returns its
    rejection rather than raising it across processes.

    Called with a file path, or with an :class:`~marsviz.decode.EncodedFile` sent to a remote worker.

    Parameters
    ----------
    settings : AnalysisSettings
        What to analyse at, the same for every worker whatever its own environment.
    features_only : bool
        Only the feature values (a dict; for :func:`reanalyse`: no hash, no thumbnail) instead of the
        whole :class:`Analysis`.
    version : str, optional
        The :func:`~marsviz.registry.feature_set_version` of `settings` where the task was made (computed
        when not given); a worker whose own differs (another marsviz, other model files) raises
        :class:`~marsviz.errors.ClusterMismatch` instead of computing other values.
    """

    settings: AnalysisSettings
    features_only: bool = False
    version: str = ""

    def __post_init__(self):
        if not self.version:
            object.__setattr__(self, "version", feature_set_version(self.settings))

    def __call__(self, file: str | Path | EncodedFile) -> Analysis | dict[str, float] | ImageRejected:
        own_version = feature_set_version(self.settings)
        if own_version != self.version:
            raise ClusterMismatch(f"a worker has feature set {own_version}, the run {self.version}: install "
                                  "the same marsviz version and model files on every worker")
        try:
            encoded = file if isinstance(file, EncodedFile) else EncodedFile.read(file)
            if self.features_only:
                return analyse_features(encoded.data, encoded.name, self.settings)
            return analyse(encoded.data, encoded.name, self.settings)
        except ImageRejected as error:
            return error


def analyse_features(data: bytes, name: str, settings: AnalysisSettings) -> dict[str, float]:
    """Feature values of encoded image bytes: :func:`analyse` without hashing or a thumbnail.

    Raises
    ------
    ImageRejected
        If the bytes are not an acceptable image.
    """
    return compute_values(load_image(data, name=name, max_side=settings.max_side).pixels, settings=settings)


def add_paths(catalog: Catalog, paths: Iterable[Path], provenance_for: Callable[[Path], Provenance] | None = None,
              workers: int | None = None, settings: AnalysisSettings | None = None) -> Iterator[AddResult]:
    """Add files and folders of images; yields one :class:`AddResult` per file, in order.

    Parameters
    ----------
    catalog : Catalog
    paths : iterable of Path
        Files, or folders searched recursively for image files.
    provenance_for : callable, optional
        ``provenance_for(path) -> Provenance``; default: source ``file``, named after the file.
    workers : int, optional
        Analysis processes; see :func:`marsviz.runner.worker_count`.
    settings : AnalysisSettings, optional
        What to analyse at; default: from the environment, read once for the whole batch.
    """
    settings = settings or AnalysisSettings.from_environment()
    version = feature_set_version(settings)
    provenance_for = provenance_for or (lambda p: Provenance(source="file", name=p.name))
    plan: list[tuple[Path, str | None, str]] = []  # (path, sha, why it is not read)
    sizes: dict[Path, int] = {}  # the size of what is stored: the file, or its product's one file
    bundled: set[Path] = set()
    first_of: dict[str, int] = {}  # sha -> position in plan of the one file that gets analysed
    for path, skipped in _walk(paths):
        if skipped:
            plan.append((path, None, "skipped"))
            continue
        problem, sha = _not_a_regular_file(path), None
        try:
            if not problem:
                files = product_files(path)
                if len(files) == 1:
                    sha, sizes[path] = sha256_file(path), path.stat().st_size
                else:
                    content = bundle(files, path.name)
                    sha, sizes[path] = sha256_bytes(content), len(content)
                    bundled.add(path)
        except OSError as error:
            problem = f"cannot read file ({error.strerror or error})"
        except ImageRejected as error:
            problem = error.reason
        plan.append((path, sha, problem))
    stored = catalog.rows_by_sha([sha for _, sha, _ in plan if sha is not None])
    known = {sha: row["id"] for sha, row in stored.items()}
    for position, (path, sha, _) in enumerate(plan):
        if sha is None or sha in first_of:
            continue
        if sha not in stored or not is_intact(catalog.image_path(stored[sha]), sizes[path]):
            first_of[sha] = position  # new, or its stored copy is missing or damaged: analyse, then restore
    analysed = LocalRunner(workers).map(ImageTask(settings), [plan[i][0] for i in first_of.values()])
    rejected: dict[str, str] = {}  # sha -> reason, so a copy of a rejected file is rejected too
    for position, (path, sha, problem) in enumerate(plan):
        if problem == "skipped":
            yield AddResult("skipped", path.name, reason=SKIPPED_REASON)
        elif problem:
            yield AddResult("rejected", path.name, reason=problem)
        elif sha in rejected:
            yield AddResult("rejected", path.name, reason=rejected[sha])
        elif first_of.get(sha) != position:
            yield AddResult("duplicate", path.name, known[sha] if sha in known else catalog.find_by_sha(sha))
        else:
            _, outcome = next(analysed)
            if isinstance(outcome, ImageRejected):
                rejected[sha] = outcome.reason
                yield AddResult("rejected", path.name, reason=outcome.reason)
            else:
                source = EncodedFile.read(path).data if path in bundled else path
                yield record(catalog, outcome, source, provenance_for(path), version)


@dataclass(frozen=True)
class ReanalyseReport:
    """What :func:`reanalyse` did.

    Attributes
    ----------
    stale : int
        Images found analysed by another feature-set version.
    updated : int
        Of those, how many got current values.
    failed : list of (int, str, str)
        Id, name and reason of each image whose stored file could not be analysed; it stays stale
        (``python -m marsviz check`` says whether the stored file is missing or damaged).
    """

    stale: int
    updated: int
    failed: list
    labels_read: int = 0


#: Longest side at which an archive product is read when only its label is wanted.
LABEL_READ_SIDE = 64


def reread_labels(catalog: Catalog) -> tuple[int, list]:
    """Read again the labels of the archive products whose label was read with other rules than today's
    (:data:`marsviz.product_label.RULES_VERSION`), and store what they say; one stored file at a time.

    Returns
    -------
    (int, list of (int, str, str))
        How many labels were read, and the id, name and reason of each product whose label could not be
        (it keeps what was stored).
    """
    products, failed = [], []
    for row in catalog.stale_products():
        try:
            data = catalog.image_path(row).read_bytes()
            info = read_archive(data, row["name"], LABEL_READ_SIDE, int(config.get("max_image_pixels"))).info
        except ImageRejected as error:
            failed.append((row["id"], row["name"], error.reason))
        except OSError as error:
            failed.append((row["id"], row["name"], f"cannot read the stored file ({error.strerror or error})"))
        else:
            products.append((row["id"], info))
    catalog.update_products(products)
    return len(products), failed


def reanalyse(catalog: Catalog, workers: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              runner: Runner | None = None,
              settings: AnalysisSettings | None = None) -> ReanalyseReport:
    """Recompute features of images analysed by another feature-set version.

    Images already at the current version cost one catalog query and nothing else; stale images are
    decoded and measured again (no hashing, no new thumbnail), and their values written in batches.

    Parameters
    ----------
    catalog : Catalog
    workers : int, optional
        Local analysis processes (see :func:`marsviz.runner.worker_count`); ignored with `runner`.
    progress : callable, optional
        Called as ``progress(done, total)`` after each image.
    runner : Runner, optional
        Where to compute, such as a :class:`marsviz.runner.DaskRunner`; default: a
        :class:`~marsviz.runner.LocalRunner` of `workers`.
    settings : AnalysisSettings, optional
        What to analyse at; default: from the environment, read once for the whole run.

    Returns
    -------
    ReanalyseReport

    Archive products whose labels were read with older rules have them read again first (:func:`reread_labels`).
    """
    labels_read, label_failures = reread_labels(catalog)
    settings = settings or AnalysisSettings.from_environment()
    version = feature_set_version(settings)
    stale = catalog.stale(version)
    paths = [catalog.image_path(row) for row in stale]
    outcomes = (runner or LocalRunner(workers)).map(ImageTask(settings, features_only=True), paths)
    updates, failed, updated = [], [], 0
    for done, (row, (_, outcome)) in enumerate(zip(stale, outcomes), start=1):
        if isinstance(outcome, MarsvizError):
            failed.append((row["id"], row["name"], getattr(outcome, "reason", str(outcome))))
        else:
            updates.append((row["id"], outcome))
        if len(updates) >= REANALYSE_BATCH:
            catalog.update_features(updates, version)
            updated += len(updates)
            updates = []
        if progress:
            progress(done, len(stale))
    catalog.update_features(updates, version)
    rescore(catalog, [row["id"] for row in stale])  # their descriptors may have changed with the version
    return ReanalyseReport(stale=len(stale), updated=updated + len(updates), failed=label_failures + failed,
                           labels_read=labels_read)
