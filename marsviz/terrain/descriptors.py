"""Texture and shape descriptors of grayscale tiles: the inputs of the trained terrain scores.

Every function here is pure: float arrays in, numbers out, inputs never modified.  The functions work on
a *stack* of equally sized tiles, shape (N, h, w), so that a whole image's tiles are described in a few
vectorised numpy calls instead of a Python loop (see :func:`tile_stack`).  The descriptor vector's order
is :data:`DESCRIPTOR_NAMES`; it must not change without retraining (``python -m marsviz train``).

Tiles are described at *half* the analysis resolution (:func:`half_resolution`): a 227 px HiRISE crop
becomes one 113 px tile.  That keeps both terrain features within their time budget, and JPEG block
noise, finer than any terrain texture of interest, averages out.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

#: Bins of the rotation-invariant uniform LBP histogram with 8 neighbours: 0-8 set bits, then non-uniform.
LBP_BINS = 10
#: Gray levels of the co-occurrence matrix (coarse, so a 56 px tile fills it well).
GLCM_LEVELS = 8
#: Orientation bins of the gradient orientation histogram (0 to 180 degrees), as in a HOG cell.
ORIENTATION_BINS = 8
#: Centre frequencies of the Gabor filter bank, in cycles per pixel of the (half-resolution) tile: wavelengths
#: of 4 to 32 tile pixels, 8 to 64 px of the analysis image.
GABOR_FREQUENCIES = (0.25, 0.125, 0.0625, 0.03125)
#: Orientations of the Gabor filter bank, evenly spaced over 180 degrees.
GABOR_ORIENTATIONS = 6
#: Half-width, in standard deviations of a filter, of the patch of the spectrum each filter keeps.
GABOR_REACH = 2.5
#: Blocks per side over which a tile's heterogeneity (an object against a background) is measured.
HETEROGENEITY_BLOCKS = 4
#: Pixels at or below this value (0-1) are no-data fill (black borders of map-projected products).
NODATA_LEVEL = 2.5 / 255
#: Smallest tile side, in pixels, for which the descriptors are defined.
MIN_TILE_SIDE = 16

_EPS = 1e-6


def _lbp_names(scale: str) -> list[str]:
    return [f"lbp_{scale}_{bits}" for bits in range(LBP_BINS - 1)] + [f"lbp_{scale}_nonuniform"]


_SCALES = {"s1": "2 px", "s2": "4 px", "s4": "8 px"}


def _gabor_wavelength(frequency: float) -> str:
    """A Gabor frequency as a wavelength in pixels of the analysis image (tiles are at half resolution)."""
    return f"{2 / frequency:.0f}px"


#: Descriptor names, in the order of :func:`describe_tiles`'s columns.
DESCRIPTOR_NAMES: list[str] = [
    "brightness_mean", "brightness_std", "brightness_p05", "brightness_p25", "brightness_p50",
    "brightness_p75", "brightness_p95", "brightness_skew", "dark_outlier_fraction", "bright_outlier_fraction",
    "log_gradient_s1", "log_gradient_s2", "log_gradient_s4", "gradient_to_contrast_s1",
    "gradient_to_contrast_s4", "orientation_coherence_s2", "orientation_entropy_s2",
    *_lbp_names("s1"), *_lbp_names("s2"), *_lbp_names("s4"),
    "glcm_contrast", "glcm_homogeneity", "glcm_energy", "glcm_correlation",
    "dark_blobs_s2", "bright_blobs_s2", "ridges_s2", "dark_blobs_s4", "bright_blobs_s4", "ridges_s4",
    "block_mean_spread", "block_contrast_spread",
    *[f"gabor_{statistic}_{_gabor_wavelength(f)}" for f in GABOR_FREQUENCIES
      for statistic in ("energy", "orientedness", "patchiness", "anisotropy")],
]

#: Short plain-language meaning of each descriptor, for the viewer's "what pushed the score" list.
DESCRIPTOR_LABELS: dict[str, str] = {
    "brightness_mean": "mean brightness",
    "brightness_std": "brightness contrast (std)",
    "brightness_p05": "brightness of the darkest 5%",
    "brightness_p25": "brightness, lower quartile",
    "brightness_p50": "median brightness",
    "brightness_p75": "brightness, upper quartile",
    "brightness_p95": "brightness of the brightest 5%",
    "brightness_skew": "brightness skew (bright tail vs dark tail)",
    "dark_outlier_fraction": "share of pixels far darker than the tile",
    "bright_outlier_fraction": "share of pixels far brighter than the tile",
    **{f"log_gradient_{s}": f"roughness at {px} (log gradient)" for s, px in _SCALES.items()},
    "gradient_to_contrast_s1": "sharpness of fine edges relative to contrast",
    "gradient_to_contrast_s4": "sharpness of coarse edges relative to contrast",
    "orientation_coherence_s2": "one dominant direction at 4 px (ripples, streaks)",
    "orientation_entropy_s2": "spread of edge directions at 4 px",
    **{f"lbp_{s}_{bits}": f"texture pattern at {px}: {bits}/8 neighbours brighter (LBP)"
       for s, px in _SCALES.items() for bits in range(LBP_BINS - 1)},
    **{f"lbp_{s}_nonuniform": f"irregular texture at {px} (non-uniform LBP)" for s, px in _SCALES.items()},
    "glcm_contrast": "co-occurrence contrast (GLCM)",
    "glcm_homogeneity": "co-occurrence homogeneity (GLCM)",
    "glcm_energy": "co-occurrence energy: uniform, repetitive (GLCM)",
    "glcm_correlation": "co-occurrence correlation: smooth gradients (GLCM)",
    **{f"dark_blobs_{s}": f"dark pits and spots at {px} (Hessian)" for s, px in _SCALES.items()},
    **{f"bright_blobs_{s}": f"bright knobs and mounds at {px} (Hessian)" for s, px in _SCALES.items()},
    **{f"ridges_{s}": f"ridges, troughs and rims at {px} (Hessian)" for s, px in _SCALES.items()},
    "block_mean_spread": "brightness differs between parts of the tile (an object on a background)",
    "block_contrast_spread": "texture differs between parts of the tile",
    **{f"gabor_energy_{_gabor_wavelength(f)}": f"texture at a {2 / f:.0f} px wavelength (Gabor energy)"
       for f in GABOR_FREQUENCIES},
    **{f"gabor_orientedness_{_gabor_wavelength(f)}": f"{2 / f:.0f} px texture locally runs one way (Gabor)"
       for f in GABOR_FREQUENCIES},
    **{f"gabor_patchiness_{_gabor_wavelength(f)}": f"{2 / f:.0f} px texture comes in patches (Gabor)"
       for f in GABOR_FREQUENCIES},
    **{f"gabor_anisotropy_{_gabor_wavelength(f)}": f"{2 / f:.0f} px texture runs one way across the tile (Gabor)"
       for f in GABOR_FREQUENCIES},
}


def _uniform_lbp_lookup() -> np.ndarray:
    """Map each 8-bit neighbour pattern to its rotation-invariant uniform code (Ojala et al. 2002)."""
    lookup = np.empty(256, dtype=np.intp)
    for pattern in range(256):
        bits = [(pattern >> k) & 1 for k in range(8)]
        transitions = sum(bits[k] != bits[(k + 1) % 8] for k in range(8))
        lookup[pattern] = sum(bits) if transitions <= 2 else LBP_BINS - 1
    return lookup


_LBP_LOOKUP = _uniform_lbp_lookup()
_LBP_MERGE = np.eye(LBP_BINS)[_LBP_LOOKUP]  # (256, LBP_BINS): raw code -> uniform bin


def half_resolution(image: np.ndarray) -> np.ndarray:
    """Average 2x2 blocks over the last two axes (an odd last row or column is dropped).

    Parameters
    ----------
    image : ndarray
        Float array (..., H, W).

    Returns
    -------
    ndarray
        float32 array (..., H // 2, W // 2).

    Examples
    --------
    >>> half_resolution(np.arange(16, dtype=np.float32).reshape(4, 4))
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    image = np.asarray(image, dtype=np.float32)
    height, width = (image.shape[-2] // 2) * 2, (image.shape[-1] // 2) * 2
    image = image[..., :height, :width]
    # Strided adds: several times faster than reshape(...).mean(axis=...).
    rows = image[..., 0::2, :] + image[..., 1::2, :]
    return (rows[..., 0::2] + rows[..., 1::2]) * np.float32(0.25)


def tile_grid(height: int, width: int, side: int) -> tuple[int, int]:
    """Rows and columns of tiles of about `side` px covering a (height, width) image.

    Each tile is ``height // rows`` by ``width // cols`` px, within a factor 1.5 of `side` (unless the image
    is smaller than one tile); the few rows and columns left over at the bottom and right are ignored.

    Examples
    --------
    >>> tile_grid(384, 512, 113)
    (3, 5)
    >>> tile_grid(113, 113, 113)
    (1, 1)
    """
    return max(1, round(height / side)), max(1, round(width / side))


def tile_stack(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Cut a 2-D image into ``rows x cols`` equal tiles, returned as an (N, h, w) stack in row-major order.

    Examples
    --------
    >>> tile_stack(np.arange(16).reshape(4, 4), 2, 2)[1]
    array([[2, 3],
           [6, 7]])
    """
    height, width = image.shape[0] // rows, image.shape[1] // cols
    cut = image[:rows * height, :cols * width].reshape(rows, height, cols, width)
    return np.ascontiguousarray(cut.transpose(0, 2, 1, 3)).reshape(rows * cols, height, width)


def untile(tiles: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The image a ``rows x cols`` stack of tiles was cut from: the inverse of :func:`tile_stack`.

    Examples
    --------
    >>> image = np.arange(24).reshape(4, 6)
    >>> bool((untile(tile_stack(image, 2, 3), 2, 3) == image).all())
    True
    """
    _, height, width = tiles.shape
    return np.ascontiguousarray(tiles.reshape(rows, cols, height, width).transpose(0, 2, 1, 3)).reshape(
        rows * height, cols * width)


def fill_nodata(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace no-data pixels (at most :data:`NODATA_LEVEL`) by their tile's mean valid brightness.

    Map-projected HiRISE products have black borders; left as they are, a black wedge reads as a strong
    dark, sharp-edged structure, and the score would learn where the crop sat in its product instead of
    what terrain it shows.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack.

    Returns
    -------
    filled : ndarray
        A new float32 stack.
    valid_fraction : ndarray
        (N,) share of each tile's pixels that hold data.
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    valid = tiles > NODATA_LEVEL
    count = valid.sum(axis=(1, 2))
    fill = np.where(count > 0, (tiles * valid).sum(axis=(1, 2)) / np.maximum(count, 1), 0.0)
    filled = np.where(valid, tiles, fill[:, None, None].astype(np.float32))
    return filled, count / valid[0].size


def terrain_tiles(half: np.ndarray, tile_side: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A luminance image at half the analysis resolution, cut into terrain tiles with their no-data filled.

    Parameters
    ----------
    half : ndarray
        (h, w) float luminance in [0, 1], at half the resolution of the image the tile side counts in.
    tile_side : int
        Side of a tile in pixels of the full-resolution image (about; the grid divides the image evenly).

    Returns
    -------
    tiles : ndarray
        (rows * cols, h, w) float32 stack, row-major, at least :data:`MIN_TILE_SIDE` px a side, its levels
        snapped to 1/1020.
    valid_fraction : ndarray
        (rows * cols,) share of each tile's pixels that hold data.
    rows, cols : int
        The tile grid.
    """
    # Snapped to the levels a 2x2 mean of 8-bit pixels can take, so float rounding (luminance of an RGB
    # frame with equal channels, say) cannot flip the ties that LBP codes compare.
    half = np.rint(np.asarray(half, dtype=np.float32) * 1020.0) / np.float32(1020.0)
    side = max(MIN_TILE_SIDE, int(tile_side) // 2)
    rows, cols = tile_grid(*half.shape, side)
    filled, valid_fraction = fill_nodata(tile_stack(half, rows, cols))
    return filled, valid_fraction, rows, cols


def network_image(half: np.ndarray, tile_side: int) -> np.ndarray:
    """What the terrain scores' pretrained network sees of an image: its terrain tiles put back together.

    Parameters
    ----------
    half : ndarray
        (h, w) float luminance in [0, 1] at half the resolution of the image (:func:`terrain_tiles`).
    tile_side : int
        Side of the tiles in pixels of the full-resolution image.

    Returns
    -------
    ndarray
        float32 (h', w'): `half` with its levels snapped and no-data filled, cut to the tile grid (the few
        rows and columns beyond it dropped).

    Examples
    --------
    >>> network_image(np.full((192, 256), 0.5, np.float32), 227).shape
    (192, 256)
    """
    filled, _, rows, cols = terrain_tiles(half, tile_side)
    return untile(filled, rows, cols)


def tile_quantiles(tiles: np.ndarray, fractions: list[float]) -> np.ndarray:
    """Quantiles of each tile's brightness, to 1/255 (the precision of an 8-bit image).

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack in [0, 1].
    fractions : list of float
        Quantiles wanted, each in [0, 1].

    Returns
    -------
    ndarray
        (N, len(fractions)): the smallest level (a multiple of 1/255) with at least that fraction of
        the tile's pixels at or below it.  A 256-bin histogram per tile instead of a sort: several
        times faster than ``np.percentile`` over a stack.

    Examples
    --------
    >>> tile_quantiles(np.linspace(0, 1, 256, dtype=np.float32).reshape(1, 16, 16), [0.5])
    array([[0.49803922]])
    """
    count = tiles.shape[0]
    levels = np.clip(tiles * 255 + 0.5, 0, 255).astype(np.intp).reshape(count, -1)
    levels += (np.arange(count) * 256)[:, None]
    cumulative = np.cumsum(np.bincount(levels.ravel(), minlength=count * 256).reshape(count, 256), axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    wanted = np.asarray(fractions)[None, :, None]
    return (cumulative[:, None, :] < wanted - 1e-9).sum(axis=2) / 255.0


def lbp_histograms(tiles: np.ndarray) -> np.ndarray:
    """Normalised histograms of rotation-invariant uniform local binary patterns, 8 neighbours at 1 px.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack, h and w at least 3.

    Returns
    -------
    ndarray
        (N, :data:`LBP_BINS`) fractions, each row summing to 1: bin ``k`` (0-8) counts uniform patterns
        with ``k`` neighbours at least as bright as the centre; the last bin counts non-uniform patterns.

    Notes
    -----
    Square 8-neighbourhood without interpolation, unlike ``skimage.feature.local_binary_pattern`` (which
    interpolates the diagonals on a circle): the same kind of code at a fraction of the cost.

    Examples
    --------
    >>> float(lbp_histograms(np.full((1, 5, 5), 0.5))[0, 8])  # flat: every neighbour ties with the centre
    1.0
    """
    count, height, width = tiles.shape
    centre = tiles[:, 1:-1, 1:-1]
    code = np.zeros(centre.shape, dtype=np.uint8)
    neighbours = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]  # circular order
    for bit, (row, col) in enumerate(neighbours):
        code |= (tiles[:, row:row + height - 2, col:col + width - 2] >= centre).view(np.uint8) << bit
    # Count the 256 raw codes per tile, then merge them into the 10 bins: cheaper than mapping every pixel.
    raw = code.reshape(count, -1).astype(np.intp) + (np.arange(count) * 256)[:, None]
    counts = np.bincount(raw.ravel(), minlength=count * 256).reshape(count, 256) @ _LBP_MERGE
    return counts / counts.sum(axis=1, keepdims=True)


def glcm_statistics(tiles: np.ndarray) -> np.ndarray:
    """Contrast, homogeneity, energy and correlation of each tile's gray-level co-occurrence matrix.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack.

    Returns
    -------
    ndarray
        (N, 4), as ``skimage.feature.graycoprops`` defines them, for the symmetric, normalised matrix of
        horizontal and vertical neighbours at 1 px (pooled), after stretching each tile's 1st-99th
        percentile range onto :data:`GLCM_LEVELS` levels so that they describe texture, not exposure.
        A flat tile gives contrast 0, homogeneity 1, energy 1 and correlation 1.
    """
    count = tiles.shape[0]
    low, high = tile_quantiles(tiles, [0.01, 0.99]).T
    span = np.maximum(high - low, _EPS)
    levels = np.clip((tiles - low[:, None, None]) / span[:, None, None] * GLCM_LEVELS, 0, GLCM_LEVELS - 1)
    levels = levels.astype(np.intp)
    size = GLCM_LEVELS * GLCM_LEVELS
    offset = (np.arange(count) * size)[:, None, None]
    horizontal = levels[:, :, :-1] * GLCM_LEVELS + levels[:, :, 1:] + offset
    vertical = levels[:, :-1, :] * GLCM_LEVELS + levels[:, 1:, :] + offset
    matrices = sum(np.bincount(pairs.ravel(), minlength=count * size) for pairs in (horizontal, vertical))
    matrices = matrices.reshape(count, GLCM_LEVELS, GLCM_LEVELS).astype(np.float64)
    matrices = matrices + matrices.transpose(0, 2, 1)
    matrices /= matrices.sum(axis=(1, 2), keepdims=True)
    i, j = np.meshgrid(np.arange(GLCM_LEVELS), np.arange(GLCM_LEVELS), indexing="ij")
    contrast = (matrices * (i - j) ** 2).sum(axis=(1, 2))
    homogeneity = (matrices / (1.0 + (i - j) ** 2)).sum(axis=(1, 2))
    energy = np.sqrt((matrices ** 2).sum(axis=(1, 2)))
    mean_i = (matrices * i).sum(axis=(1, 2))
    var_i = (matrices * (i - mean_i[:, None, None]) ** 2).sum(axis=(1, 2))
    covariance = (matrices * (i - mean_i[:, None, None]) * (j - mean_i[:, None, None])).sum(axis=(1, 2))
    correlation = np.where(var_i > 1e-12, covariance / np.maximum(var_i, 1e-12), 1.0)
    flat_tiles = (high - low) < _EPS
    result = np.stack([contrast, homogeneity, energy, correlation], axis=1)
    result[flat_tiles] = (0.0, 1.0, 1.0, 1.0)
    return result


def _gradients(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gy, gx = np.gradient(tiles, axis=(1, 2))
    return gx, gy


def orientation_statistics(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Structure-tensor coherence and gradient-orientation entropy of each tile.

    Parameters
    ----------
    gx, gy : ndarray
        (N, h, w) horizontal and vertical gradients.

    Returns
    -------
    ndarray
        (N, 2): coherence in [0, 1] (1 when all gradients share one direction, as in ripples or streaks;
        0 when isotropic), and the magnitude-weighted entropy of :data:`ORIENTATION_BINS` orientation
        bins divided by its maximum, in [0, 1] (1 when edges point every way, as in a HOG cell of
        spiders or knobby terrain).
    """
    count = gx.shape[0]
    jxx = (gx * gx).sum(axis=(1, 2))
    jyy = (gy * gy).sum(axis=(1, 2))
    jxy = (gx * gy).sum(axis=(1, 2))
    total = jxx + jyy
    coherence = np.where(total > _EPS, np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / np.maximum(total, _EPS), 0.0)
    magnitude = np.hypot(gx, gy).reshape(count, -1)
    angle = np.arctan2(gy, gx).reshape(count, -1) % np.pi
    bins = np.minimum((angle * (ORIENTATION_BINS / np.pi)).astype(np.intp), ORIENTATION_BINS - 1)
    bins += (np.arange(count) * ORIENTATION_BINS)[:, None]
    weights = np.bincount(bins.ravel(), weights=magnitude.ravel(), minlength=count * ORIENTATION_BINS)
    weights = weights.reshape(count, ORIENTATION_BINS)
    p = weights / np.maximum(weights.sum(axis=1, keepdims=True), _EPS)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1) / np.log(ORIENTATION_BINS)
    return np.stack([np.minimum(coherence, 1.0), entropy], axis=1)


def hessian_statistics(tiles: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """Dark-blob, bright-blob and ridge strength from the Hessian of each (already smoothed) tile.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack, smoothed by the block averaging that produced it.
    contrast : ndarray
        (N,) brightness scale each tile's curvature is divided by, so exposure does not count.

    Returns
    -------
    ndarray
        (N, 3): mean curvature where both Hessian eigenvalues are positive (dark pits, spots, crater
        floors), where both are negative (bright knobs, mounds), and the mean eigenvalue difference
        (elongated ridges, troughs, rims, streaks).
    """
    gx, gy = _gradients(tiles)
    dxx = np.gradient(gx, axis=2)
    dyy = np.gradient(gy, axis=1)
    dxy = np.gradient(gx, axis=1)
    half_trace = (dxx + dyy) / 2
    root = np.sqrt(((dxx - dyy) / 2) ** 2 + dxy ** 2)
    low, high = half_trace - root, half_trace + root
    dark = np.maximum(low, 0).mean(axis=(1, 2))
    bright = np.maximum(-high, 0).mean(axis=(1, 2))
    ridges = (2 * root).mean(axis=(1, 2))
    return np.stack([dark, bright, ridges], axis=1) / contrast[:, None]


def heterogeneity(tiles: np.ndarray, contrast: np.ndarray) -> np.ndarray:
    """How much brightness and contrast differ between the blocks of each tile.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack, h and w at least :data:`HETEROGENEITY_BLOCKS`.
    contrast : ndarray
        (N,) each tile's brightness standard deviation.

    Returns
    -------
    ndarray
        (N, 2): the spread of block means relative to the tile's contrast (high for one object on a
        plain background, such as a crater or a dune on bedrock), and the spread of block standard
        deviations relative to their mean (high when the texture changes within the tile).
    """
    count, height, width = tiles.shape
    n = HETEROGENEITY_BLOCKS
    cut = tiles[:, :n * (height // n), :n * (width // n)].reshape(count, n, height // n, n, width // n)
    blocks = cut.transpose(0, 1, 3, 2, 4).reshape(count, n * n, -1)
    means = blocks.mean(axis=2)
    stds = blocks.std(axis=2)
    mean_spread = means.std(axis=1) / (contrast + 0.01)
    contrast_spread = stds.std(axis=1) / (stds.mean(axis=1) + 0.01)
    return np.stack([mean_spread, contrast_spread], axis=1)


@functools.lru_cache(maxsize=128)
def _gabor_bank(height: int, width: int) -> tuple:
    """The Gabor filters for (height, width) tiles, each as the patch of the 2-D spectrum it keeps.

    Returns, per frequency of :data:`GABOR_FREQUENCIES`, ``(rows, cols, filters)``: the patch size and, per
    orientation, the spectrum rows and columns around the filter's centre and the filter's values there.
    Each filter is a Gaussian in the frequency plane (radial sigma 0.4 times its frequency, about an
    octave; angular sigma 1.2 tan(15 degrees) times it) on one side only, so its response is analytic and
    its squared modulus is the local energy.  Keeping only the patch is demodulation: the response comes
    out at baseband on a coarser grid, which carries the same energy statistics at a fraction of the cost.
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    bank = []
    for frequency in GABOR_FREQUENCIES:
        radial = 0.4 * frequency
        angular = 1.2 * frequency * np.tan(np.pi / GABOR_ORIENTATIONS / 2)
        half = GABOR_REACH * max(radial, angular)
        rows = max(8, min(height, int(np.ceil(2 * half * height))))
        cols = max(8, min(width, int(np.ceil(2 * half * width))))
        filters = []
        for k in range(GABOR_ORIENTATIONS):
            theta = k * np.pi / GABOR_ORIENTATIONS
            centre_row = int(round(frequency * np.sin(theta) * height))
            centre_col = int(round(frequency * np.cos(theta) * width))
            row_index = (centre_row + np.arange(rows) - rows // 2) % height
            col_index = (centre_col + np.arange(cols) - cols // 2) % width
            along = fx[:, col_index] * np.cos(theta) + fy[row_index] * np.sin(theta)
            across = -fx[:, col_index] * np.sin(theta) + fy[row_index] * np.cos(theta)
            gain = np.exp(-(along - frequency) ** 2 / (2 * radial ** 2) - across ** 2 / (2 * angular ** 2))
            filters.append((row_index, col_index, gain.astype(np.float32)))
        bank.append((rows, cols, filters))
    return tuple(bank)


def gabor_statistics(tiles: np.ndarray) -> np.ndarray:
    """Orientation-pooled Gabor energy statistics of each tile, at the frequencies of :data:`GABOR_FREQUENCIES`.

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack.

    Returns
    -------
    ndarray
        (N, 4 x len(:data:`GABOR_FREQUENCIES`)), per frequency: the log of the mean energy over pixels and
        :data:`GABOR_ORIENTATIONS` orientations relative to the tile's variance (how much of the texture lives
        at that scale); the mean over pixels of the strongest orientation's energy over the mean's
        (1 when each spot of texture is isotropic, higher when it runs one way, as dune crests and streaks
        do); the coefficient of variation of the energy over pixels (texture in patches, such as a crater
        or a dune field on plain ground); and the strongest orientation's share of the whole tile's energy
        over the mean's (one direction across the whole tile).  Pooling over orientations makes them
        nearly the same for a tile turned by 90 degrees or mirrored; each tile's mean is removed, and the
        energy is relative to its variance, so brightness and contrast do not count.

    Examples
    --------
    >>> rows = np.sin(np.arange(64) * 2 * np.pi * GABOR_FREQUENCIES[1])[:, None] * np.ones((1, 64))
    >>> stats = gabor_statistics(np.stack([rows, rows.T]))
    >>> int(np.argmax(stats[0, 0::4]))  # stripes at the second frequency: most energy there
    1
    >>> bool(np.allclose(stats[0], stats[1], rtol=0.05, atol=0.05))  # the same, turned 90 degrees
    True
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    count, height, width = tiles.shape
    centred = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    variance = (centred ** 2).mean(axis=(1, 2)) + 1e-6
    spectrum = scipy.fft.fft2(centred, axes=(1, 2), workers=1)
    columns = []
    for rows, cols, filters in _gabor_bank(height, width):
        patches = np.empty((count, GABOR_ORIENTATIONS, rows, cols), dtype=np.complex64)
        for k, (row_index, col_index, gain) in enumerate(filters):
            patches[:, k] = spectrum[:, row_index[:, None], col_index[None, :]] * gain
        response = scipy.fft.ifft2(patches, axes=(2, 3), workers=1)
        # The smaller inverse transform scales the response by rows x cols / (h x w); undo it.
        energy = (response.real ** 2 + response.imag ** 2) * ((rows * cols) / (height * width)) ** 2
        pooled = energy.mean(axis=1)
        strongest = energy.max(axis=1)
        tile_energy = pooled.mean(axis=(1, 2))
        orientedness = strongest.sum(axis=(1, 2)) / (pooled.sum(axis=(1, 2)) + 1e-12)
        patchiness = pooled.std(axis=(1, 2)) / (tile_energy + 1e-12)
        per_orientation = energy.mean(axis=(2, 3))
        anisotropy = per_orientation.max(axis=1) / (per_orientation.mean(axis=1) + 1e-12)
        columns += [np.log(tile_energy / variance + 1e-8), orientedness, patchiness, anisotropy]
    return np.column_stack(columns).astype(np.float64)


def describe_tiles(tiles: np.ndarray) -> np.ndarray:
    """The descriptor vectors of a stack of grayscale tiles (at half the analysis resolution).

    Parameters
    ----------
    tiles : ndarray
        (N, h, w) float stack in [0, 1], h and w at least :data:`MIN_TILE_SIDE`.  No-data pixels should
        already be filled (:func:`fill_nodata`).

    Returns
    -------
    ndarray
        (N, len(:data:`DESCRIPTOR_NAMES`)) float64, all finite.

    Raises
    ------
    ValueError
        If `tiles` is not 3-D or its tiles are smaller than :data:`MIN_TILE_SIDE`.

    Notes
    -----
    Multi-scale: brightness statistics, gradients and LBP at the tile's pixel; gradients, LBP and Hessian
    responses at 2 and 4 times it (4 and 8 px of the analysis image); orientations and GLCM at 2 times; Gabor
    energy at wavelengths of 4 to 32 tile pixels.  Brightness statistics are absolute, because HiRISE browse
    products keep bright ice bright; the rest do not depend on exposure.

    Examples
    --------
    >>> vectors = describe_tiles(np.random.default_rng(0).random((2, 64, 64)))
    >>> vectors.shape == (2, len(DESCRIPTOR_NAMES)) and bool(np.isfinite(vectors).all())
    True
    """
    tiles = np.asarray(tiles, dtype=np.float32)
    if tiles.ndim != 3 or min(tiles.shape[1:]) < MIN_TILE_SIDE:
        raise ValueError(f"expected an (N, h, w) stack of tiles at least {MIN_TILE_SIDE} px a side, "
                         f"got {tiles.shape}")
    count = tiles.shape[0]
    flat = tiles.reshape(count, -1)
    mean = flat.mean(axis=1)
    centred = flat - mean[:, None]
    squared = centred * centred
    std = np.sqrt(squared.mean(axis=1))
    percentiles = tile_quantiles(tiles, [0.05, 0.25, 0.5, 0.75, 0.95])
    skew = np.where(std > 1e-3, (squared * centred).mean(axis=1) / np.maximum(std, 1e-3) ** 3, 0.0)
    spread = np.maximum(2 * std, 0.02)[:, None].astype(np.float32)
    dark = np.count_nonzero(centred < -spread, axis=1) / flat.shape[1]
    bright = np.count_nonzero(centred > spread, axis=1) / flat.shape[1]

    quarter = half_resolution(tiles)
    eighth = half_resolution(quarter)
    grad_s1 = np.hypot(*_gradients(tiles)).mean(axis=(1, 2))
    gx, gy = _gradients(quarter)
    grad_s2 = np.hypot(gx, gy).mean(axis=(1, 2))
    grad_s4 = np.hypot(*_gradients(eighth)).mean(axis=(1, 2))
    contrast = std + 0.01

    columns = [
        mean[:, None], std[:, None], percentiles, np.clip(skew, -10, 10)[:, None], dark[:, None], bright[:, None],
        np.log(np.stack([grad_s1, grad_s2, grad_s4], axis=1) + 1e-3),
        (grad_s1 / contrast)[:, None], (grad_s4 / contrast)[:, None],
        orientation_statistics(gx, gy),
        lbp_histograms(tiles), lbp_histograms(quarter), lbp_histograms(eighth),
        glcm_statistics(quarter),
        hessian_statistics(quarter, contrast), hessian_statistics(eighth, contrast),
        heterogeneity(quarter, std),
        gabor_statistics(tiles),
    ]
    return np.nan_to_num(np.concatenate(columns, axis=1).astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def describe(tile: np.ndarray) -> np.ndarray:
    """The descriptor vector of one 2-D tile; see :func:`describe_tiles`.

    Examples
    --------
    >>> describe(np.full((32, 32), 0.5)).shape == (len(DESCRIPTOR_NAMES),)
    True
    """
    tile = np.asarray(tile, dtype=np.float32)
    if tile.ndim != 2:
        raise ValueError(f"expected a 2-D tile, got shape {tile.shape}")
    return describe_tiles(tile[None])[0]
