"""A product's label on its own (as the PDS Imaging Atlas serves it beside a browse image, or cut from a stored
product): its text, and what it says.

A PDS4 label is an XML file; a PDS3 label is ODL text, in a detached ``.LBL`` file or at the start of the
product itself (an attached label, read up to its ``END`` statement).  PDS3 text is parsed with ``pvl``
(PlanetaryPy's parser of the PDS3 dialect of ODL) into the nested form :func:`~marsviz.product_label.from_odl`
reads, the same form GDAL gives for a product read whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pvl

from marsviz.errors import ProductLabelError, first_line
from marsviz.product_label import ProductInfo, from_odl, from_pds4, image_size as product_image_size
from marsviz.products import MAX_LABEL_BYTES  # read of a label file: an attached PDS3 label ends within it

#: The ODL statement ending a PDS3 label, on a line of its own.
_ODL_END = re.compile(rb"^[ \t]*END[ \t]*(?:\r?\n|\r|\Z)", re.MULTILINE)
#: How a PDS3 label starts: an ODL statement (``PDS_VERSION_ID = PDS3``, or an SFDU line ``CCSD3ZF... = SFDU_LABEL``).
_ODL_START = re.compile(rb"\s*[A-Za-z][A-Za-z0-9_:]*\s*=")
#: How a PDS4 label starts (after an XML declaration or comments): the opening tag of a Product class.
_PDS4_START = re.compile(rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<([A-Za-z_]+:)?Product_", re.DOTALL)


class _TimesAsWritten(pvl.decoder.OmniDecoder):
    """pvl's most lenient decoder, keeping times as the label writes them (as GDAL does): pvl would make a
    time without a zone UTC, and a day-of-year date a calendar date."""

    def decode_datetime(self, value: str):
        raise ValueError("kept as text")


def label_text(data: bytes) -> str:
    """The label in `data` as text: a PDS4 label's XML, or a PDS3 label's ODL up to its ``END`` statement.

    Parameters
    ----------
    data : bytes
        The label file, or the first :data:`MAX_LABEL_BYTES` of a product whose PDS3 label is attached.

    Raises
    ------
    ProductLabelError
        The bytes are neither a whole PDS4 label nor ODL text ending in ``END`` within them.

    Examples
    --------
    >>> label_text(b"PDS_VERSION_ID = PDS3\\r\\nEND\\r\\n" + bytes(range(256)))
    'PDS_VERSION_ID = PDS3\\r\\nEND\\r\\n'
    """
    if _PDS4_START.match(data[:4096]):
        if len(data) >= MAX_LABEL_BYTES:
            raise ProductLabelError(f"the PDS4 label is larger than {MAX_LABEL_BYTES // 1024} KiB")
        return data.decode("utf-8", "replace")
    if not _ODL_START.match(data[:256]):
        raise ProductLabelError("not a PDS3 or PDS4 label")
    end = _ODL_END.search(data)
    if end is None:
        raise ProductLabelError(f"the PDS3 label has no END statement in its first {len(data):,} bytes")
    return data[:end.end()].decode("latin-1")


def read_label(data: bytes, image_size: tuple[int, int] | None = None) -> ProductInfo:
    """What a PDS3 or PDS4 label says about its product, or about a reduced copy of it (a browse image):
    :func:`label_info` of :func:`label_text`.

    Parameters
    ----------
    data : bytes
        The label file, or the first :data:`MAX_LABEL_BYTES` of a product whose PDS3 label is attached.
    image_size : (int, int), optional
        As for :func:`label_info`.

    Raises
    ------
    ProductLabelError
        The bytes are neither a PDS4 label nor ODL text ending in ``END`` within them, or it cannot be parsed.

    Examples
    --------
    >>> label = b'PDS_VERSION_ID = PDS3\\r\\nPRODUCT_ID = "I0012345"\\r\\nMISSION_NAME = "MARS PATHFINDER"\\r\\n'
    >>> info = read_label(label + b"END\\r\\n" + bytes(range(256)))  # an attached label, then the samples
    >>> info.product_id, info.mission
    ('I0012345', 'MARS PATHFINDER')
    """
    return label_info(label_text(data), image_size)


def label_info(text: str, image_size: tuple[int, int] | None = None) -> ProductInfo:
    """What the text of a PDS3 or PDS4 label (:func:`label_text`) says about its product, or about a reduced
    copy of it.

    Parameters
    ----------
    text : str
        The label's text.
    image_size : (int, int), optional
        Width and height in pixels of the image the label goes with, when that is a reduced copy of the whole
        product: its metres per pixel are then the product's times the reduction.  The scale is left out when
        the label does not give the product's size, or when the image is not the whole product reduced (its
        two sides are not reduced alike, to within 2%).

    Returns
    -------
    ProductInfo
        Keys the label does not give stay empty.

    Raises
    ------
    ProductLabelError
        A PDS3 label that cannot be parsed.
    """
    if text.lstrip().startswith("<"):
        return _for_image(from_pds4(text), product_image_size(text), image_size)
    try:
        label = pvl.loads(text, decoder=_TimesAsWritten())
    except Exception as error:  # pvl raises its own errors and ValueErrors from its value decoders
        raise ProductLabelError(f"the PDS3 label cannot be parsed ({first_line(error)})") from None
    nested = _nested(label)
    return _for_image(from_odl(nested), product_image_size(nested), image_size)


def _for_image(info: ProductInfo, product_size: tuple[int | None, int | None],
               image_size: tuple[int, int] | None) -> ProductInfo:
    """`info` for an image of `image_size` showing the whole product of `product_size`, reduced."""
    if image_size is None or info.scale_m_per_px is None:
        return info
    (product_width, product_height), (width, height) = product_size, image_size
    if not (product_width and product_height and width > 0 and height > 0):
        return replace(info, scale_m_per_px=None)
    across, down = product_width / width, product_height / height
    if abs(across - down) > 0.02 * max(across, down):
        return replace(info, scale_m_per_px=None)
    return replace(info, scale_m_per_px=info.scale_m_per_px * across)


def _nested(node: Any, depth: int = 0) -> Any:
    """A parsed ODL value in GDAL's JSON form: objects and groups as dictionaries (the first of repeated
    keys), a value with a unit as ``{"value": v, "unit": u}``, sets as lists."""
    if depth > 16:
        return None
    if isinstance(node, Mapping):
        nested: dict[str, Any] = {}
        for key, value in node.items():
            nested.setdefault(str(key), _nested(value, depth + 1))
        return nested
    if isinstance(node, pvl.collections.Quantity):
        return {"value": _nested(node.value, depth + 1), "unit": str(node.units)}
    if isinstance(node, (list, tuple, set, frozenset)):
        return [_nested(value, depth + 1) for value in node]
    return node
