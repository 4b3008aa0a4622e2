"""One name per Mars mission and per camera, whichever source or hand spelled it.

Sources name missions and cameras their own way ("MSL Curiosity", "Mars Science Laboratory
(Curiosity)"; "MAST_RIGHT", "Mastcam Right (M-100), calibrated browse"), so a filter by mission or
camera would split one in several.  :func:`canonical_mission` and :func:`canonical_instrument` map
every spelling this module knows to one name; unknown names are kept as they are.  The catalog keeps
what the source said (the viewer's provenance shows it); the tables and filters use these names.
"""

from __future__ import annotations

import re

#: Canonical mission name, and the patterns (case-insensitive, matched anywhere) that name it; the
#: first entry whose pattern matches wins.
MISSIONS: tuple[tuple[str, str], ...] = (
    ("Mars 2020 (Perseverance)", r"mars[ _]?2020|perseverance|\bm2020\b"),
    ("MSL (Curiosity)", r"\bmsl\b|curiosity|mars science laboratory"),
    ("MER (Spirit, Opportunity)", r"\bmer\b|spirit|opportunity|mars exploration rover"),
    ("Mars Reconnaissance Orbiter", r"\bmro\b|mars reconnaissance orbiter"),
    ("Mars Global Surveyor", r"\bmgs\b|mars global surveyor"),
    ("Mars Odyssey", r"odyssey|\body\b"),
    ("Mars Pathfinder", r"pathfinder|\bmpf\b"),
    ("Phoenix", r"phoenix|\bphx\b"),
    ("InSight", r"insight|\bnsyt\b"),
    ("Viking", r"viking|\bvik\b"),
    ("Mars Express", r"mars express|\bmex\b"),
)
_MISSIONS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in MISSIONS]


def canonical_mission(name: str | None) -> str:
    """The one name of the mission `name` spells; `name` itself (stripped) if it is none this module knows.

    Examples
    --------
    >>> canonical_mission("MSL Curiosity"), canonical_mission("Mars Science Laboratory (Curiosity)")
    ('MSL (Curiosity)', 'MSL (Curiosity)')
    >>> canonical_mission("MER Spirit") == canonical_mission("MER (Spirit/Opportunity)")
    True
    >>> canonical_mission("  Tianwen-1 "), canonical_mission(None)
    ('Tianwen-1', '')
    """
    return _canonical(name, _MISSIONS)


def _canonical(name: str | None, vocabulary: list[tuple[str, re.Pattern]]) -> str:
    text = (name or "").strip()
    for canonical, pattern in vocabulary:
        if pattern.search(text):
            return canonical
    return text


#: Canonical instrument (camera) name and its patterns, as :data:`MISSIONS`; more specific names first
#: (Mastcam-Z before Mastcam, WATSON before SHERLOC).
INSTRUMENTS: tuple[tuple[str, str], ...] = (
    ("Mastcam-Z", r"mastcam-?z|\bmcz|\bzcam"),
    ("Mastcam", r"mastcam|\bmast_"),
    ("MAHLI", r"mahli"),
    ("Ingenuity cameras", r"\bheli_|ingenuity"),
    ("Navcam", r"navcam|\bnav_"),
    ("Hazcam", r"hazcam|\b[fr]haz|\bhaz_"),
    ("ChemCam", r"chemcam"),
    ("SuperCam", r"supercam"),
    ("WATSON", r"watson"),
    ("SHERLOC", r"sherloc"),
    ("CacheCam", r"cachecam"),
    ("SkyCam", r"skycam"),
    ("EDL cameras", r"\bedl_|\bedl\b"),
    ("MARDI", r"mardi"),
    ("HiRISE", r"hirise|high resolution imaging science"),
    ("CTX", r"\bctx\b|context camera"),
    ("CRISM", r"crism"),
    ("MOC", r"\bmoc\b|mars orbiter camera"),
    ("MOLA", r"\bmola\b"),
    ("THEMIS", r"themis"),
    ("HRSC", r"hrsc"),
    ("Pancam", r"pancam"),
    ("Microscopic Imager", r"microscopic imager"),
    ("IMP", r"\bimp\b|imager for mars pathfinder"),
    ("VIS", r"\bvis\b"),
)
_INSTRUMENTS = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in INSTRUMENTS]


def canonical_instrument(name: str | None) -> str:
    """The one name of the instrument (camera) `name` spells, as :func:`canonical_mission` for missions.

    Examples
    --------
    >>> [canonical_instrument(n) for n in ("MCZ_LEFT", "MAST_RIGHT", "NAV_LEFT_A", "FRONT_HAZCAM_LEFT_A")]
    ['Mastcam-Z', 'Mastcam', 'Navcam', 'Hazcam']
    >>> canonical_instrument("HiRISE RED browse, 227x227 landmark crop (grayscale)"), canonical_instrument("imp")
    ('HiRISE', 'IMP')
    >>> canonical_instrument("global colour mosaic")
    'global colour mosaic'
    """
    return _canonical(name, _INSTRUMENTS)
