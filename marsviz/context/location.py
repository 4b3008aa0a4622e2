"""Where on Mars an image is, and when it was taken, from what the catalog already knows of it.

A pure mapping from an image's catalog fields (name, ids, mission, sol, time, what its label says) to its
place and season, with where each came from:

- ``label``: the centre latitude and longitude of an archive product's label;
- ``product_id``: a Mars Reconnaissance Orbiter observation id in the name or ids.  Its four-digit target
  code is the angle from the nighttime equator to the observation's centre, in tenths of a degree (0000 the
  nighttime equator, 0900 the south pole, 1800 the daytime equator, 2700 the north pole: ``TRA_000823_1720``
  is at 8 deg S), which gives the latitude; a CTX id also ends in its rounded centre (``05S146W``);
- ``rover_site``: a lander's or rover's landing site, for the missions that image only around it.

The time is the one the source or the label gives (``date_taken``; not for NASA Image and Video Library
items, whose date is the release's), else the middle of the image's sol at its landing site (``sol``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from marsviz.context import mars_time
from marsviz.product_label import place_text

#: Bumped whenever what :func:`locate` returns for the same fields changes: stored places are then redone.
LOCATION_VERSION = 1

#: Where a place can come from, in the order they are tried.
LOCATION_SOURCES = ("label", "product_id", "rover_site")

#: A Mars Reconnaissance Orbiter observation (HiRISE ``ESP_011283_2265``; CTX ``P01_001472_1747``):
#: phase, orbit, target code.
MRO_OBSERVATION = re.compile(r"(?<![A-Z0-9])(?:AEB|TRA|PSP|ESP|[A-Z]\d\d)_(\d{6})_(\d{4})(?!\d)")
#: A CTX product's rounded centre after its observation id: ``P01_001472_1747_XI_05S146W``.
CTX_CENTRE = re.compile(r"(?<![A-Z0-9])[A-Z]\d\d_\d{6}_\d{4}_X[A-Z]_(\d\d)([NS])(\d{3})([EW])(?![A-Z0-9])")

#: Landing sites (planetocentric degrees north, degrees east) of the missions that image around where they
#: landed, the time of landing (UTC), the number of the landing sol, and the pattern naming the mission
#: (case-insensitive, in the mission's or the instrument's text).  Rovers drove at most about 45 km (0.8 deg)
#: from these points.  Sites and times as published by the missions (NASA/JPL; NSSDC Master Catalog).
ROVER_SITES: tuple[tuple[str, float, float, str, int, str], ...] = (
    ("Perseverance, Jezero crater", 18.4447, 77.4508, "2021-02-18T20:55:00Z", 0,
     r"perseverance|mars ?2020|\bm2020\b"),
    ("Curiosity, Gale crater", -4.5895, 137.4417, "2012-08-06T05:17:57Z", 0,
     r"curiosity|\bmsl\b|mars science laboratory"),
    ("Spirit, Gusev crater", -14.5684, 175.4726, "2004-01-04T04:35:00Z", 1, r"spirit|\bmer-?a\b"),
    ("Opportunity, Meridiani Planum", -1.9462, 354.4734, "2004-01-25T05:05:00Z", 1, r"opportunity|\bmer-?b\b"),
    ("InSight, Elysium Planitia", 4.5024, 135.6234, "2018-11-26T19:52:59Z", 0, r"insight"),
    ("Phoenix, Vastitas Borealis", 68.2188, 234.2508, "2008-05-25T23:38:24Z", 0, r"phoenix"),
    ("Mars Pathfinder, Ares Vallis", 19.13, 326.78, "1997-07-04T16:56:55Z", 1,
     r"pathfinder|sojourner|carl sagan memorial"),
    ("Viking Lander 1, Chryse Planitia", 22.27, 312.05, "1976-07-20T11:53:06Z", 0, r"viking lander 1|\bvl-?1\b"),
    ("Viking Lander 2, Utopia Planitia", 47.67, 134.28, "1976-09-03T22:58:20Z", 0, r"viking lander 2|\bvl-?2\b"),
)
#: Sources whose ``date_taken`` is not when the image was taken (the NASA Image and Video Library gives
#: the date an item was created there, often years after the observation).
UNDATED_SOURCES = frozenset({"nasa-images"})

#: The fields :func:`locate` reads from each row.
FIELDS = ("name", "source", "source_id", "product_id", "mission", "instrument", "sol", "date_taken",
          "latitude", "longitude")
#: The columns :func:`locate` returns.
COLUMNS = ("latitude", "longitude", "location_from", "observed_at", "time_from", "solar_longitude", "mars_year")


def latitude_of_target_code(code: int) -> float | None:
    """Latitude (degrees north) of an MRO observation's target code, None for a code that is not on Mars.

    Parameters
    ----------
    code : int
        The four digits after the orbit: 0 to 3599 on Mars (tenths of a degree along the orbit from the
        nighttime equator); 9000 to 9303 are observations of other bodies, and any other code is not a place.

    Examples
    --------
    >>> latitude_of_target_code(1720), latitude_of_target_code(900), latitude_of_target_code(2265)
    (-8.0, -90.0, 46.5)
    >>> latitude_of_target_code(9101) is None
    True
    """
    if not 0 <= code < 3600:
        return None
    angle = code / 10.0
    if angle <= 90.0:
        return -angle
    if angle <= 270.0:
        return angle - 180.0
    return 360.0 - angle


def place_of_product_id(text: str) -> tuple[float | None, float | None]:
    """Latitude and longitude (degrees north, degrees east in [0, 360)) named by an MRO product id in
    `text`; (None, None) when it names none.  A HiRISE id gives only the latitude.

    Examples
    --------
    >>> place_of_product_id("ESP_011283_0945_RED-0030-r180.jpg")
    (-85.5, None)
    >>> place_of_product_id("P01_001472_1747_XI_05S146W")
    (-5.0, 214.0)
    >>> place_of_product_id("PIA13593")
    (None, None)
    """
    ctx = CTX_CENTRE.search(text or "")
    if ctx:
        degrees, north_south, longitude, east_west = ctx.groups()
        latitude = float(degrees) * (1 if north_south == "N" else -1)
        east = float(longitude) if east_west == "E" else (360.0 - float(longitude)) % 360.0
        return latitude, east
    observation = MRO_OBSERVATION.search(text or "")
    if observation:
        return latitude_of_target_code(int(observation.group(2))), None
    return None, None


_SITE_PATTERNS = [(site, re.compile(site[-1], re.IGNORECASE)) for site in ROVER_SITES]


def rover_site(mission: str, instrument: str = "") -> tuple[str, float, float, str, int, str] | None:
    """The landing site (an entry of :data:`ROVER_SITES`) of the mission named in `mission` or
    `instrument`, or None.

    Examples
    --------
    >>> rover_site("MSL Curiosity")[0], rover_site("MER Spirit")[0]
    ('Curiosity, Gale crater', 'Spirit, Gusev crater')
    >>> rover_site("Viking Orbiter") is None, rover_site("MER (Spirit/Opportunity)") is None
    (True, True)
    """
    text = f"{mission or ''} {instrument or ''}"
    found = [site for site, pattern in _SITE_PATTERNS if pattern.search(text)]
    # "MER (Spirit/Opportunity)" names two rovers: that is no one place.
    return found[0] if len(found) == 1 else None


def sol_time(sol, landed_utc: str, landing_sol: int, longitude: float) -> np.ndarray:
    """Days since J2000 (TT) at the middle of mission sol `sol` (local mean solar time at `longitude`),
    for a mission that landed at `landed_utc` on its sol `landing_sol`."""
    landed = mars_time.mars_solar_date(mars_time.days_since_j2000([landed_utc]))[0] + longitude / 360.0
    local_noon = np.floor(landed) + (np.asarray(sol, dtype=float) - landing_sol) + 0.5
    return mars_time.days_from_mars_solar_date(local_noon - longitude / 360.0)


def locate(rows: pd.DataFrame) -> pd.DataFrame:
    """Every row's place and time, with where each came from.

    Parameters
    ----------
    rows : DataFrame
        The catalog's fields :data:`FIELDS` as stored (the mission as the source spelt it; ``latitude`` and
        ``longitude`` as the label gave them, NaN where it did not).  Missing columns count as empty.

    Returns
    -------
    DataFrame
        Same index, columns :data:`COLUMNS`: ``latitude``, ``longitude`` (degrees north and east; NaN when
        unknown), ``location_from`` (one of :data:`LOCATION_SOURCES`, or ``""``), ``observed_at`` (ISO-8601 UTC
        to the second, or ``""``), ``time_from`` (``date_taken``, ``sol`` or ``""``), ``solar_longitude``
        (degrees, NaN when the time is unknown) and ``mars_year`` (float, NaN when unknown).
    """
    text = {name: _text_column(rows, name) for name in FIELDS if name not in ("sol", "latitude", "longitude")}
    latitude = _number_column(rows, "latitude")
    longitude = _number_column(rows, "longitude")
    location_from = np.where(np.isfinite(latitude), "label", "")

    named = [place_of_product_id(ids) for ids in (text["product_id"] + " " + text["source_id"] + " " + text["name"])]
    id_latitude = np.array([lat if lat is not None else np.nan for lat, _ in named], dtype=float)
    id_longitude = np.array([lon if lon is not None else np.nan for _, lon in named], dtype=float)
    use_id = (location_from == "") & np.isfinite(id_latitude)
    latitude = np.where(use_id, id_latitude, latitude)
    longitude = np.where(use_id, id_longitude, longitude)
    location_from = np.where(use_id, "product_id", location_from)

    pairs = list(zip(text["mission"], text["instrument"]))
    site_of = {pair: rover_site(*pair) for pair in set(pairs)}  # a catalog holds few missions and cameras
    sites = [site_of[pair] for pair in pairs]
    site_number = np.array([ROVER_SITES.index(s) if s else -1 for s in sites], dtype=int)
    site_latitude = np.array([s[1] if s else np.nan for s in sites])
    site_longitude = np.array([s[2] if s else np.nan for s in sites])
    use_site = (location_from == "") & np.isfinite(site_latitude)
    latitude = np.where(use_site, site_latitude, latitude)
    longitude = np.where(use_site, site_longitude, longitude)
    location_from = np.where(use_site, "rover_site", location_from)

    dated = ~text["source"].isin(UNDATED_SOURCES) & (text["date_taken"] != "")
    days = np.full(len(rows), np.nan)
    if dated.any():
        days[dated.to_numpy()] = mars_time.days_since_j2000(text["date_taken"][dated].to_numpy())
    time_from = np.where(np.isfinite(days), "date_taken", "")
    sol = _number_column(rows, "sol")
    for number in np.unique(site_number[site_number >= 0]):
        site = ROVER_SITES[number]
        at_site = (site_number == number) & (time_from == "") & np.isfinite(sol)
        if at_site.any():
            days[at_site] = sol_time(sol[at_site], site[3], site[4], site[2])
            time_from = np.where(at_site, "sol", time_from)

    known = np.isfinite(days)
    observed = mars_time.utc_from_days(days)
    return pd.DataFrame({
        "latitude": latitude, "longitude": longitude, "location_from": location_from,
        "observed_at": np.where(known, observed.strftime("%Y-%m-%dT%H:%M:%SZ").fillna(""), ""),
        "time_from": time_from,
        "solar_longitude": np.where(known, mars_time.solar_longitude(days), np.nan),
        "mars_year": np.where(known, mars_time.mars_year(days), np.nan),
    }, index=rows.index)


def _text_column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name not in rows:
        return pd.Series("", index=rows.index, dtype=object)
    return rows[name].astype(object).where(rows[name].notna(), "").astype(str)


def _number_column(rows: pd.DataFrame, name: str) -> np.ndarray:
    if name not in rows:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def describe(row) -> str:
    """One line saying where and when an image is, and where each came from, for a catalog row (a mapping
    with :data:`COLUMNS`, ``mission`` and ``instrument``; as :meth:`marsviz.catalog.Catalog.get` gives it).

    Examples
    --------
    >>> describe({"latitude": -87.0, "longitude": None, "location_from": "product_id", "observed_at": "",
    ...           "time_from": "", "solar_longitude": None, "mars_year": None})
    '87.00°S (from its MRO product id) · time not known'
    >>> describe({"latitude": -4.5895, "longitude": 137.4417, "location_from": "rover_site", "mission": "MSL",
    ...           "observed_at": "2013-02-07T00:55:24Z", "time_from": "sol", "solar_longitude": 259.7,
    ...           "mars_year": 31, "sol": 180})
    '4.59°S, 137.44°E (Curiosity, Gale crater: its landing site) ·
     Ls 259.7°, southern spring, Mars year 31 (2013-02-07, the middle of sol 180)'
    """
    def known(name: str):
        value = row.get(name)
        return None if value is None or value != value or value == "" else value

    latitude, longitude = known("latitude"), known("longitude")
    if latitude is None:
        place = "place not known"
    else:
        place = place_text(latitude, longitude)
        site = rover_site(row.get("mission") or "", row.get("instrument") or "")
        place += {"label": " (from its label)", "product_id": " (from its MRO product id)",
                  "rover_site": f" ({site[0] if site else 'a'}: its landing site)"}.get(row.get("location_from"), "")
    ls = known("solar_longitude")
    if ls is None:
        return f"{place} · time not known"
    when = f"Ls {ls:.1f}°"
    if latitude is not None:
        when += f", {mars_time.season([ls], [latitude])[0]}"
    if known("mars_year") is not None:
        when += f", Mars year {int(row['mars_year'])}"
    day = str(row.get("observed_at") or "")[:10]
    if row.get("time_from") == "sol" and known("sol") is not None:
        day += f", the middle of sol {int(row['sol'])}"
    return f"{place} · {when} ({day})"
