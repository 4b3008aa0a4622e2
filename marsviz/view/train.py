"""Train the view model and validate it on sols and source images it never saw.

``python -m marsviz train-view --rover DIR --orbital DIR [DIR ...]`` rebuilds the shipped
``marsviz/view/view_model.json`` and ``view_evaluation.json``:

* **surface and hardware**: the labeled Curiosity frames (``labels.csv`` with ``file,label,split,sol``); the
  terrain labels (:data:`TERRAIN_LABELS`) are ``surface``, every other label ``hardware``.  Validated as the
  data set's authors split it: fit on the ``train`` sols, test on the later ``val`` sols.
* **orbital**: labeled HiRISE crops (any label), split into two halves by source image; and, per source image,
  three *orbital products* assembled from its crops (:func:`orbital_product`): a map-projected mosaic turned on
  a black no-data frame, a long projected strip, and a colour mosaic at lower resolution.  Orbital images other
  than HiRISE crops reach the app as such products (CTX, THEMIS, MOC, Viking mosaics), and none is labeled here.
* **other**: maps, globes, artwork, diagrams and photographs that are not Mars: the sets made by
  ``python -m marsviz make-other-set`` (:mod:`marsviz.view.other_set`, split into halves by group), and the
  sample images shipped with scikit-image (:data:`OTHER_IMAGES`).
* **surface panoramas**: rover panoramas are frames of one camera on one sol set side by side; up to
  :data:`PANORAMA_FRAMES` ``ground`` and ``horizon`` frames of one camera and sol are joined so (on the sols they
  belong to, early or later), since the labeled frames are all single frames and a panorama's width alone must
  not say "not Mars".

Two fits, one per half of the orbital and other images (each also fitted on the earlier sols), score the
other half and the later sols; the shipped model is then fitted on everything.  Each class is its own output
(every Curiosity label, ``orbital``, ``other``); training also sees a grayscale copy of every colour rover
frame, so that grayscale cameras (Navcam, Hazcam, MER Pancam filters) are not judged by colour alone, and a
copy of every image at half its size (:data:`HALF`), so that a smaller image of the same thing (an orbital crop
at half the resolution, a rover thumbnail) gets the same view.  The evaluation rates the held-out images at
that size too.  Every single rover frame is also seen as :data:`ROVER_COPIES` jittered copies
(:func:`jittered_frame`: zoomed in, mirrored, MAHLI frames turned, exposure and colour changed), since the
labeled terrain close-ups show few places (the training drill holes are one hole seen 36 times); and every
HiRISE crop also at :data:`DOUBLE` its size, as an enlarged crop or a finer product reaches the app.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from marsviz.errors import LabelsError
from marsviz.evaluate import roc_auc, source_image_id
from marsviz.runner import LocalRunner
from marsviz.train import (HIDDEN_UNITS, TRAINING_SETTINGS, fit_network_head, reliability, require_sklearn,
                           rescaled, resized, standardisation, trained_models_folder, training_environment,
                           training_pixels, write_atomic)
from marsviz.view.descriptors import view_inputs
from marsviz.view.model import SHIPPED_VIEW_MODEL, VIEWS, ViewModel

#: Curiosity labels that show terrain or sky (view ``surface``); the rest are rover hardware.
TERRAIN_LABELS = ("ground", "horizon", "drill_holes")
#: scikit-image's sample images that are not Mars: the ``other`` view's training and test images.
OTHER_IMAGES = ("astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins", "colorwheel",
                "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon", "page",
                "retina", "rocket", "text")
#: Weight decay of the networks (per row), fixed.  Of 0.3, 1, 3, 10 and 30, 1 was best on an inner split of the
#: training material alone (earlier and later halves of the train sols; halves of one orbital and other half).
ALPHA = 1.0
#: Networks fitted with seeds ``seed`` to ``seed + NETWORKS - 1`` and averaged: single networks' calls of scarce
#: classes (drill holes) swing with the seed; the mean is steadier and better calibrated.
NETWORKS = 5
#: Frames of one camera and sol joined into a panorama (at least 3; the labeled frames' own order).
PANORAMA_FRAMES = 5
#: Factor of the smaller copy of every image that training sees and the evaluation rates (the terrain
#: scores' smaller scale, :data:`marsviz.train.SCALES`); larger images need no copy, since the view is
#: classified on a reduced frame (:mod:`marsviz.view.descriptors`).
HALF = 0.5
#: Jittered copies of every single rover frame training sees (:func:`jittered_frame`): with 2, which draw of
#: copies a model got moved its later-sol drill-hole calls by several points; 6 average that out.
ROVER_COPIES = 6
#: Factor of the enlarged copy of every HiRISE crop training sees.
DOUBLE = 2.0
#: The rover camera whose frames have no fixed "up" (MAHLI, on the arm): its jittered copies are also turned.
ARM_CAMERA = "MH"
#: Orbital products assembled per source image (see :func:`orbital_product`).
PRODUCT_VARIANTS = ("mosaic", "strip", "colour")
#: Relative mean colour (R, G, B) of the Curiosity ``ground`` frames of the training sols (first 200 colour
#: frames, measured once): the tint of the colour product copies, so that colour alone never says "not orbital".
MARS_TINT = (1.0, 0.73, 0.56)


def orbital_product(crops: Sequence[np.ndarray], variant: str, rng: np.random.Generator) -> np.ndarray:
    """An orbital product as the app receives one, assembled from grayscale crops of one source image.

    Parameters
    ----------
    crops : sequence of ndarray
        float (H, W) crops of the same size, in [0, 1].
    variant : {"mosaic", "strip", "colour"}
        ``mosaic``: the crops in a square grid, turned by 5-35 degrees on black (a map-projected product's
        no-data frame); ``strip``: up to four crops stacked, turned by 2-12 degrees on black (a projected
        image strip); ``colour``: the grid at half resolution, tinted with :data:`MARS_TINT`.
    rng : numpy.random.Generator
        Draws the turn and its sign.

    Returns
    -------
    ndarray
        float (H, W) or, for ``colour``, (H, W, 3) in [0, 1].
    """
    from skimage.transform import rotate

    if variant == "strip":
        frame = np.vstack(list(crops[:4]))
        return rotate(frame, rng.uniform(2, 12) * rng.choice([-1, 1]), resize=True, order=1, cval=0.0)
    side = max(1, int(np.sqrt(len(crops))))
    tiles = list(crops[:side * side])
    frame = np.vstack([np.hstack(tiles[row * side:(row + 1) * side]) for row in range(side)])
    if variant == "mosaic":
        return rotate(frame, rng.uniform(5, 35) * rng.choice([-1, 1]), resize=True, order=1, cval=0.0)
    if variant == "colour":
        half = frame[:frame.shape[0] // 2 * 2, :frame.shape[1] // 2 * 2]
        half = half.reshape(half.shape[0] // 2, 2, half.shape[1] // 2, 2).mean(axis=(1, 3))
        return np.clip(half[..., None] * np.asarray(MARS_TINT, dtype=np.float32), 0.0, 1.0)
    raise ValueError(f"unknown orbital product variant {variant!r}")


def _other_pixels(name: str) -> np.ndarray:
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    return image.astype(np.float32) / (255.0 if image.max() > 1 else 1.0)


def panorama(frames: Sequence[np.ndarray]) -> np.ndarray:
    """`frames` side by side at the height of the lowest, in gray if any of them is (a rover panorama's layout).

    Parameters
    ----------
    frames : sequence of ndarray
        float (H, W) or (H, W, 3) images in [0, 1].

    Returns
    -------
    ndarray
        float (H, sum of widths) or (H, W, 3).
    """
    from skimage.transform import resize

    if any(frame.ndim == 2 for frame in frames):
        frames = [frame if frame.ndim == 2 else frame.mean(axis=2) for frame in frames]
    height = min(frame.shape[0] for frame in frames)
    joined = [resize(frame, (height, max(1, round(frame.shape[1] * height / frame.shape[0]))) + frame.shape[2:],
                     order=1, anti_aliasing=True) for frame in frames]
    return np.hstack(joined).astype(np.float32)


def load_view_sets(rover: Path, orbital: Sequence[Path], other: Sequence[Path] = ()) -> pd.DataFrame:
    """One row per training image: ``path`` (or recipe), ``cls`` (fine class), ``view``, ``part``, ``group``.

    ``part`` is ``early`` or ``later`` for rover frames (the labels file's ``train`` and ``val`` splits), and
    ``half0`` or ``half1`` for orbital and other images (by a hash of the source image id or group).  An
    orbital product's path is ``product:VARIANT:`` and its crops' paths joined by ``|``; a panorama's is
    ``panorama:`` and its frames' paths joined by ``|``; a scikit-image sample's is ``skimage:NAME``.
    """
    labels_csv = Path(rover) / "labels.csv"
    try:
        frames = pd.read_csv(labels_csv, dtype={"file": str, "label": str, "split": str})
    except (OSError, ValueError) as error:
        raise LabelsError(f"cannot read rover labels {labels_csv}: {error}") from None
    if not {"file", "label", "split"} <= set(frames.columns):
        raise LabelsError(f"{labels_csv}: expected columns file,label,split(,sol)")
    rows = [{"path": str(Path(rover) / "images" / r.file), "cls": r.label,
             "view": "surface" if r.label in TERRAIN_LABELS else "hardware",
             "part": "early" if r.split == "train" else "later",
             "group": f"sol {r.sol}" if "sol" in frames.columns else r.file} for r in frames.itertuples()]
    if "sol" in frames.columns:
        terrain = frames[frames["label"].isin(["ground", "horizon"])].sort_values("file")
        for (split, sol, camera), group in terrain.groupby(["split", "sol", terrain["file"].map(_camera)]):
            names = list(group["file"])
            for start in range(0, len(names) - 2, PANORAMA_FRAMES):
                chunk = names[start:start + PANORAMA_FRAMES]
                if len(chunk) < 3:
                    break
                rows.append({"path": "panorama:" + "|".join(str(Path(rover) / "images" / n) for n in chunk),
                             "cls": "surface panorama", "view": "surface",
                             "part": "early" if split == "train" else "later", "group": f"sol {sol}"})
    by_source: dict[str, list[str]] = {}
    for folder in orbital:
        crops = pd.read_csv(Path(folder) / "labels.csv", dtype=str).drop_duplicates("file")
        for name in crops["file"]:
            source = source_image_id(name)
            path = str(Path(folder) / "images" / name)
            by_source.setdefault(source, []).append(path)
            rows.append({"path": path, "cls": "orbital", "view": "orbital", "part": _half(source), "group": source})
    for source, paths in sorted(by_source.items()):
        chosen = sorted(paths)[::max(1, len(paths) // 9)][:9]
        for variant in PRODUCT_VARIANTS:
            rows.append({"path": f"product:{variant}:" + "|".join(chosen), "cls": f"orbital {variant}",
                         "view": "orbital", "part": _half(source), "group": source})
    for folder in other:
        try:
            images = pd.read_csv(Path(folder) / "labels.csv", dtype=str)
        except (OSError, ValueError) as error:
            raise LabelsError(f"cannot read other-set labels in {folder}: {error}") from None
        if not {"file", "group", "kind"} <= set(images.columns):
            raise LabelsError(f"{Path(folder) / 'labels.csv'}: expected columns file,group,kind")
        for r in images.itertuples():
            rows.append({"path": str(Path(folder) / "images" / r.file), "cls": f"other {r.kind}", "view": "other",
                         "part": _half(r.group), "group": r.group})
    for name in OTHER_IMAGES:
        rows.append({"path": f"skimage:{name}", "cls": "other photograph", "view": "other", "part": _half(name),
                     "group": name})
    table = pd.DataFrame(rows)
    if table["path"].duplicated().any():
        raise LabelsError(f"{table['path'][table['path'].duplicated()].iloc[0]} is listed twice")
    return table


def jittered_frame(frame: np.ndarray, rng: np.random.Generator, turn: bool = False) -> np.ndarray:
    """A copy of a rover frame as another place, pose or exposure might show it.

    A random crop of 50% to 100% of each side enlarged back to the frame's size (Lanczos), mirrored left to
    right half of the time, turned by a multiple of 90 degrees when `turn` (a camera with no fixed "up"), then a
    gamma of 0.6 to 1.6, a gain of 0.8 to 1.25 and a gain of 0.9 to 1.1 per colour channel.

    Parameters
    ----------
    frame : ndarray
        float (H, W, 3) in [0, 1].
    rng : numpy.random.Generator
        Draws every choice.
    turn : bool, optional
        Also turn the copy.

    Returns
    -------
    ndarray
        float32 (H, W, 3), or (W, H, 3) when turned by 90 or 270 degrees, in [0, 1].

    Examples
    --------
    >>> jittered_frame(np.full((60, 80, 3), 0.5, np.float32), np.random.default_rng(0)).shape
    (60, 80, 3)
    """
    height, width = frame.shape[:2]
    side = rng.uniform(0.5, 1.0)
    crop_height, crop_width = max(8, round(height * side)), max(8, round(width * side))
    top, left = rng.integers(0, height - crop_height + 1), rng.integers(0, width - crop_width + 1)
    copy = resized(frame[top:top + crop_height, left:left + crop_width], (height, width))
    if rng.random() < 0.5:
        copy = copy[:, ::-1]
    if turn:
        copy = np.rot90(copy, rng.integers(0, 4))
    copy = copy ** rng.uniform(0.6, 1.6) * rng.uniform(0.8, 1.25)
    copy = copy * rng.uniform(0.9, 1.1, size=3)
    return np.ascontiguousarray(np.clip(copy, 0.0, 1.0), dtype=np.float32)


def _camera(file_name: str) -> str:
    """The camera of a Curiosity frame from its file name (the sol's 4 digits, then ``ML``, ``MR`` or ``MH``)."""
    return file_name[4:6]


def _half(key: str) -> str:
    return f"half{zlib.crc32(key.encode()) % 2}"


def _pixels(path: str) -> np.ndarray:
    if path.startswith("skimage:"):
        return _other_pixels(path.split(":", 1)[1])
    if path.startswith("panorama:"):
        return panorama([training_pixels(frame) for frame in path.split(":", 1)[1].split("|")])
    if path.startswith("product:"):
        _, variant, crops = path.split(":", 2)
        tiles = [training_pixels(crop) for crop in crops.split("|")]
        tiles = [t if t.ndim == 2 else t.mean(axis=2) for t in tiles]
        side = min(min(t.shape) for t in tiles)
        tiles = [t[:side, :side] for t in tiles]
        rng = np.random.default_rng(zlib.crc32(path.encode()))
        return orbital_product(tiles, variant, rng).astype(np.float32)
    return training_pixels(path)


def _describe(item: tuple[str, str, int]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    path, copies, seed = item
    pixels = _pixels(path)
    gray = view_inputs(pixels.mean(axis=2)) if pixels.ndim == 3 else None
    extra = []
    if copies == "double":
        extra = [view_inputs(rescaled(pixels, DOUBLE))]
    elif copies == "jittered":
        name = Path(path).name
        frame = pixels if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=2)
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        extra = [view_inputs(jittered_frame(frame, rng, _camera(name) == ARM_CAMERA)) for _ in range(ROVER_COPIES)]
    colour = view_inputs(pixels)
    return colour, gray, view_inputs(rescaled(pixels, HALF)), np.array(extra).reshape(len(extra), len(colour))


def _copies(row) -> str:
    if row.cls == "orbital":
        return "double"
    if row.view in ("surface", "hardware") and not row.path.startswith("panorama:"):
        return "jittered"
    return ""


def describe_views(table: pd.DataFrame, workers: int = 1, progress: Callable[[int, int], None] | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """View inputs of every image, of its grayscale copy (the image's own where it is grayscale), of its copy
    at :data:`HALF` its size, and of its extra copies: (K, D) per image, :data:`ROVER_COPIES` jittered copies of
    a single rover frame (seeded by `seed` and the file's name), one copy of a HiRISE crop at :data:`DOUBLE` its
    size, none of the rest."""
    out = []
    items = [(row.path, _copies(row), seed) for row in table.itertuples()]
    for done, (_, result) in enumerate(LocalRunner(workers).map(_describe, items), start=1):
        out.append(result)
        if progress:
            progress(done, len(table))
    colour = np.stack([d for d, _, _, _ in out])
    gray = np.stack([d if g is None else g for d, g, _, _ in out])
    half = np.stack([h for _, _, h, _ in out])
    return colour, gray, half, [e for _, _, _, e in out]


def fit_view_model(colour: np.ndarray, gray: np.ndarray, half: np.ndarray, extra: Sequence[np.ndarray],
                   table: pd.DataFrame, rows: np.ndarray, seed: int = 0, metadata: dict | None = None) -> ViewModel:
    """Fit :data:`NETWORKS` networks on the images of `rows` (bool), the grayscale copies of their rover frames,
    the half-size copies of them all and their extra copies (:func:`describe_views`)."""
    rover = rows & table["view"].isin(["surface", "hardware"]).to_numpy()
    chosen = np.flatnonzero(rows)
    x = np.vstack([colour[rows], gray[rover], half[rows]] + [extra[i] for i in chosen])
    cls = table["cls"].to_numpy()
    copies = np.repeat(cls[chosen], [len(extra[i]) for i in chosen])
    classes = np.concatenate([cls[rows], cls[rover], cls[rows], copies])
    mean, scale = standardisation(x)
    heads = tuple(fit_network_head((x - mean) / scale, classes, ALPHA, seed + k) for k in range(NETWORKS))
    view_of = dict(zip(table["cls"], table["view"]))
    return ViewModel(mean, scale, heads, {c: view_of[c] for c in heads[0].classes}, metadata or {})


def default_view_model_output() -> Path:
    """The view model file ``train-view`` writes when no output is named (:func:`trained_models_folder`)."""
    return trained_models_folder() / SHIPPED_VIEW_MODEL.name


def train_view(rover: Path, orbital: Sequence[Path], output: Path | None = None, seed: int = 0,
               workers: int = 1, progress: Callable[[int, int], None] | None = None,
               other: Sequence[Path] = ()) -> dict:
    """Describe, validate, fit and write the view model and its evaluation.

    Parameters
    ----------
    rover : path
        Folder with the labeled Curiosity frames (``labels.csv``, ``images/``).
    orbital : sequence of path
        Folders with labeled HiRISE crops (``labels.csv``, ``images/``).
    output : path, optional
        Model file; default ``view_model.json`` in :func:`marsviz.train.trained_models_folder` (the
        evaluation is written beside it).  The shipped model is rebuilt by naming ``marsviz/view/view_model.json``.
    seed : int, optional
        Seeds the networks (`seed` to `seed + NETWORKS - 1`).
    workers : int, optional
        Processes describing images.
    progress : callable, optional
        ``progress(done, total)`` while describing.
    other : sequence of path, optional
        Folders made by :func:`marsviz.view.other_set.make_other_set` (``labels.csv`` with ``file,group,kind``).

    Returns
    -------
    dict
        The evaluation summary.
    """
    require_sklearn()
    from threadpoolctl import threadpool_limits

    output = Path(output) if output else default_view_model_output()
    table = load_view_sets(rover, orbital, other)
    with threadpool_limits(limits=1):
        colour, gray, half, extra = describe_views(table, workers, progress, seed)
        part = table["part"].to_numpy()
        held = np.zeros((len(table), len(VIEWS)))
        held_half = np.zeros((len(table), len(VIEWS)))
        counts = np.zeros(len(table))
        for fold in ("half0", "half1"):
            model = fit_view_model(colour, gray, half, extra, table, (part == "early") | (part == fold), seed)
            test = (part == "later") | ((part != "early") & (part != fold))
            held[test] += model.view_probabilities(colour[test])
            held_half[test] += model.view_probabilities(half[test])
            counts[test] += 1
        scored = counts > 0
        held[scored] /= counts[scored, None]
        held_half[scored] /= counts[scored, None]
        summary = view_evaluation(table, held, scored, held_half)
        summary["presets"] = rover_preset_evaluation(table, held, workers, seed)
        summary["protocol"] = {
            "rover": "fit on the labels file's train sols, tested on its later val sols",
            "orbital_and_other": "two halves by source image (orbital crops and the products assembled from "
                                 "them) or group (other); each half tested by a model fitted on the other half "
                                 "and the earlier sols",
            "network": f"{NETWORKS} networks (seeds {seed} to {seed + NETWORKS - 1}), each one hidden layer of "
                       f"{HIDDEN_UNITS} ReLU units over every fine class, weight decay {ALPHA}; probabilities "
                       "averaged",
            "copies": f"a grayscale copy of every colour rover frame; every image at {HALF}x its size; "
                      f"{ROVER_COPIES} jittered copies of every single rover frame; every HiRISE crop at "
                      f"{DOUBLE}x its size",
            "seed": seed,
            "environment": training_environment(),
            "images": {view: int((table["view"] == view).sum()) for view in VIEWS}}
        metadata = {"trained_on": summary["protocol"]["images"], "seed": seed,
                    "command": "python -m marsviz train-view --rover DIR --orbital DIR [DIR ...] --other DIR"}
        final = fit_view_model(colour, gray, half, extra, table, np.ones(len(table), dtype=bool), seed, metadata)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, final.to_json())
    write_atomic(output.with_name("view_evaluation.json"), json.dumps(summary, indent=1) + "\n")
    return summary


def _measured(path: str) -> dict:
    """Every registered feature but the view model's on one image, with whether it is in colour."""
    from marsviz.registry import REGISTRY, compute_values

    pixels = training_pixels(path)
    names = [name for name, feature in REGISTRY.items() if not feature.gates]
    return {**compute_values(pixels, names, TRAINING_SETTINGS), "is_color": pixels.ndim == 3}


def rover_preset_evaluation(table: pd.DataFrame, held: np.ndarray, workers: int = 1, seed: int = 0) -> list[dict]:
    """How each composite preset ranks the later sols' terrain frames above their hardware frames.

    The frames' view and terrain-view score are the held-out ones (`held`: a model fitted on the earlier
    sols); every other feature is computed as the app computes it.  Bootstrap intervals resample sols.
    """
    from marsviz.evaluate import preset_evaluation
    from marsviz.view.feature import TERRAIN_VIEWS

    later = np.flatnonzero((table["part"] == "later").to_numpy() & ~assembled_rows(table))
    measured = LocalRunner(workers).map(_measured, list(table["path"].iloc[later]))
    frame = pd.DataFrame([values for _, values in measured])
    probabilities = held[later]
    frame["terrain_view_score"] = probabilities[:, [VIEWS.index(v) for v in TERRAIN_VIEWS]].sum(axis=1)
    frame["view"] = np.array(VIEWS)[probabilities.argmax(axis=1)]
    terrain = (table["view"].iloc[later] == "surface").to_numpy()
    return preset_evaluation({1.0: frame}, {"terrain_vs_hardware": terrain}, table["group"].iloc[later].to_numpy(),
                             seed=seed)


def view_evaluation(table: pd.DataFrame, held: np.ndarray, scored: np.ndarray,
                    held_half: np.ndarray | None = None) -> dict:
    """Rates, per true view and per rover label, of the held-out calls; terrain-vs-hardware ROC AUC; reliability.

    The views, the rover labels, the ROC AUC and the reliability count real images only; the images assembled
    for training (panoramas, orbital products) are rated per class in ``classes``, with the orbital crops and
    each kind of other image.  With `held_half`, the same images' held-out probabilities at :data:`HALF` their
    size, every rate is also given at that size (``correct_at_half``), and per view the share of images whose
    terrain-view probability reaches the composite's gate certainty (``sure_terrain``, at 1x and at half size).
    """
    from marsviz.scoring import GATE_CERTAINTY
    from marsviz.view.feature import TERRAIN_VIEWS

    truth = table["view"].to_numpy()
    calls = {"correct": np.array(VIEWS)[held.argmax(axis=1)]}
    terrain_view = {"1x": held[:, [VIEWS.index(v) for v in TERRAIN_VIEWS]].sum(axis=1)}
    if held_half is not None:
        calls["correct_at_half"] = np.array(VIEWS)[held_half.argmax(axis=1)]
        terrain_view[f"{HALF}x"] = held_half[:, [VIEWS.index(v) for v in TERRAIN_VIEWS]].sum(axis=1)
    called = calls["correct"]
    assembled = assembled_rows(table)

    def rated(chosen: np.ndarray) -> dict:
        return {key: round(float((made[chosen] == truth[chosen]).mean()), 6) if chosen.any() else None
                for key, made in calls.items()}

    rows = []
    for view in VIEWS:
        chosen = scored & ~assembled & (truth == view)
        counted = pd.Series(called[chosen]).value_counts()
        rows.append({"view": view, "n": int(chosen.sum()), **rated(chosen),
                     "called": {v: int(counted.get(v, 0)) for v in VIEWS},
                     "sure_terrain": {size: round(float((p[chosen] >= GATE_CERTAINTY).mean()), 6)
                                      if chosen.any() else None for size, p in terrain_view.items()}})
    rover = scored & ~assembled & np.isin(truth, ["surface", "hardware"])
    classes = table["cls"].to_numpy()

    def rates(among: np.ndarray, key: str) -> list[dict]:
        out = []
        for label in sorted(set(classes[among])):
            chosen = among & (classes == label)
            out.append({key: label, "view": truth[chosen][0], "n": int(chosen.sum()), **rated(chosen)})
        return out

    per_class = rates(scored & (assembled | ~np.isin(truth, ["surface", "hardware"])), "class")
    per_label = rates(rover, "label")
    terrain = truth[rover] == "surface"
    confident = held.max(axis=1)
    return {"views": rows, "rover_labels": per_label, "classes": per_class,
            "terrain_vs_hardware_auc": round(float(roc_auc(terrain, 1 - held[rover, VIEWS.index("hardware")])), 6),
            "reliability": reliability((called == truth)[scored & ~assembled], confident[scored & ~assembled])}


def assembled_rows(table: pd.DataFrame) -> np.ndarray:
    """Which rows are images assembled for training (panoramas, orbital products), not images as they came."""
    return table["path"].str.startswith(("panorama:", "product:")).to_numpy()
