"""Frame statistics shared by several features."""

from __future__ import annotations

import numpy as np

#: Step, in pixels along each axis, of the regular sample a frame's median is taken over.
MEDIAN_STEP = 2


def frame_median(values: np.ndarray) -> float:
    """Median of a 2-D map over a regular sample of every ``MEDIAN_STEP``-th pixel along each axis.

    Parameters
    ----------
    values : ndarray
        (H, W) map, such as a luminance or chroma channel.

    Returns
    -------
    float

    Notes
    -----
    A quarter of the pixels, spread evenly over the frame, gives the frame's median to well within
    the thresholds the features apply to it, at a quarter of the cost of sorting every pixel.  The
    value equals ``np.median`` of the sample; a partial sort around one pivot is several times faster than
    ``np.median``.

    Examples
    --------
    >>> frame_median(np.arange(16, dtype=np.float32).reshape(4, 4))
    5.0
    """
    sample = values[::MEDIAN_STEP, ::MEDIAN_STEP].ravel()
    middle = sample.size // 2
    ordered = np.partition(sample, middle)  # one pivot: numpy's several-pivot partition is far slower
    if sample.size % 2:
        return float(ordered[middle])
    return float(np.array([ordered[:middle].max(), ordered[middle]]).mean())
