"""Archive products whose label is detached from their data: the files that make one, and the one file
it is stored and passed around as.

A PDS3 ``.LBL`` beside its ``.IMG`` (or ``.JP2``), and every PDS4 product (an XML label beside its data),
is added by naming either file.  Its files travel together as one uncompressed tar, the label first,
written the same way every time (fixed order, dates and owners), so the same product always has the same
SHA-256 and adding it twice finds the first copy.  :mod:`marsviz.archive` reads such a tar.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

from marsviz import config
from marsviz.errors import ImageRejected

#: Endings of detached label files.
LABEL_SUFFIXES = (".lbl", ".xml")
#: The ways a PDS3 label with its data attached starts (ODL, or an SFDU wrapper of older products).
PDS3_STARTS = (b"PDS_VERSION_ID", b"ODL_VERSION_ID", b"CCSD3ZF")
#: How a VICAR file and a FITS file start: each carries its label inside.
VICAR_START = b"LBLSIZE="
FITS_START = b"SIMPLE  ="
#: Bytes of a file read to tell a label, or a file with its label attached, from data.
HEAD_BYTES = 64
#: File names a PDS3 label's image pointers name (``^IMAGE = "X.IMG"``, ``^SPECTRAL_QUBE = ("X.QUB", 12)``).
_PDS3_POINTER = re.compile(r'^\s*\^\w*(?:IMAGE|QUBE)\s*=\s*\(?\s*"([^"]+)"', re.MULTILINE)
#: The compressed file a PDS3 label describes (HiRISE: the JPEG 2000 file; the uncompressed image it
#: also names is not distributed).
_PDS3_COMPRESSED = re.compile(r'OBJECT\s*=\s*COMPRESSED_FILE.*?FILE_NAME\s*=\s*"?([^"\s]+)"?', re.DOTALL)
#: File names a PDS4 label describes.
_PDS4_FILE = re.compile(r"<file_name>\s*([^<]+?)\s*</file_name>")
#: Largest label read, in bytes; labels are a few kilobytes.
MAX_LABEL_BYTES = 1 << 20


def product_files(path: str | Path) -> list[Path]:
    """The files of the product `path` belongs to: the label then its data files, when `path` is a
    detached label or a data file with such a label beside it (same name, ending ``.LBL``, ``.lbl``,
    ``.XML`` or ``.xml``); ``[path]`` otherwise.

    Raises
    ------
    ImageRejected
        If `path` is a label whose data files are not beside it, or that names a file elsewhere.
    """
    path = Path(path)
    label = path if path.suffix.lower() in LABEL_SUFFIXES else _label_beside(path)
    if label is None:
        return [path]
    names = _named_files(label)
    if not names:
        if label == path:
            raise ImageRejected(path.name, "a label that names no data file (a detached PDS3 or PDS4 label names "
                                           "the file its image is in)")
        return [path]
    data = list(dict.fromkeys(_beside(label, name) for name in names))
    if label in data:
        raise ImageRejected(label.name, "the label points to itself as its data (a label loop)")
    if label != path and path not in data:
        return [path]  # a label of the same name that describes other files
    return [label, *data]


def _label_beside(path: Path) -> Path | None:
    # A few look-ups of likely names, not a listing of the folder, and the file itself opened only when
    # one exists: this runs for every file added.
    candidates = (path.with_suffix(suffix.upper() if upper else suffix)
                  for suffix in LABEL_SUFFIXES for upper in (True, False))
    label = next((candidate for candidate in candidates if candidate.is_file()), None)
    if label is None:
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    if head.lstrip().startswith((*PDS3_STARTS, VICAR_START, FITS_START)):
        return None  # the label is inside the file
    return label


def _named_files(label: Path) -> list[str]:
    try:
        with open(label, "rb") as handle:
            return named_files(handle.read(MAX_LABEL_BYTES).decode("latin-1"))
    except OSError as error:
        raise ImageRejected(label.name, f"cannot read file ({error.strerror or error})") from None


def is_pds4_label(head: bytes) -> bool:
    """Whether a file starting with `head` (its first few kilobytes) is a PDS4 XML label."""
    return head.lstrip().startswith(b"<") and (b"<Product_" in head or b"pds.nasa.gov/pds4" in head)


def named_files(label: str) -> list[str]:
    """The names of the data files a detached PDS3 or PDS4 label's image is in, as the label spells them.

    Examples
    --------
    >>> named_files('PDS_VERSION_ID = PDS3\\n^IMAGE = ("FRAME.IMG", 3)\\n')
    ['FRAME.IMG']
    >>> named_files('<Product_Observational><File><file_name>frame.dat</file_name></File></Product_Observational>')
    ['frame.dat']
    """
    if label.lstrip().startswith("<"):
        return _PDS4_FILE.findall(label)
    compressed = _PDS3_COMPRESSED.search(label)
    return [compressed.group(1)] if compressed else _PDS3_POINTER.findall(label)


def is_plain_name(name: str) -> bool:
    """Whether `name` is a file name alone: no folder, no drive, no network or virtual path."""
    return bool(name) and "/" not in name and "\\" not in name and ":" not in name and name not in (".", "..")


def _beside(label: Path, name: str) -> Path:
    """The file `name` in the label's folder, in any case (archives spell names in upper case)."""
    if not is_plain_name(name):
        raise ImageRejected(label.name, f"the label names {name[:80]!r}, a file outside its folder: only files "
                                        "beside the label are read")
    exact = label.parent / name
    if exact.is_file():
        return exact
    found = next((p for p in label.parent.iterdir() if p.name.lower() == name.lower() and p.is_file()), None)
    if found is None:
        raise ImageRejected(label.name, f"the label's data file {name!r} is not beside it: add the label and its "
                                        "data file from the same folder")
    return found


def bundle(files: list[Path], name: str) -> bytes:
    """One product file (an uncompressed tar, label first) of `files`, the same bytes for the same files.

    Raises
    ------
    ImageRejected
        If the files together are over the setting ``max_upload_bytes``, or cannot be read.
    """
    limit = int(config.get("max_upload_bytes"))
    try:
        total = sum(path.stat().st_size for path in files)
    except OSError as error:
        raise ImageRejected(name, f"cannot read file ({error.strerror or error})") from None
    if total > limit:
        raise ImageRejected(name, f"the product's files are {total / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit")
    return bundle_bytes([(path.name, path.read_bytes()) for path in files])


def bundle_bytes(files: list[tuple[str, bytes]]) -> bytes:
    """:func:`bundle` of files given as ``(name, content)``, the label first (an upload's files)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for file_name, content in files:
            member = tarfile.TarInfo(file_name)
            member.size, member.mtime, member.mode = len(content), 0, 0o644
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


def assemble(files: list[tuple[str, bytes]]) -> list[tuple[list[int], str, bytes | str]]:
    """Files given together (an upload) as the products they make: each detached label with the data files
    it names, every other file alone.

    Returns
    -------
    list of (positions, name, content or reason)
        The positions in `files` it was made of, its name (the label's, for a product), and its one
        file's content, or why it cannot be read (a label whose data files were not given with it).
    """
    by_name = {name.lower(): position for position, (name, _) in reversed(list(enumerate(files)))}
    claimed: set[int] = set()
    products = []
    for position, (name, content) in enumerate(files):
        if Path(name).suffix.lower() not in LABEL_SUFFIXES:
            continue
        named = [n for n in named_files(content[:MAX_LABEL_BYTES].decode("latin-1")) if n.lower() != name.lower()]
        if not named:
            continue  # not a detached label: read as it is
        missing = [n for n in named if n.lower() not in by_name]
        if missing:
            products.append(([position], name, f"its data file {missing[0][:80]!r} was not given with it: choose the "
                                               "label and its data file together"))
        else:
            parts = list(dict.fromkeys(by_name[n.lower()] for n in named))
            products.append(([position, *parts], name, bundle_bytes([files[p] for p in [position, *parts]])))
            claimed.update(parts)
        claimed.add(position)
    alone = [([position], name, content) for position, (name, content) in enumerate(files) if position not in claimed]
    return sorted(products + alone, key=lambda product: product[0][0])
