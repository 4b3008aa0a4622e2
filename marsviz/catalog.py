"""The catalog: one SQLite file (WAL mode) plus content-addressed image and thumbnail folders.

All SQLite access goes through :class:`Catalog`.  Each call opens a short-lived connection, so the
object is safe to share between threads and processes; every write runs inside ``BEGIN IMMEDIATE``
so concurrent writers queue instead of failing.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import EllipsisType

import numpy as np
import pandas as pd

from marsviz import config
from marsviz.archive import ARCHIVE_EXTENSIONS
from marsviz.context import location
from marsviz.context.mars_time import SEASON_NAMES, season_codes
from marsviz.errors import CatalogError, LabelConflict
from marsviz.labels import Label, check_note, moment, normalise_label, shown
from marsviz.missions import canonical_instrument, canonical_mission
from marsviz.product_label import NUMERIC_FIELDS, PRODUCT_FIELDS, RULES_VERSION, ProductInfo
from marsviz.registry import (ANNOTATIONS, DESCRIPTORS, LEARNED_SCORE, REGISTRY, appearance_names, context_names,
                              place_version, placed)
from marsviz.provenance import PROVENANCE_FIELDS, Provenance
from marsviz.store import ContentStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    extension TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    is_color INTEGER NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    source_id TEXT NOT NULL DEFAULT '',
    page_url TEXT NOT NULL DEFAULT '',
    file_url TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    mission TEXT NOT NULL DEFAULT '',
    instrument TEXT NOT NULL DEFAULT '',
    sol INTEGER,
    date_taken TEXT NOT NULL DEFAULT '',
    credit TEXT NOT NULL DEFAULT '',
    synthetic INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    feature_version TEXT NOT NULL DEFAULT '',
    added_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS images_source_id ON images (source, source_id);
CREATE TABLE IF NOT EXISTS source_aliases (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    image_id INTEGER NOT NULL REFERENCES images (id),
    PRIMARY KEY (source, source_id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', '0');
CREATE TABLE IF NOT EXISTS labels (
    sha256 TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    labeled_by TEXT NOT NULL DEFAULT '',
    labeled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS label_changes (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    label TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    labeled_by TEXT NOT NULL DEFAULT '',
    labeled_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS label_changes_sha256 ON label_changes (sha256, id);
CREATE TABLE IF NOT EXISTS label_fits (id INTEGER PRIMARY KEY, model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS product_labels (
    sha256 TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT ''
);
"""

CATALOG_FILE = "catalog.sqlite"
#: Image ids are SQLite integers: anything outside this range names no image (and SQLite refuses it).
ID_RANGE = range(-2**63, 2**63)


#: What an archive product's label says, beyond mission, instrument and time (stored in the provenance
#: columns when the source does not say): one column each (:class:`marsviz.product_label.ProductInfo`).
PRODUCT_COLUMNS = {name: "REAL" if name in NUMERIC_FIELDS else "TEXT NOT NULL DEFAULT ''"
                   for name in PRODUCT_FIELDS if name not in ("mission", "instrument", "start_time")}


#: Where and when each image is (:func:`marsviz.context.location.locate`), beside ``latitude`` and
#: ``longitude``, which hold the label's place or, where ``location_from`` says so, the one found otherwise.
PLACE_COLUMNS = {"location_from": "TEXT NOT NULL DEFAULT ''", "observed_at": "TEXT NOT NULL DEFAULT ''",
                 "time_from": "TEXT NOT NULL DEFAULT ''", "solar_longitude": "REAL", "mars_year": "INTEGER"}
#: The :data:`marsviz.product_label.RULES_VERSION` an archive product's label was read with (empty: before versions).
LABEL_RULES_COLUMN = "label_rules"
#: File extensions of the stored archive products, whose labels the catalog's product columns come from.
PRODUCT_EXTENSIONS = tuple(ARCHIVE_EXTENSIONS.values())

#: The :func:`marsviz.registry.place_version` each row's place and context values were found with (empty:
#: not yet).
PLACE_VERSION_COLUMN = "place_version"


def later_columns() -> dict[str, str]:
    """Columns newer than the first catalogs, with their SQL types: an older catalog gets them on opening."""
    return {**{name: "REAL" for name in REGISTRY}, **ANNOTATIONS, "added_by": "TEXT NOT NULL DEFAULT ''",
            DESCRIPTORS: "BLOB", LEARNED_SCORE: "REAL", **PRODUCT_COLUMNS, **PLACE_COLUMNS,
            PLACE_VERSION_COLUMN: "TEXT NOT NULL DEFAULT ''", LABEL_RULES_COLUMN: "TEXT NOT NULL DEFAULT ''"}


def located(rows: list[dict]) -> list[dict]:
    """`rows` (catalog fields as stored, the label's ``latitude`` and ``longitude`` among them) with their
    place and time (:data:`PLACE_COLUMNS`, the place in ``latitude`` and ``longitude``), their context
    features' values (:func:`marsviz.registry.placed`) and the version they were found with."""
    if not rows:
        return rows
    found = placed(pd.DataFrame(rows, columns=list(location.FIELDS)))
    found = found.astype(object).where(found.notna(), None)
    version = place_version()
    return [{**row, **place, PLACE_VERSION_COLUMN: version} for row, place in zip(rows, found.to_dict("records"))]


#: Rows :meth:`Catalog.frame` reads from SQLite at a time.
FRAME_CHUNK_ROWS = 100_000


def _column_dtypes(conn: sqlite3.Connection) -> dict[str, str]:
    """The pandas dtype of each column of the images table, from its SQL type (nullable integers as Int64)."""
    dtypes = {}
    for _, name, sql_type, not_null, _, primary_key in conn.execute("PRAGMA table_info(images)"):
        kind = sql_type.upper()
        if kind.startswith("INT"):
            dtypes[name] = "int64" if not_null or primary_key else "Int64"
        elif kind.startswith("REAL"):
            dtypes[name] = "float64"
        elif kind.startswith("TEXT"):
            dtypes[name] = "str"
    return dtypes


def stored_values() -> list[str]:
    """Columns an analysis fills: every appearance feature's value, the annotations (view, view confidence),
    the descriptor vector.  The context features' are filled where the image is located (:func:`located`)."""
    return [*appearance_names(), *ANNOTATIONS, DESCRIPTORS]


#: The fields of a :class:`~marsviz.labels.Label`, selected from ``labels l``; its change is the latest in the history.
_LABEL_FIELDS = ("l.label, l.note, l.labeled_by, l.labeled_at, "
                 "(SELECT max(c.id) FROM label_changes c WHERE c.sha256 = l.sha256) AS change")


def _vectors(rows: list[sqlite3.Row]) -> tuple[np.ndarray, np.ndarray]:
    """Ids and descriptor vectors of ``(id, descriptors)`` rows."""
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    return ids, np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(len(rows), -1)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ReadOnlyStore(ContentStore):
    """The content store of a catalog opened read-only: files are read, every write raises."""

    def __init__(self, root: Path, reason: str):
        super().__init__(root)
        self.reason = reason

    def put_bytes(self, *args, **kwargs) -> Path:
        raise CatalogError(self.reason)

    put_file = put_bytes


#: Free bytes below which a disk counts as full when SQLite reports a bare I/O error.
FULL_DISK_BYTES = 1 << 20

#: Seconds a connection waits for another process's lock before giving up.
BUSY_TIMEOUT_S = 60


def _use_write_ahead_log(conn: sqlite3.Connection) -> None:
    """Switch the database to write-ahead logging (readers never block writers).

    While another process is creating the same new database file, SQLite refuses this switch with
    "database is locked" at once, without waiting through the busy timeout as it does for other
    statements; so that refusal is waited out here, up to the same timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Catalog:
    """The image catalog in a data folder.

    Parameters
    ----------
    home : Path, optional
        Data folder; default :func:`marsviz.config.home` (``MARSVIZ_HOME`` or the per-user data directory).
        Created if missing.
    read_only : bool, optional
        Open for reading only (a public deployment, setting ``read_only``): nothing in the folder is
        created, updated or swept, and every write, to the database or the image stores, raises
        :class:`CatalogError`.  Other processes may still write the catalog; their changes are seen.

    Attributes
    ----------
    read_only : bool
        True when opened with `read_only`, or when the folder cannot be written (a shared or archived
        copy: the catalog is then read as it is on disk); every write raises :class:`CatalogError` saying so.

    Raises
    ------
    CatalogError
        If the folder or database cannot be created or opened; with `read_only`, also if there is no
        catalog yet or it was made by an older version (it needs updating by a writer first).
    """

    def __init__(self, home: Path | str | None = None, *, read_only: bool = False):
        self.home = Path(home) if home else config.home()
        self.path = self.home / CATALOG_FILE
        self.images = ContentStore(self.home / "images")
        self.thumbnails = ContentStore(self.home / "thumbnails")
        self.read_only = False
        self._immutable = False
        self._refusal = f"the data folder {self.home} is read-only: the catalog can be viewed but not changed"
        self._checked = False
        if read_only:
            self._open_for_reading()
            return
        self._refuse_an_emptied_catalog()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                _use_write_ahead_log(conn)
                conn.executescript(SCHEMA)
                present = {row[1] for row in conn.execute("PRAGMA table_info(images)")}
            later = later_columns()
            missing = [name for name in later if name not in present]
            if missing:
                with self._write() as conn:
                    present = {row[1] for row in conn.execute("PRAGMA table_info(images)")}
                    for name in missing:
                        if name not in present:
                            conn.execute(f'ALTER TABLE images ADD COLUMN "{name}" {later[name]}')
                    conn.execute(f"CREATE INDEX IF NOT EXISTS images_{PLACE_VERSION_COLUMN} "
                                 f"ON images ({PLACE_VERSION_COLUMN})")
            with contextlib.suppress(CatalogError):  # a damaged catalog still opens, for `check` to report it
                self._locate_stale()
        except sqlite3.Error as error:
            if not self._open_read_only(error):
                raise CatalogError(f"cannot open the catalog {self.path} ({error})") from None
        except OSError as error:
            raise CatalogError(f"cannot create the data folder {self.home} ({error.strerror or error})") from None
        # A writer killed mid-copy leaves a temporary file beside the store's final names; sweep them.
        self.images.remove_stale_parts()
        self.thumbnails.remove_stale_parts()

    def _refuse_an_emptied_catalog(self) -> None:
        """Refuse to start a new catalog over a 0-byte file while images are stored beside it.

        SQLite treats an empty file as a new database, so the stored images would silently lose
        their rows (names, sources, provenance).
        """
        try:
            emptied = self.path.stat().st_size == 0
        except OSError:
            return
        if emptied and self.images.holds_files():
            raise CatalogError(f"the catalog {self.path} is empty (0 bytes) but {self.images.root} holds stored "
                               f"images: their catalog rows are lost; {self.rebuild_advice}")

    @property
    def rebuild_advice(self) -> str:
        """What to do with a damaged or emptied catalog file, for messages."""
        return ("restore it from a backup, or move it aside and run "
                f"`marsviz add {self.images.root}` to catalog the stored images again (under their hash "
                "names, without their original names and sources)")

    def ensure_writable(self) -> None:
        """Raise :class:`CatalogError` now if a write would be refused (read-only, damaged database).

        Callers that store files before adding their rows call this first, so a refused write leaves
        no stored file behind.
        """
        if self.read_only:
            raise CatalogError(self._refusal)
        self._check_before_writing()

    def _check_before_writing(self) -> None:
        """Refuse the first write to a damaged database file: writing into it could spread the damage."""
        if self._checked:
            return
        problems = self.integrity_problems()
        if problems:
            raise CatalogError(f"the catalog {self.path} is damaged ({problems[0]}); nothing was written to it; "
                               f"{self.rebuild_advice}")
        self._checked = True

    def integrity_problems(self, thorough: bool = False) -> list[str]:
        """What SQLite's own check finds wrong in the database file; empty when it is sound.

        Parameters
        ----------
        thorough : bool
            ``PRAGMA integrity_check`` (also checks indexes against tables) instead of the faster
            ``quick_check``.
        """
        pragma = "integrity_check" if thorough else "quick_check"
        with self._connect() as conn:
            try:
                found = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
            except sqlite3.DatabaseError as error:
                return [str(error)]
        return [] if found == ["ok"] else found

    def _open_read_only(self, error: sqlite3.Error) -> bool:
        """After `error` on opening: read an existing catalog this process may not write, if that works."""
        if "readonly" not in str(error) or not self.path.is_file():
            return False
        self.read_only = self._immutable = True
        if not self._columns_current():
            self.read_only = self._immutable = False  # made by an older version: it would need writing first
            return False
        return True

    def _open_for_reading(self) -> None:
        """Open with ``read_only=True``: check the catalog is there and current, and change nothing."""
        self.read_only = True
        self._refusal = (f"this marsviz deployment is read-only (setting read_only): the catalog in {self.home} "
                         "can be viewed but not changed")
        self.images = ReadOnlyStore(self.home / "images", self._refusal)
        self.thumbnails = ReadOnlyStore(self.home / "thumbnails", self._refusal)
        if not self.path.is_file():
            raise CatalogError(f"there is no catalog in {self.home} yet, and this deployment is read-only: add "
                               "images with `python -m marsviz add` (or run the app once without read_only)")
        if not self._columns_current():
            raise CatalogError(f"the catalog in {self.home} was made by an older marsviz version and this "
                               "deployment is read-only: open it once with `python -m marsviz rank` to update it")

    def _columns_current(self) -> bool:
        """Whether the catalog has every table and column this version reads (they cannot be added read-only)."""
        try:
            with self._connect() as conn:
                present = {row[1] for row in conn.execute("PRAGMA table_info(images)")}
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except (sqlite3.Error, CatalogError):
            return False
        needed = {"source_aliases", "labels", "label_changes", "label_fits", "product_labels"}
        return bool(present) and needed <= tables and all(name in present for name in later_columns())

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> contextlib.closing:
        try:
            if self._immutable:
                # A WAL database needs its -shm file even to read; "immutable" reads the file as it is,
                # which is safe because nobody can write this folder.
                conn = sqlite3.connect(f"{self.path.as_uri()}?immutable=1", uri=True, timeout=BUSY_TIMEOUT_S,
                                       isolation_level=None)
            elif self.read_only:
                conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                       isolation_level=None)
            else:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as error:
            raise CatalogError(f"cannot open the catalog {self.path} ({error})") from None
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        return contextlib.closing(conn)

    @contextlib.contextmanager
    def _write(self, bump_revision: bool = True):
        """A write transaction; bumps the catalog revision so caches keyed by it go stale.

        Label writes do not bump it (`bump_revision` False): they change no image row, and their own
        revision is :meth:`labels_revision`.
        """
        self.ensure_writable()
        with self._connect() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                if bump_revision:
                    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise CatalogError(f"cannot write the catalog {self.path} ({self._reason(error)})") from None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._connect() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise CatalogError(f"cannot read the catalog {self.path} ({self._reason(error)})") from None

    def _reason(self, error: sqlite3.Error) -> str:
        """SQLite's reason for `error`, with the likely cause of a bare I/O error said: a full disk (SQLite
        reports one as "disk I/O error" when a read needs room for its shared-memory or temporary files)."""
        reason = str(error)
        if "disk I/O error" in reason:
            with contextlib.suppress(OSError):
                if shutil.disk_usage(self.home).free < FULL_DISK_BYTES:
                    reason += ": No space left on device; free some space on the disk holding the data folder"
        return reason

    # -- writes ----------------------------------------------------------------------------------
    def insert(self, *, sha256: str, extension: str, width: int, height: int, is_color: bool,
               provenance: Provenance, features: dict[str, float], feature_version: str,
               product: ProductInfo | None = None) -> int | None:
        """Add one image row; return its id, or None if an image with this content is already there.

        `features` holds :func:`stored_values` and, where a score was fitted to the labels, its value
        (:data:`marsviz.registry.LEARNED_SCORE`).  `product` is what an archive product's label says; its
        mission (else its spacecraft), instrument and start time fill the provenance's where the source said
        nothing.
        """
        product = product or ProductInfo()
        said = provenance.as_dict()
        # Many labels name only the spacecraft (INSTRUMENT_HOST_NAME, FITS TELESCOP): it names the mission.
        for column, value in (("mission", product.mission or product.spacecraft), ("instrument", product.instrument),
                              ("date_taken", product.start_time)):
            said[column] = said[column] or value
        row = {"sha256": sha256, "extension": extension, "width": width, "height": height,
               "is_color": int(is_color), **said, "synthetic": int(provenance.synthetic),
               **{name: getattr(product, name) for name in PRODUCT_COLUMNS}, LABEL_RULES_COLUMN: RULES_VERSION,
               "added_at": _now(), "feature_version": feature_version,
               **{k: features[k] for k in [*stored_values(), LEARNED_SCORE] if k in features}}
        row = located([row])[0]
        columns = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        with self._write() as conn:
            cursor = conn.execute(f"INSERT OR IGNORE INTO images ({columns}) VALUES ({marks})", tuple(row.values()))
            return cursor.lastrowid if cursor.rowcount == 1 else None

    def insert_many(self, rows: list[dict]) -> int:
        """Insert prepared rows (keys as in :meth:`insert`, provenance flattened) in one transaction, each
        with its place and time (:func:`located`).

        Returns the number of rows added (rows whose content is already there are skipped).
        """
        if not rows:
            return 0
        rows = located(rows)
        columns = list(rows[0])
        sql = (f"INSERT OR IGNORE INTO images ({', '.join(f'{c!r}'.replace(chr(39), chr(34)) for c in columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
            return conn.total_changes - before

    def add_source_aliases(self, aliases: list[tuple[str, str, int]]) -> None:
        """Remember ``(source, source_id, image_id)``: the source's id for content the catalog already holds.

        The catalog keeps one row per content; a scrape meeting the same content under another id records
        it here, so :meth:`find_by_source_id` knows it and a re-run does not download it again.  An alias
        already recorded is kept as it is.
        """
        if aliases:
            with self._write() as conn:
                conn.executemany("INSERT OR IGNORE INTO source_aliases (source, source_id, image_id) VALUES (?, ?, ?)",
                                 aliases)

    def update_features(self, updates: list[tuple[int, dict[str, float]]], feature_version: str) -> None:
        """Store recomputed feature values and annotations for existing images, in one transaction."""
        names = stored_values()
        sql = (f"UPDATE images SET {', '.join(f'{chr(34)}{n}{chr(34)} = ?' for n in names)}, feature_version = ? "
               "WHERE id = ?")
        with self._write() as conn:
            conn.executemany(sql, [(*[values.get(n) for n in names], feature_version, image_id)
                                   for image_id, values in updates])

    # -- reads -----------------------------------------------------------------------------------
    def revision(self) -> int:
        """A number that grows with every write: key caches on it."""
        return int(self._read("SELECT value FROM meta WHERE key = 'revision'")[0][0])

    def count(self, include_synthetic: bool = True) -> int:
        """Number of images."""
        where = "" if include_synthetic else " WHERE synthetic = 0"
        return int(self._read(f"SELECT count(*) FROM images{where}")[0][0])

    def is_empty(self) -> bool:
        """Whether the catalog holds no image (without counting a large one's rows)."""
        return not self._read("SELECT EXISTS (SELECT 1 FROM images)")[0][0]

    def find_by_sha(self, sha256: str) -> int | None:
        """Id of the image with this content hash, or None."""
        rows = self._read("SELECT id FROM images WHERE sha256 = ?", (sha256,))
        return rows[0][0] if rows else None

    def ids_by_sha(self, sha256s: list[str]) -> dict[str, int]:
        """Ids of the images among these content hashes that are in the catalog, in one query per 500."""
        return {sha: row["id"] for sha, row in self.rows_by_sha(sha256s).items()}

    def rows_by_sha(self, sha256s: list[str]) -> dict[str, dict]:
        """``{sha256: {"id", "sha256", "extension"}}`` of the images among these content hashes."""
        found: dict[str, dict] = {}
        unique = list(dict.fromkeys(sha256s))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            rows = self._read("SELECT id, sha256, extension FROM images "
                              f"WHERE sha256 IN ({', '.join('?' * len(chunk))})", tuple(chunk))
            found.update({row["sha256"]: dict(row) for row in rows})
        return found

    def find_by_source_id(self, source: str, source_id: str) -> int | None:
        """Id of the image with this id at this source, or None.

        An id the source gave to content already in the catalog under another id (:meth:`add_source_aliases`)
        finds that image too.
        """
        rows = self._read("SELECT id FROM images WHERE source = ? AND source_id = ? UNION ALL "
                          "SELECT image_id FROM source_aliases WHERE source = ? AND source_id = ? LIMIT 1",
                          (source, source_id, source, source_id))
        return rows[0][0] if rows else None

    def get(self, image_id: int) -> dict | None:
        """One image's row as a dict, or None."""
        rows = self._read("SELECT * FROM images WHERE id = ?", (int(image_id),))
        return dict(rows[0]) if rows else None

    def frame(self, include_synthetic: bool = True) -> pd.DataFrame:
        """Every image as one row: id, provenance, what its label says (archive products), size, colour
        flag, feature values and annotations.

        Missions and instruments carry their one name (:mod:`marsviz.missions`), so that a filter finds
        every image of one; :meth:`get` gives what the source said.  The descriptor vectors
        (:meth:`descriptor_chunks`) and the long description text are left
        out (fetch it per image with :meth:`get`).
        """
        columns = ["id", "sha256", "extension", "width", "height", "is_color", "added_at", "feature_version",
                   *[c for c in PROVENANCE_FIELDS if c != "description"], *PRODUCT_COLUMNS, *PLACE_COLUMNS,
                   *REGISTRY, *ANNOTATIONS, LEARNED_SCORE]
        where = "" if include_synthetic else " WHERE synthetic = 0"
        sql = f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM images{where} ORDER BY id"
        with self._connect() as conn:
            try:
                dtypes = _column_dtypes(conn)
                # In chunks, each typed as it is read: a million rows read at once would first be a million
                # Python tuples, a peak of several times the frame's size.
                chunks = list(pd.read_sql_query(sql, conn, chunksize=FRAME_CHUNK_ROWS,
                                                dtype={c: dtypes[c] for c in columns if c in dtypes}))
            except (sqlite3.Error, pd.errors.DatabaseError) as error:
                raise CatalogError(f"cannot read the catalog {self.path} ({error})") from None
        frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(
            {c: pd.Series(dtype=dtypes.get(c, "str")) for c in columns})
        frame["is_color"] = frame["is_color"].astype(bool)
        frame["synthetic"] = frame["synthetic"].astype(bool)
        for column, canonical in (("mission", canonical_mission), ("instrument", canonical_instrument)):
            frame[column] = frame[column].map({v: canonical(v) for v in frame[column].unique()})
        frame["sol"] = frame["sol"].astype("Int64")
        frame["mars_year"] = frame["mars_year"].astype("Int64")
        frame["season"] = pd.Categorical.from_codes(season_codes(frame["solar_longitude"].to_numpy(dtype=float),
                                                                 frame["latitude"].to_numpy(dtype=float)),
                                                    categories=SEASON_NAMES)
        return frame

    def descriptor_chunks(self, ids: Sequence[int] | None = None,
                          chunk_rows: int = FRAME_CHUNK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The stored descriptor vectors (:data:`marsviz.registry.DESCRIPTORS`), a chunk at a time.

        Parameters
        ----------
        ids : sequence of int, optional
            Only these images; default every image.
        chunk_rows : int, optional
            Rows per chunk (a million vectors at once would be half a gigabyte).

        Yields
        ------
        (ndarray, ndarray)
            Image ids (int64) and their vectors, (n, d) float32; images without a vector (analysed by an
            older version: ``analyze`` adds them) are left out.
        """
        if ids is not None:
            ids = [int(i) for i in ids]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = self._read(f'SELECT id, "{DESCRIPTORS}" FROM images WHERE "{DESCRIPTORS}" IS NOT NULL '
                                  f"AND id IN ({', '.join('?' * len(chunk))}) ORDER BY id", tuple(chunk))
                if rows:
                    yield _vectors(rows)
            return
        after = ""  # then "AND id > <the last id read>": each chunk is one index range scan
        last = ()
        while True:
            rows = self._read(f'SELECT id, "{DESCRIPTORS}" FROM images WHERE "{DESCRIPTORS}" IS NOT NULL {after} '
                              "ORDER BY id LIMIT ?", (*last, chunk_rows))
            if not rows:
                return
            yield _vectors(rows)
            after, last = "AND id > ?", (rows[-1][0],)

    def _locate_stale(self) -> None:
        """Find the place, time and context values of every row found with another
        :func:`~marsviz.registry.place_version`, or not yet (catalogs made before places were stored), a
        chunk at a time.  A place found before from anything but the label is found again."""
        version = place_version()
        if not self._read(f"SELECT EXISTS (SELECT 1 FROM images WHERE {PLACE_VERSION_COLUMN} != ?)", (version,))[0][0]:
            return  # nothing to write: opening a current catalog writes nothing
        names = [*location.FIELDS, *PLACE_COLUMNS, PLACE_VERSION_COLUMN]
        select = (f"SELECT id, {', '.join(chr(34) + n + chr(34) for n in names)} FROM images "
                  f"WHERE {PLACE_VERSION_COLUMN} != ? AND id >= ? ORDER BY id LIMIT ?")
        written = ["latitude", "longitude", *PLACE_COLUMNS, *context_names(), PLACE_VERSION_COLUMN]
        update = f"UPDATE images SET {', '.join(f'{chr(34)}{n}{chr(34)} = ?' for n in written)} WHERE id = ?"
        start = ID_RANGE.start
        while rows := self._read(select, (version, start, FRAME_CHUNK_ROWS)):
            rows = [dict(row) for row in rows]
            for row in rows:
                if row[PLACE_VERSION_COLUMN] and row["location_from"] != "label":
                    row["latitude"] = row["longitude"] = None
            with self._write() as conn:
                conn.executemany(update, [(*[r[n] for n in written], r["id"]) for r in located(rows)])
            start = rows[-1]["id"] + 1

    def keep_product_label(self, sha256: str, text: str, url: str = "") -> None:
        """Keep the label of the product that the image with content `sha256` shows (a browse image scraped
        with its product's label, from `url`); a label already kept for it stays."""
        with self._write(bump_revision=False) as conn:
            conn.execute("INSERT OR IGNORE INTO product_labels (sha256, text, url) VALUES (?, ?, ?)",
                         (sha256, text, url))

    def product_label(self, sha256: str) -> str:
        """The product label kept for the image with content `sha256` (:meth:`keep_product_label`), or ''."""
        rows = self._read("SELECT text FROM product_labels WHERE sha256 = ?", (sha256,))
        return rows[0][0] if rows else ""

    def stale_products(self) -> list[dict]:
        """Archive products whose label was read with other :data:`~marsviz.product_label.RULES_VERSION` rules."""
        marks = ", ".join("?" for _ in PRODUCT_EXTENSIONS)
        rows = self._read(f"SELECT id, sha256, extension, name FROM images WHERE {LABEL_RULES_COLUMN} != ? "
                          f"AND extension IN ({marks}) ORDER BY id", (RULES_VERSION, *PRODUCT_EXTENSIONS))
        return [dict(r) for r in rows]

    def update_products(self, products: list[tuple[int, ProductInfo]]) -> None:
        """Store what the labels of images ``(id, info)`` say, read with the current rules, and find their
        places again."""
        if not products:
            return
        names = [*PRODUCT_COLUMNS, LABEL_RULES_COLUMN, PLACE_VERSION_COLUMN]
        update = f"UPDATE images SET {', '.join(f'{chr(34)}{n}{chr(34)} = ?' for n in names)} WHERE id = ?"
        with self._write() as conn:
            conn.executemany(update, [(*[getattr(info, n) for n in PRODUCT_COLUMNS], RULES_VERSION, "", int(image_id))
                                      for image_id, info in products])
        self._locate_stale()

    def stale_count(self, feature_version: str) -> int:
        """Number of images whose stored features were computed by another feature-set version."""
        return int(self._read("SELECT count(*) FROM images WHERE feature_version != ?", (feature_version,))[0][0])

    def stale(self, feature_version: str) -> list[dict]:
        """Images whose stored features were computed by another feature-set version."""
        rows = self._read("SELECT id, sha256, extension, name FROM images WHERE feature_version != ?",
                          (feature_version,))
        return [dict(r) for r in rows]

    # -- labels ----------------------------------------------------------------------------------
    def labels_revision(self) -> int:
        """A number that grows with every label change, and only then: key caches of labels on it."""
        return int(self._read("SELECT coalesce(max(id), 0) FROM label_changes")[0][0])

    def label_of(self, image_id: int) -> Label | None:
        """The current label of image `image_id`, or None (no label, or no such image)."""
        rows = self._read(f"SELECT {_LABEL_FIELDS} FROM images i JOIN labels l ON l.sha256 = i.sha256 "
                          "WHERE i.id = ?", (int(image_id),))
        return Label(**dict(rows[0])) if rows else None

    def set_label(self, image_id: int, label: str, note: str = "", labeled_by: str = "", *,
                  expected: Label | None | EllipsisType = ...) -> Label:
        """Label image `image_id` (replacing its label, if any); the change is also kept in the label history.

        Parameters
        ----------
        image_id : int
        label : str
            Any text; stored as :func:`marsviz.labels.normalise_label` writes it.
        note : str, optional
        labeled_by : str, optional
            Who labels.
        expected : Label or None, optional
            The label the writer showed (None: no label).  If the stored one differs, someone else changed
            it since: nothing is written and :class:`LabelConflict` says who and what.  Left out, the
            label is set whatever it was (the command line, an import).

        Raises
        ------
        LabelsError
            If the label or note is not valid.
        LabelConflict
            If the image is no longer in the catalog, or its label is not `expected`.
        CatalogError
            If the catalog cannot be written.
        """
        label, note = normalise_label(label), check_note(note)
        with self._write(bump_revision=False) as conn:
            sha256 = self._labeled_image(conn, image_id, expected)
            return self._record_label(conn, sha256, label, note, labeled_by, _now())

    def clear_label(self, image_id: int, labeled_by: str = "", *,
                    expected: Label | None | EllipsisType = ...) -> bool:
        """Remove the label of image `image_id` (the history keeps it); return whether it had one.

        `expected` and the errors are as for :meth:`set_label`.
        """
        with self._write(bump_revision=False) as conn:
            sha256 = self._labeled_image(conn, image_id, expected)
            if not conn.execute("DELETE FROM labels WHERE sha256 = ?", (sha256,)).rowcount:
                return False
            conn.execute("INSERT INTO label_changes (sha256, label, labeled_by, labeled_at) VALUES (?, '', ?, ?)",
                          (sha256, labeled_by, _now()))
            return True

    def _labeled_image(self, conn: sqlite3.Connection, image_id: int, expected) -> str:
        """Inside a write: the hash of image `image_id`, after checking its label is still `expected`."""
        found = conn.execute("SELECT sha256 FROM images WHERE id = ?", (int(image_id),)).fetchone()
        if found is None:
            raise LabelConflict(f"there is no image with id {int(image_id)} in this catalog (if it was shown, it "
                                "has been removed since); nothing was saved")
        if expected is ...:
            return found[0]
        current = conn.execute(f"SELECT {_LABEL_FIELDS} FROM labels l WHERE sha256 = ?", (found[0],)).fetchone()
        current_change = current["change"] if current else 0
        if current_change != (expected.change if expected else 0):
            last = conn.execute("SELECT label, labeled_by, labeled_at FROM label_changes WHERE sha256 = ? "
                                "ORDER BY id DESC LIMIT 1", (found[0],)).fetchone()
            who = last["labeled_by"] or "someone"
            did = f"labeled it “{shown(last['label'])}”" if last["label"] else "removed its label"
            raise LabelConflict(f"{who} {did} at {moment(last['labeled_at'])}, after it was shown here; your change "
                                "was not saved. Choose again to replace theirs.")
        return found[0]

    @staticmethod
    def _record_label(conn: sqlite3.Connection, sha256: str, label: str, note: str, labeled_by: str,
                      labeled_at: str) -> Label:
        change = conn.execute("INSERT INTO label_changes (sha256, label, note, labeled_by, labeled_at) "
                              "VALUES (?, ?, ?, ?, ?)", (sha256, label, note, labeled_by, labeled_at)).lastrowid
        conn.execute("INSERT INTO labels (sha256, label, note, labeled_by, labeled_at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (sha256) DO UPDATE SET label = excluded.label, note = excluded.note, "
                     "labeled_by = excluded.labeled_by, labeled_at = excluded.labeled_at",
                     (sha256, label, note, labeled_by, labeled_at))
        return Label(label, note, labeled_by, labeled_at, change)

    def import_labels(self, labels: pd.DataFrame, labeled_by: str = "") -> dict[str, int]:
        """Set the labels of a labels file (:func:`marsviz.labels.read_labels_csv`) on the images with those
        hashes, in one transaction.

        A row keeps its ``labeled_by`` and ``labeled_at`` (`labeled_by` and now where empty).  Returns
        counts: ``set`` (newly labeled), ``replaced`` (a different label was there; the history keeps it),
        ``unchanged`` (the same label and note were there) and ``not_in_catalog`` (no image with that hash:
        skipped).
        """
        counts = dict.fromkeys(("set", "replaced", "unchanged", "not_in_catalog"), 0)
        known = self.ids_by_sha(labels["sha256"].tolist())
        with self._write(bump_revision=False) as conn:
            for row in labels.to_dict(orient="records"):
                if row["sha256"] not in known:
                    counts["not_in_catalog"] += 1
                    continue
                current = conn.execute("SELECT label, note FROM labels WHERE sha256 = ?", (row["sha256"],)).fetchone()
                if current is not None and (current["label"], current["note"]) == (row["label"], row["note"]):
                    counts["unchanged"] += 1
                    continue
                counts["replaced" if current is not None else "set"] += 1
                self._record_label(conn, row["sha256"], row["label"], row["note"],
                                   row["labeled_by"] or labeled_by, row["labeled_at"] or _now())
        return counts

    def record_label_fit(self, model: str, scores: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
        """Record a score fitted to the labels (`model`, as its JSON text) and store its value of every image.

        In one transaction: the fit is added to the fit history (:meth:`label_fits`) and
        :data:`marsviz.registry.LEARNED_SCORE` is set from `scores`, chunks of (image ids, values); images
        not in them (no descriptors) get null.
        """
        scores = list(scores)  # computed before the write lock is taken: a million take seconds
        with self._write() as conn:
            conn.execute("INSERT INTO label_fits (model) VALUES (?)", (model,))
            conn.execute(f'UPDATE images SET "{LEARNED_SCORE}" = NULL')
            for ids, values in scores:
                conn.executemany(f'UPDATE images SET "{LEARNED_SCORE}" = ? WHERE id = ?',
                                 zip(np.asarray(values, dtype=float).tolist(), np.asarray(ids).tolist()))

    def label_fits(self) -> list[str]:
        """Every recorded fit of a score to the labels (:meth:`record_label_fit`), newest first."""
        return [row[0] for row in self._read("SELECT model FROM label_fits ORDER BY id DESC")]

    def latest_label_fit(self) -> str | None:
        """The newest recorded fit's model text, or None."""
        rows = self._read("SELECT model FROM label_fits ORDER BY id DESC LIMIT 1")
        return rows[0][0] if rows else None

    def set_learned_scores(self, scores: list[tuple[int, float]]) -> None:
        """Store :data:`marsviz.registry.LEARNED_SCORE` of some images: ``(image id, value)`` pairs."""
        if scores:
            with self._write() as conn:
                conn.executemany(f'UPDATE images SET "{LEARNED_SCORE}" = ? WHERE id = ?',
                                 [(value, image_id) for image_id, value in scores])

    def labels(self) -> pd.DataFrame:
        """Every current label: ``id`` (of the image), ``sha256``, ``name``, ``label``, ``note``,
        ``labeled_by``, ``labeled_at``, ``change``; one row per labeled image, oldest label first."""
        rows = self._read(f"SELECT i.id, l.sha256, i.name, {_LABEL_FIELDS} FROM labels l "
                          "JOIN images i ON i.sha256 = l.sha256 ORDER BY change")
        columns = ["id", "sha256", "name", "label", "note", "labeled_by", "labeled_at", "change"]
        return pd.DataFrame([tuple(r) for r in rows], columns=columns).astype({"id": "int64", "change": "int64"})

    def label_history(self, image_id: int) -> list[dict]:
        """Every label change of image `image_id`, newest first: ``label`` ('' for a removal), ``note``,
        ``labeled_by``, ``labeled_at``."""
        rows = self._read("SELECT c.label, c.note, c.labeled_by, c.labeled_at FROM label_changes c "
                          "JOIN images i ON i.sha256 = c.sha256 WHERE i.id = ? ORDER BY c.id DESC", (int(image_id),))
        return [dict(r) for r in rows]

    # -- files -----------------------------------------------------------------------------------
    def image_path(self, row: dict) -> Path:
        """Path of the stored original image of a catalog row."""
        return self.images.path_for(row["sha256"], row["extension"])

    def thumbnail_path(self, row: dict) -> Path:
        """Path of the stored JPEG thumbnail of a catalog row."""
        return self.thumbnails.path_for(row["sha256"], ".jpg")

    @property
    def tmp_dir(self) -> Path:
        """A folder for partial downloads, on the same filesystem as the store."""
        if self.read_only and not self._immutable:  # an unwritable folder says so when mkdir fails
            raise CatalogError(self._refusal)
        path = self.home / "tmp"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogError(f"cannot create {path} ({error.strerror or error})") from None
        return path
