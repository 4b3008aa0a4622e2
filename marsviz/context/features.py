"""Context features: what an image's place says about water and ice, whatever its pixels show.

Each is a pure, vectorised function of the centre latitude and longitude (degrees north, degrees east), with
values in [0, 1] and NaN where the place is unknown.  They are registered like the appearance features
(:mod:`marsviz.registry`), but computed when the catalog locates an image (:mod:`marsviz.context.location`),
so renaming a file never changes an appearance score, and an appearance score never sees the place.
"""

from __future__ import annotations

import numpy as np

from marsviz.features._base import Feature


def _ramp(values: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 at `start`, 1 at `full` and beyond, linear between; NaN stays NaN."""
    return np.clip((values - start) / (full - start), 0.0, 1.0)


def south_polar_ice_region(latitude, longitude=None) -> np.ndarray:
    """How far inside the south polar seasonal CO2-ice region a place is: 0 north of 65 deg S, 1 south of
    75 deg S, linear between.

    Parameters
    ----------
    latitude : array-like of float
        Planetocentric degrees north, NaN where unknown.
    longitude : array-like of float, optional
        Not used: the region is a band of latitude.

    Returns
    -------
    ndarray
        Values in [0, 1]; NaN where the latitude is unknown.

    Examples
    --------
    >>> south_polar_ice_region([-87.0, -70.0, -4.6, np.nan]).tolist()
    [1.0, 0.5, 0.0, nan]
    """
    return _ramp(-np.asarray(latitude, dtype=float), 65.0, 75.0)


def ground_ice_band(latitude, longitude=None) -> np.ndarray:
    """How far poleward a place is into the band where water ice is stable just below the surface: 0
    within 40 deg of the equator, 1 poleward of 55 deg in either hemisphere, linear between.

    Parameters
    ----------
    latitude : array-like of float
        Planetocentric degrees north, NaN where unknown.
    longitude : array-like of float, optional
        Not used: the band is one of latitude.

    Returns
    -------
    ndarray
        Values in [0, 1]; NaN where the latitude is unknown.

    Examples
    --------
    >>> ground_ice_band([68.2, -47.5, 10.0, np.nan]).tolist()
    [1.0, 0.5, 0.0, nan]
    """
    return _ramp(np.abs(np.asarray(latitude, dtype=float)), 40.0, 55.0)


_PLACE_ONLY = ("A function of the image's centre latitude alone (from its label, its MRO product id or its "
               "rover's landing site: see Where and when), not of its pixels; an image whose place is not known "
               "gets no context term. It says where ice is likely, not that this image shows it.")

CONTEXT_FEATURES = [
    Feature(
        name="south_polar_ice_region", label="South polar CO2-ice region", function=south_polar_ice_region,
        version="1", context=True, has_overlay=False,
        measures="Whether the image lies in the south polar region where seasonal CO2 ice carves its landforms: "
                 "0 north of 65°S, 1 south of 75°S, linear between.",
        method=_PLACE_ONLY,
        why="The CO2-ice landforms the ice terrain score looks for are south polar: araneiform terrain "
            "(\"spiders\") forms under the seasonal CO2 ice cap poleward of about 70°S (Piqueux et al. 2003, "
            "Hansen et al. 2010), and \"swiss cheese\" pits only on the south polar residual cap near 87°S "
            "(Thomas et al. 2000). Every ice terrain crop of the training sets lies south of 72°S.",
        limits="A place, not a sight: every image of the region gets it, frost-free dunes and craters too, and "
               "an ice landform elsewhere gets none. Rover frames are placed at their landing site; a HiRISE "
               "product id gives its latitude to 0.1°, a CTX id to 1°."),
    Feature(
        name="ground_ice_band", label="Ground-ice stability band", function=ground_ice_band,
        version="1", context=True, has_overlay=False,
        measures="Whether the image lies where water ice is stable just below the surface: 0 within 40° of "
                 "the equator, 1 poleward of 55° in either hemisphere, linear between.",
        method=_PLACE_ONLY,
        why="Mars Odyssey's neutron and gamma-ray maps found ice-rich ground within a metre of the surface "
            "poleward of about 50-60° in both hemispheres (Boynton et al. 2002, Feldman et al. 2002); Phoenix dug "
            "it up at 68°N, and scarps exposing clean ice lie near 55-58° (Dundas et al. 2018).",
        limits="A band of latitude: ice is patchy within it and also found nearer the equator (mid-latitude "
               "glaciers, fresh impacts at 40°). Place only, as the south polar region."),
]
