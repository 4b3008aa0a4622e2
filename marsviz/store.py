"""Content-addressed file storage: a file's name is the SHA-256 of its bytes.

Writes go to a temporary file in the same folder and are renamed into place, so a crash never
leaves a partial file under a final name, and writing the same content twice is harmless.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from marsviz.errors import CatalogError


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

    def put_bytes(self, data: bytes, sha256: str, extension: str) -> Path:
        """Store `data` under its hash atomically; return its path."""
        target = self.path_for(sha256, extension)
        if target.exists():
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
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

    def put_file(self, source: Path, sha256: str, extension: str, *, move: bool = False) -> Path:
        """Store the file at `source` under its hash; with `move`, rename it instead of copying."""
        target = self.path_for(sha256, extension)
        if target.exists():
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
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
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
