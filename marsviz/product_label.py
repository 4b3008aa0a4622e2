"""What an archive product's label says about the image: mission, instrument, product id, where and when.

A pure mapping from a label, as its reader hands it over, to :class:`ProductInfo`: PDS3 and VICAR labels as
nested dictionaries (GDAL's JSON form: objects and property groups nest, a value with a unit is
``{"value": v, "unit": u}``), PDS4 labels as XML text, FITS headers as a mapping of cards.  Nothing here
reads a file.  Keys a label does not give stay empty (text) or None (numbers); a value that is not what
its key promises (a latitude of 123 degrees, a negative scale) is left out rather than stored.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterator, Mapping

#: Longest text kept from one label value.
MAX_TEXT = 200


@dataclass(frozen=True)
class ProductInfo:
    """What a product's label says, in the catalog's terms.

    Attributes
    ----------
    mission, spacecraft, instrument, product_id, target : str
        As the label spells them (the catalog maps missions and instruments to one name each).
    start_time : str
        ISO-8601 time the observation started.
    latitude, longitude : float or None
        Planetocentric centre in degrees; longitude east, in [0, 360).  The middle of the label's bounds,
        else the centre it gives (a map projection's centre is not the image's).
    scale_m_per_px : float or None
        Metres per pixel on the ground (map scale of a projected product, else pixel scale).
    incidence_angle, emission_angle : float or None
        Degrees, at the image centre.
    """

    mission: str = ""
    spacecraft: str = ""
    instrument: str = ""
    product_id: str = ""
    target: str = ""
    start_time: str = ""
    latitude: float | None = None
    longitude: float | None = None
    scale_m_per_px: float | None = None
    incidence_angle: float | None = None
    emission_angle: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def filled_from(self, other: "ProductInfo") -> "ProductInfo":
        """This info, with each key it leaves empty taken from `other`.

        Examples
        --------
        >>> ProductInfo(product_id="A", latitude=None).filled_from(ProductInfo(product_id="B", latitude=4.5))
        ProductInfo(mission='', spacecraft='', instrument='', product_id='A', target='', start_time='', \
latitude=4.5, longitude=None, scale_m_per_px=None, incidence_angle=None, emission_angle=None)
        """
        return ProductInfo(**{name: value if value not in ("", None) else getattr(other, name)
                              for name, value in self.as_dict().items()})


#: The version of the rules that map a label to :class:`ProductInfo`: the labels of products stored under another
#: are read again (``python -m marsviz analyze``).  2: a place from the bounds before a map projection's centre.
RULES_VERSION = "2"

#: The fields of :class:`ProductInfo`, in order.
PRODUCT_FIELDS = tuple(f.name for f in fields(ProductInfo))
#: Those holding numbers (the rest hold text).
NUMERIC_FIELDS = ("latitude", "longitude", "scale_m_per_px", "incidence_angle", "emission_angle")

#: Metres in one unit of a scale, by the unit's spelling in labels (upper case, spaces removed).
_SCALE_UNITS = {"M/PIXEL": 1.0, "METERS/PIXEL": 1.0, "METERS/PIX": 1.0, "M/PIX": 1.0, "M": 1.0, "METERS": 1.0,
                "KM/PIXEL": 1000.0, "KM/PIX": 1000.0, "KM": 1000.0, "KILOMETERS/PIXEL": 1000.0}


def place_text(latitude: float, longitude: float | None = None) -> str:
    """A centre as people read it: ``87.00°S, 170.50°E``, or the latitude alone when the longitude is unknown.

    Examples
    --------
    >>> place_text(-87.0, 170.5), place_text(46.5)
    ('87.00°S, 170.50°E', '46.50°N')
    """
    text = f"{abs(latitude):.2f}°{'S' if latitude < 0 else 'N'}"
    return text if longitude is None else f"{text}, {longitude:.2f}°E"


def summary(values: Mapping[str, Any]) -> str:
    """One line of where and how a product was taken, from a catalog row or :meth:`ProductInfo.as_dict`:
    product id, centre, scale, lighting and viewing angles; empty when the label said none of these.

    A catalog row's centre is the label's only where its ``location_from`` says ``label``
    (:mod:`marsviz.context.location`); any other centre is left out.

    Examples
    --------
    >>> summary({"product_id": "ESP_045678_0930_RED", "latitude": -87.0, "longitude": 170.5,
    ...          "scale_m_per_px": 0.5, "incidence_angle": 71.5, "emission_angle": None})
    'product ESP_045678_0930_RED · 87.00°S, 170.50°E · 0.5 m/px · incidence 71.5°'
    >>> summary({"product_id": "", "latitude": None})
    ''
    >>> summary({"latitude": -4.59, "longitude": 137.44, "location_from": "rover_site"})
    ''
    """
    def known(name: str) -> float | None:
        value = values.get(name)
        return None if value is None or value != value else float(value)

    parts = [f"product {values['product_id']}"] if values.get("product_id") else []
    latitude, longitude = known("latitude"), known("longitude")
    if latitude is not None and longitude is not None and values.get("location_from", "label") == "label":
        parts.append(place_text(latitude, longitude))
    if known("scale_m_per_px") is not None:
        parts.append(f"{known('scale_m_per_px'):.3g} m/px")
    angles = [f"{name} {known(f'{name}_angle'):.1f}°" for name in ("incidence", "emission")
              if known(f"{name}_angle") is not None]
    if angles:
        parts.append(", ".join(angles))
    return " · ".join(parts)


def from_odl(label: Mapping[str, Any]) -> ProductInfo:
    """:class:`ProductInfo` from a PDS3 or VICAR label as nested dictionaries (GDAL's ``json:PDS`` and
    ``json:VICAR`` metadata).

    Each key is looked up at the top level first, then in nested objects and groups, in label order.

    Examples
    --------
    >>> info = from_odl({"MISSION_NAME": "MARS RECONNAISSANCE ORBITER", "PRODUCT_ID": "ESP_011386_2065_RED",
    ...                  "IMAGE_MAP_PROJECTION": {"MAXIMUM_LATITUDE": {"value": 27.0, "unit": "DEG"},
    ...                                           "MINIMUM_LATITUDE": 26.0, "EASTERNMOST_LONGITUDE": 2.0,
    ...                                           "WESTERNMOST_LONGITUDE": 358.0,
    ...                                           "MAP_SCALE": {"value": 0.25, "unit": "METERS/PIXEL"}}})
    >>> info.product_id, info.latitude, info.longitude, info.scale_m_per_px
    ('ESP_011386_2065_RED', 26.5, 0.0, 0.25)
    """
    def first(*keys: str) -> Any:
        for key in keys:
            value = _find(label, key)
            if value is not None:
                return value
        return None

    # Older products count longitude westward: -x degrees west is x degrees east.
    sign = -1.0 if _text(first("POSITIVE_LONGITUDE_DIRECTION")).upper() == "WEST" else 1.0

    def east(key: str) -> float | None:
        value = _number(first(key))
        return None if value is None else sign * value

    # The bounds first: in a map projection, CENTER_LATITUDE and CENTER_LONGITUDE are the projection's centre,
    # which need not be in the image (a HiRISE RDR's label says so, and gives 15°N, 180°E for an image at 73°E).
    latitude = _middle(_number(first("MINIMUM_LATITUDE")), _number(first("MAXIMUM_LATITUDE")))
    if latitude is None:
        latitude = _number(first("CENTER_LATITUDE"))
    longitude = _longitude_middle(east("WESTERNMOST_LONGITUDE"), east("EASTERNMOST_LONGITUDE"))
    if longitude is None:
        longitude = east("CENTER_LONGITUDE")
    return _checked(mission=_text(first("MISSION_NAME")),
                    spacecraft=_text(first("SPACECRAFT_NAME", "INSTRUMENT_HOST_NAME", "INSTRUMENT_HOST_ID")),
                    instrument=_text(first("INSTRUMENT_NAME", "INSTRUMENT_ID")),
                    product_id=_text(first("PRODUCT_ID")), target=_text(first("TARGET_NAME")),
                    start_time=_text(first("START_TIME", "IMAGE_TIME")),
                    latitude=latitude, longitude=longitude,
                    scale_m_per_px=_scale(first("MAP_SCALE", "PIXEL_SCALE", "SAMPLE_RESOLUTION")),
                    incidence_angle=_number(first("INCIDENCE_ANGLE")),
                    emission_angle=_number(first("EMISSION_ANGLE")))


def _find(node: Any, key: str, depth: int = 0) -> Any:
    """The value of `key` in `node` or, depth first in label order, in the mappings nested in it (None if absent)."""
    if not isinstance(node, Mapping) or depth > 8:
        return None
    if key in node:
        return node[key]
    for child in node.values():
        found = _find(child, key, depth + 1)
        if found is not None:
            return found
    return None


#: PDS4 namespaces of the classes read here.
_PDS4 = {"pds": "http://pds.nasa.gov/pds4/pds/v1", "cart": "http://pds.nasa.gov/pds4/cart/v1",
         "geom": "http://pds.nasa.gov/pds4/geom/v1"}


def from_pds4(xml_text: str) -> ProductInfo:
    """:class:`ProductInfo` from a PDS4 XML label (Identification, Observation and Cartography areas).

    A label declaring a document type or entities is not read (PDS4 labels never need them): an empty
    :class:`ProductInfo` is returned.

    Examples
    --------
    >>> from_pds4('<Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1"><Identification_Area>'
    ...           '<logical_identifier>urn:nasa:pds:mro_hirise:rdr:esp_011386_2065_red</logical_identifier>'
    ...           '</Identification_Area></Product_Observational>').product_id
    'esp_011386_2065_red'
    """
    root = _pds4_root(xml_text)
    if root is None:
        return ProductInfo()

    def text(path: str) -> str:
        found = root.find(path, _PDS4)
        return _text(found.text) if found is not None else ""

    def number(path: str) -> float | None:
        found = root.find(path, _PDS4)
        return _number(found.text) if found is not None else None

    components = {}
    for component in root.iterfind(".//pds:Observing_System_Component", _PDS4):
        kind = (component.findtext("pds:type", "", _PDS4) or "").strip().lower()
        components.setdefault(kind, _text(component.findtext("pds:name", "", _PDS4)))
    identifier = text(".//pds:Identification_Area/pds:logical_identifier")
    bounds = ".//cart:Bounding_Coordinates/cart:"
    resolution = root.find(".//cart:pixel_resolution_x", _PDS4)
    return _checked(mission=text(".//pds:Investigation_Area/pds:name"),
                    spacecraft=components.get("host") or components.get("spacecraft", ""),
                    instrument=components.get("instrument", ""),
                    product_id=identifier.rsplit(":", 1)[-1], target=text(".//pds:Target_Identification/pds:name"),
                    start_time=text(".//pds:Time_Coordinates/pds:start_date_time"),
                    latitude=_middle(number(bounds + "south_bounding_coordinate"),
                                     number(bounds + "north_bounding_coordinate")),
                    longitude=_longitude_middle(number(bounds + "west_bounding_coordinate"),
                                                number(bounds + "east_bounding_coordinate")),
                    scale_m_per_px=None if resolution is None else _scale(
                        {"value": resolution.text, "unit": (resolution.get("unit") or "m/pixel")}),
                    incidence_angle=number(".//geom:incidence_angle"),
                    emission_angle=number(".//geom:emission_angle"))


def image_size(label: Mapping[str, Any] | str) -> tuple[int | None, int | None]:
    """Width and height in pixels of the image a label describes: a PDS3 or VICAR label's ``LINE_SAMPLES`` and
    ``LINES`` (nested, as :func:`from_odl` takes it), or a PDS4 label's (XML text) first array's ``Sample`` and
    ``Line`` axes; None for what it does not say.

    Examples
    --------
    >>> image_size({"IMAGE": {"LINES": 48, "LINE_SAMPLES": 64}})
    (64, 48)
    """
    if not isinstance(label, str):
        return _whole_number(_find(label, "LINE_SAMPLES")), _whole_number(_find(label, "LINES"))
    root = _pds4_root(label)
    axes: dict[str, int | None] = {}
    for axis in root.iterfind(".//pds:Axis_Array", _PDS4) if root is not None else ():
        name = (axis.findtext("pds:axis_name", "", _PDS4) or "").strip().lower()
        axes.setdefault(name, _whole_number(axis.findtext("pds:elements", "", _PDS4)))
    return axes.get("sample"), axes.get("line")


def _pds4_root(xml_text: str) -> ElementTree.Element | None:
    """The root element of a PDS4 label, or None for text that is not XML or that declares a document type or
    entities (PDS4 labels never need them)."""
    if re.search(r"<!(DOCTYPE|ENTITY)", xml_text, re.IGNORECASE):
        return None
    try:
        return ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        return None


def _whole_number(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def from_fits(header: Mapping[str, Any]) -> ProductInfo:
    """:class:`ProductInfo` from a FITS header: TELESCOP (spacecraft), INSTRUME, OBJECT (target), DATE-OBS,
    and where present the common planetary keywords for the centre and the scale.

    Examples
    --------
    >>> from_fits({"TELESCOP": "MRO", "INSTRUME": "HiRISE", "DATE-OBS": "2009-01-05"}).instrument
    'HiRISE'
    """
    return _checked(mission=_text(header.get("MISSION")), spacecraft=_text(header.get("TELESCOP")),
                    instrument=_text(header.get("INSTRUME")), product_id=_text(header.get("PRODID")),
                    target=_text(header.get("OBJECT")), start_time=_text(header.get("DATE-OBS")),
                    latitude=_number(header.get("CTR_LAT")), longitude=_number(header.get("CTR_LON")),
                    scale_m_per_px=_number(header.get("PIXSCALE")), incidence_angle=_number(header.get("INCIDANG")),
                    emission_angle=_number(header.get("EMISSANG")))


def _checked(**values: Any) -> ProductInfo:
    """A :class:`ProductInfo` of `values`, leaving out numbers outside their field's range."""
    ranges = {"latitude": (-90.0, 90.0), "longitude": (-360.0, 360.0), "scale_m_per_px": (1e-6, 1e6),
              "incidence_angle": (0.0, 180.0), "emission_angle": (0.0, 180.0)}
    for name, (low, high) in ranges.items():
        value = values.get(name)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            values[name] = None
    if values.get("longitude") is not None:
        values["longitude"] = values["longitude"] % 360.0
    return ProductInfo(**values)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in _flatten(value))
    if isinstance(value, Mapping):
        value = value.get("value")
    if value is None:
        return ""
    text = " ".join(str(value).split()).strip("\"' ")
    return "" if text.upper() in ("N/A", "NULL", "UNK", "UNKNOWN") else text[:MAX_TEXT]


def _flatten(values: Any) -> Iterator[Any]:
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _flatten(value)
        else:
            yield value


def _number(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = value.get("value")
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip().split()[0]) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, IndexError):
        return None
    return number if math.isfinite(number) else None


def _scale(value: Any) -> float | None:
    """Metres per pixel of a scale value with its unit (metres when the unit is not given)."""
    number = _number(value)
    unit = value.get("unit") if isinstance(value, Mapping) else None
    if number is None:
        return None
    factor = _SCALE_UNITS.get(str(unit).upper().replace(" ", "").replace("<", "").replace(">", "")) if unit else 1.0
    return None if factor is None else number * factor


def _middle(low: float | None, high: float | None) -> float | None:
    return None if low is None or high is None else (low + high) / 2.0


def _longitude_middle(west: float | None, east: float | None) -> float | None:
    """The middle of bounds from `west` to `east` going east (degrees), across 0 degrees if need be."""
    if west is None or east is None:
        return None
    span = (east - west) % 360.0
    return (west + span / 2.0) % 360.0
