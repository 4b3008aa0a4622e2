"""Build the ``other`` view's labeled set (maps, globes, diagrams, artwork, photographs that are not Mars).

The set is cut from Debian packages of real images, unpacked with ``dpkg-deb -x``::

    apt-get download openclipart-png stellarium-data desktop-base gnome-backgrounds marble-data
    for deb in *.deb; do dpkg-deb -x "$deb" unpacked; done
    python -m marsviz make-other-set unpacked --output other-set

Each image's ``group`` names where it came from (a clip-art category, a sky culture's constellation art, a
desktop theme, the planet maps), and the view model's validation splits by group, so a held-out image's
whole kind was unseen.  Only the recipe lives in the repository; the images stay where they were unpacked.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

#: Images smaller than this on either side are icons and buttons, not what a user would upload.
MIN_SIDE = 128
#: Long side, in pixels, of the stored copies (the view model reduces every image to 128 px anyway).
STORED_SIDE = 512
#: Extensions read.
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Kind:
    """One kind of image in the set: a folder under the unpacked packages and how to group and sample it."""

    name: str
    folder: str
    #: Path parts, below `folder`, that make an image's group (0: the kind is one group).
    group_depth: int
    per_group: int
    #: Background an image's transparent pixels are laid on (clip art is drawn on white, sky art on black).
    background: tuple[int, int, int]
    #: Parts of file names (lower case) that leave an image out: Mars itself, and textures that are not pictures.
    exclude: tuple[str, ...] = ()


#: Earth's landscape panoramas (stellarium's ``landscapes``) are left out on purpose: seen at the view model's
#: 128 px they are a Mars panorama's twins, and a Mars panorama called ``other`` drops out of the ranking,
#: while a user of marsviz rarely brings a photograph of Earth's horizon.
KINDS = (
    Kind("clip art", "usr/share/openclipart/png", 1, 12, (255, 255, 255)),
    Kind("constellation art", "usr/share/stellarium/skycultures", 1, 3, (0, 0, 0)),
    Kind("planet and moon maps", "usr/share/stellarium/textures", 0, 40, (0, 0, 0),
         exclude=("mars", "neb", "milkyway", "fog", "halo", "gray", "disk", "cross", "gear", "nomap", "test",
                  "icon", "indicator", "shadow", "normals", "coma", "tail", "corona")),
    Kind("nebulae and galaxies", "usr/share/stellarium/nebulae", 0, 24, (0, 0, 0)),
    Kind("desktop artwork", "usr/share/desktop-base", 1, 6, (255, 255, 255)),
    Kind("boot screen artwork", "usr/share/plymouth/themes", 1, 3, (0, 0, 0)),
    Kind("wallpapers", "usr/share/backgrounds", 0, 20, (255, 255, 255)),
    Kind("map software screenshots", "usr/share/doc/HTML/en/marble", 0, 24, (255, 255, 255)),
)


def _candidates(root: Path, kind: Kind) -> Iterator[tuple[str, Path]]:
    """(group, path) of every image of `kind` under `root`, in path order."""
    base = root / kind.folder
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        if path.suffix.lower() not in EXTENSIONS or not path.is_file():
            continue
        if any(word in path.name.lower() for word in kind.exclude):
            continue
        parts = path.relative_to(base).parts[:kind.group_depth]
        if kind.group_depth and len(parts) < kind.group_depth:
            continue
        yield " / ".join((kind.name, *parts)) if parts else kind.name, path


def _opened(path: Path, background: tuple[int, int, int]) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            image.load()
            if min(image.size) < MIN_SIDE:
                return None
            rgba = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    laid = Image.new("RGB", rgba.size, background)
    laid.paste(rgba, mask=rgba.getchannel("A"))
    laid.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    if np.asarray(laid).std() < 2:
        return None
    return laid


def make_other_set(roots: list[Path], output: Path, seed: int = 0) -> list[dict]:
    """Sample the ``other`` set from unpacked Debian packages into ``output/images`` and ``output/labels.csv``.

    Parameters
    ----------
    roots : list of path
        Folders the packages were unpacked into (each holding ``usr/share/...``).
    output : path
        Folder to write; ``labels.csv`` has ``file,group,kind,source``.
    seed : int, optional
        Seeds which images of a group are taken (at most the kind's ``per_group``, drawn without replacement).

    Returns
    -------
    list of dict
        The rows written, in order.
    """
    images = Path(output) / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in KINDS:
        groups: dict[str, list[tuple[Path, Path]]] = {}
        for root in map(Path, roots):
            for group, path in _candidates(root, kind):
                groups.setdefault(group, []).append((root, path))
        for group, paths in sorted(groups.items()):
            rng = np.random.default_rng([seed, zlib.crc32(group.encode())])
            taken = 0
            for index in rng.permutation(len(paths)):
                if taken == kind.per_group:
                    break
                root, path = paths[index]
                image = _opened(path, kind.background)
                if image is None:
                    continue
                name = f"{len(rows):04d}_{path.stem[:40]}.png"
                image.save(images / name)
                rows.append({"file": name, "group": group, "kind": kind.name, "source": str(path.relative_to(root))})
                taken += 1
    with open(Path(output) / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "group", "kind", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return rows
