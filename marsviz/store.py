"""Content-addressed file storage: a file's name is the SHA-256 of its bytes.

Writes go to a temporary file in the same folder and are renamed into place, so a crash never
leaves a partial file under a final name, and writing the same content twice is harmless.  The
temporary name carries the writer's process id, so the leftovers of a killed writer can be told from
files being written right now and removed (:meth:`ContentStore.remove_stale_parts`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

from marsviz.errors import CatalogError

#: Temporary files older than this (seconds) are leftovers even if their process id is in use again.
STALE_PART_AGE = 3600.0


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of the file at `path`, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_parts(parts: Iterable[Path]) -> int:
    """Delete the temporary files among `parts` whose writers were killed; return how many.

    Each name carries its writer's process id after its first hyphen (``.part-<pid>-...``,
    ``download-<pid>-....part``).  A file is stale when that process is gone, when the name has no process
    id, or when it is older than :data:`STALE_PART_AGE`.  Files of live writers are kept.
    """
    removed = 0
    cutoff = time.time() - STALE_PART_AGE
    for part in parts:
        try:
            pid = int(part.name.split("-")[1])
        except (IndexError, ValueError):
            pid = None
        try:
            if pid is None or not process_alive(pid) or part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
        except OSError:
            pass  # gone already, or a read-only folder: nothing to clean up now
    return removed


class ContentStore:
    """Files under ``root/<first two hex digits>/<sha256><extension>``.

    Parameters
    ----------
    root : Path
        Folder holding the files; created when first written.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str, extension: str) -> Path:
        """Where the file with this hash and extension lives (whether or not it exists)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}{extension}"

    def holds_files(self) -> bool:
        """Whether any file is stored (temporary files of writers aside)."""
        return any(not entry.name.startswith(".part-") for entry in self._entries())

    def remove_stale_parts(self) -> int:
        """Delete temporary files left by writers that were killed; return how many (:func:`remove_stale_parts`)."""
        return remove_stale_parts(self._parts())

    def _parts(self) -> list[Path]:
        return [Path(entry.path) for entry in self._entries() if entry.name.startswith(".part-")]

    def _entries(self) -> Iterator[os.DirEntry]:
        """Every entry in the store's two-digit folders (unreadable folders are skipped)."""
        try:
            folders = [entry.path for entry in os.scandir(self.root) if entry.is_dir()]
        except OSError:
            return
        for folder in folders:
            try:
                with os.scandir(folder) as entries:
                    yield from list(entries)
            except OSError:
                continue

    def put_bytes(self, data: bytes, sha256: str, extension: str, *, replace: bool = False) -> Path:
        """Store `data` under its hash atomically; return its path.

        An existing file is kept unless `replace` (a stored copy found missing or damaged is restored).
        """
        target = self.path_for(sha256, extension)
        if target.exists() and not replace:
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".part-{os.getpid()}-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise CatalogError(f"cannot write to {self.root} ({error.strerror or error})") from None
        return target

    def put_file(self, source: Path, sha256: str, extension: str, *, move: bool = False,
                 replace: bool = False) -> Path:
        """Store the file at `source` under its hash; with `move`, rename it instead of copying.

        An existing file is kept unless `replace`.
        """
        target = self.path_for(sha256, extension)
        if target.exists() and not replace:
            if move:
                Path(source).unlink(missing_ok=True)
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if move:
                try:
                    os.replace(source, target)
                    return target
                except OSError:
                    pass  # another filesystem: fall back to copy, then remove
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".part-{os.getpid()}-")
            os.close(fd)
            try:
                shutil.copyfile(source, temp)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            if move:
                Path(source).unlink(missing_ok=True)
        except OSError as error:
            raise CatalogError(f"cannot write to {self.root} ({error.strerror or error})") from None
        return target


def is_intact(path: Path, size: int) -> bool:
    """Whether the stored file at `path` exists with `size` bytes (cheap: no hashing)."""
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (a temporary file it owns may still be written)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
