"""Mars seasons from Earth times: solar longitude (Ls), Mars year and season, after Mars24.

The equations are those of the Mars24 algorithm (Allison and McEwen 2000, as corrected on NASA GISS's
"Mars24 Algorithm and Worked Examples" page), vectorised over numpy arrays.  The maintained alternative,
the ``marstime`` package, stopped in 2018 with a leap-second table that ends in 2012 and a Mars-year
function that takes one time at a time; these few lines need neither.

References
----------
Allison, M. and McEwen, M. (2000). A post-Pathfinder evaluation of areocentric solar coordinates with
improved timing recipes for Mars seasonal/diurnal climate studies. Planetary and Space Science 48, 215-235.
Piqueux, S. et al. (2015). Enumeration of Mars years and seasons since the beginning of telescopic
exploration. Icarus 251, 332-338 (Mars year 1 began on 11 April 1955).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Julian date of the J2000 epoch (2000-01-01 12:00 TT).
J2000 = 2451545.0
#: Julian date of the Unix epoch (1970-01-01 00:00 UTC).
UNIX_EPOCH_JD = 2440587.5
#: TAI - UTC in seconds from each date on (the leap seconds; none has been added since 2017).
LEAP_SECONDS = (("1972-01-01", 10), ("1972-07-01", 11), ("1973-01-01", 12), ("1974-01-01", 13),
                ("1975-01-01", 14), ("1976-01-01", 15), ("1977-01-01", 16), ("1978-01-01", 17),
                ("1979-01-01", 18), ("1980-01-01", 19), ("1981-07-01", 20), ("1982-07-01", 21),
                ("1983-07-01", 22), ("1985-07-01", 23), ("1988-01-01", 24), ("1990-01-01", 25),
                ("1991-01-01", 26), ("1992-07-01", 27), ("1993-07-01", 28), ("1994-07-01", 29),
                ("1996-01-01", 30), ("1997-07-01", 31), ("1999-01-01", 32), ("2006-01-01", 33),
                ("2009-01-01", 34), ("2012-07-01", 35), ("2015-07-01", 36), ("2017-01-01", 37))
#: TT - TAI in seconds.
TT_MINUS_TAI = 32.184
#: Amplitude (degrees), period (Julian years) and phase (degrees) of the planetary perturbations of Ls
#: (Mars24 step B-4).
_PERTURBATIONS = np.array([(0.0071, 2.2353, 49.409), (0.0057, 2.7543, 168.173), (0.0039, 1.1177, 191.837),
                           (0.0037, 15.7866, 21.736), (0.0021, 2.1354, 15.704), (0.0020, 2.4694, 95.528),
                           (0.0018, 32.8493, 49.095)])
#: Days since J2000 (TT) at which Mars year 1 began (Ls 0 on 1955-04-11).
MARS_YEAR_1_START = -16336.044
#: Mean length of a Mars year in Earth days.
MARS_YEAR_DAYS = 686.9726
#: The four seasons of the northern hemisphere, each 90 degrees of Ls from Ls 0 (the southern
#: hemisphere's are the opposite ones).
SEASONS = ("spring", "summer", "autumn", "winter")
#: Every name :func:`season` gives, in order.
SEASON_NAMES = tuple(f"{hemisphere} {name}" for hemisphere in ("northern", "southern") for name in SEASONS)


def days_since_j2000(times) -> np.ndarray:
    """Days from the J2000 epoch in Terrestrial Time, for UTC times (Mars24 steps A-1 to A-5).

    Parameters
    ----------
    times : array-like of datetime-like or str
        UTC times; anything :func:`pandas.to_datetime` reads.  Times without a zone are taken as UTC.

    Returns
    -------
    ndarray
        float days; NaN where a time could not be read.

    Examples
    --------
    >>> round(float(days_since_j2000(["2000-01-06T00:00:00Z"])[0]), 6)
    4.500743
    """
    parsed = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(times, dtype=object))), utc=True,
                            errors="coerce", format="ISO8601")
    utc_seconds = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
    starts, tai_minus_utc = _leap_table()
    position = np.clip(np.searchsorted(starts, np.nan_to_num(utc_seconds), side="right") - 1, 0, None)
    julian_tt = UNIX_EPOCH_JD + (utc_seconds + tai_minus_utc[position] + TT_MINUS_TAI) / 86400.0
    return julian_tt - J2000


def solar_longitude(days) -> np.ndarray:
    """Areocentric solar longitude Ls in degrees, [0, 360), at `days` since J2000 (TT) (Mars24 step B).

    Ls 0 is the northern spring equinox, 90 the northern summer solstice, 180 the northern autumn
    equinox, 270 the northern winter solstice.

    Examples
    --------
    Mars24's worked example A, 2000-01-06 00:00 UTC:

    >>> round(float(solar_longitude(days_since_j2000(["2000-01-06"]))[0]), 4)
    277.1876
    """
    days = np.asarray(days, dtype=float)
    mean_anomaly = np.radians(19.3871 + 0.52402073 * days)
    fictitious_mean_sun = 270.3871 + 0.524038496 * days
    amplitude, period, phase = _PERTURBATIONS.T
    perturbation = (amplitude * np.cos(np.radians(0.985626 * days[..., None] / period + phase))).sum(axis=-1)
    centre = ((10.691 + 3.0e-7 * days) * np.sin(mean_anomaly) + 0.623 * np.sin(2 * mean_anomaly)
              + 0.050 * np.sin(3 * mean_anomaly) + 0.005 * np.sin(4 * mean_anomaly)
              + 0.0005 * np.sin(5 * mean_anomaly) + perturbation)
    return np.mod(fictitious_mean_sun + centre, 360.0)


def mars_year(days) -> np.ndarray:
    """The Mars year (Piqueux et al. 2015: year 1 began at Ls 0 on 1955-04-11) at `days` since J2000 (TT).

    Returns
    -------
    ndarray
        float years (whole numbers), NaN where `days` is NaN.

    Examples
    --------
    >>> mars_year(days_since_j2000(["2021-02-06", "2021-02-08"])).tolist()
    [35.0, 36.0]
    """
    days = np.asarray(days, dtype=float)
    # The year began about Ls/360 of a year ago: rounding the count of whole years from that start is
    # exact, since Ls and mean time differ by at most a few weeks and the rounding tolerates half a year.
    since_start = days - MARS_YEAR_1_START - solar_longitude(days) / 360.0 * MARS_YEAR_DAYS
    return 1.0 + np.round(since_start / MARS_YEAR_DAYS)


def mars_solar_date(days) -> np.ndarray:
    """The Mars Sol Date (sols since 29 December 1873, at the prime meridian) at `days` since J2000 (TT)
    (Mars24 step C-2).

    Examples
    --------
    >>> round(float(mars_solar_date(days_since_j2000(["2000-01-06"]))[0]), 5)
    44795.99976
    """
    return (np.asarray(days, dtype=float) - 4.5) / 1.0274912517 + 44796.0 - 0.0009626


def days_from_mars_solar_date(sols) -> np.ndarray:
    """The inverse of :func:`mars_solar_date`: days since J2000 (TT) at Mars Sol Date `sols`."""
    return (np.asarray(sols, dtype=float) - 44796.0 + 0.0009626) * 1.0274912517 + 4.5


def utc_from_days(days) -> pd.DatetimeIndex:
    """UTC times (to the second) at `days` since J2000 (TT); NaT where `days` is NaN."""
    tt_seconds = (np.asarray(days, dtype=float) + J2000 - UNIX_EPOCH_JD) * 86400.0 - TT_MINUS_TAI
    starts, tai_minus_utc = _leap_table()
    position = np.clip(np.searchsorted(starts + tai_minus_utc, np.nan_to_num(tt_seconds), side="right") - 1, 0, None)
    return pd.to_datetime(np.round(tt_seconds - tai_minus_utc[position]), unit="s", utc=True, errors="coerce")


def _leap_table() -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds at which each TAI - UTC of :data:`LEAP_SECONDS` began, and its seconds."""
    starts = np.array([pd.Timestamp(d, tz="UTC").timestamp() for d, _ in LEAP_SECONDS])
    return starts, np.array([s for _, s in LEAP_SECONDS], dtype=float)


def season_codes(ls, latitude) -> np.ndarray:
    """Positions in :data:`SEASON_NAMES` of the seasons :func:`season` names; -1 where either is unknown."""
    ls = np.asarray(ls, dtype=float)
    latitude = np.asarray(latitude, dtype=float)
    quarter = np.floor(np.nan_to_num(np.mod(ls, 360.0)) / 90.0).astype(np.int8) % 4
    southern = latitude < 0
    # The southern hemisphere's season is two quarters on from the northern one's.
    codes = np.where(southern, 4 + (quarter + 2) % 4, quarter).astype(np.int8)
    return np.where(np.isnan(ls) | np.isnan(latitude), np.int8(-1), codes)


def season(ls, latitude) -> np.ndarray:
    """The season at solar longitude `ls` (degrees) in the hemisphere of `latitude` (degrees north).

    Returns
    -------
    ndarray of object
        ``"northern spring"`` ... ``"southern winter"`` (:data:`SEASON_NAMES`); None where either is unknown
        (NaN).  On the equator (latitude 0) the northern hemisphere's season is given.

    Examples
    --------
    >>> season([10.0, 200.0], [-85.0, 68.2]).tolist()
    ['southern autumn', 'northern autumn']
    """
    codes = season_codes(ls, latitude)
    return np.where(codes >= 0, np.array(SEASON_NAMES, dtype=object)[codes], None)
