"""A product's label read on its own: PDS3 (detached, attached to its data, behind an SFDU line) and PDS4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from archive_files import pds3_attached, pds3_detached, pds4_product, terrain
from marsviz.errors import ProductLabelError
from marsviz.label_file import read_label
from marsviz.products import MAX_LABEL_BYTES

HIRISE_RDR = Path(__file__).parent / "fixtures" / "labels" / "ESP_013951_1955_RED.LBL"


def test_detached_pds3_label(tmp_path):
    label, _ = pds3_detached(tmp_path, terrain().astype(np.uint16))
    info = read_label(label.read_bytes())
    assert (info.mission, info.instrument, info.product_id) == (
        "MARS RECONNAISSANCE ORBITER", "HIGH RESOLUTION IMAGING SCIENCE EXPERIMENT", "ESP_011386_2065_RED")
    assert info.start_time == "2009-01-05T12:04:56.123"  # as written: no time zone added
    # The bounds' middle, across 0 degrees east; the scale and angles with their units.
    assert (info.latitude, info.longitude) == (26.5, 0.5)
    assert (info.scale_m_per_px, info.incidence_angle, info.emission_angle) == (0.25, 53.2, 4.1)


def test_a_real_hirise_rdr_label():
    info = read_label(HIRISE_RDR.read_bytes())
    assert (info.product_id, info.spacecraft, info.instrument, info.target) == (
        "ESP_013951_1955_RED", "MARS RECONNAISSANCE ORBITER", "HIGH RESOLUTION IMAGING SCIENCE EXPERIMENT", "MARS")
    assert info.start_time == "2009-07-18T13:54:41.485"
    # The middle of its bounds, not its map projection's centre (15°N, 180°E), which is not in the image.
    assert info.latitude == pytest.approx((15.228493633562 + 15.797211542227) / 2)
    assert info.longitude == pytest.approx((72.731756232301 + 72.899868557294) / 2)
    assert (info.scale_m_per_px, info.incidence_angle, info.emission_angle) == (0.5, 49.990076, 8.476113)


def test_the_scale_of_a_browse_image_of_a_real_hirise_rdr():
    # 19,243 x 67,395 px at 0.5 m/px; a browse image 2048 px wide is 9.4 times smaller.
    info = read_label(HIRISE_RDR.read_bytes(), image_size=(2048, 7173))
    assert info.scale_m_per_px == pytest.approx(0.5 * 19243 / 2048)


def test_attached_pds3_label_is_read_up_to_its_end_statement():
    product = pds3_attached(terrain().astype(np.uint16) * 64)  # samples hold every byte value, END among them
    assert b"\nEND\r\n" in product[:4096]
    info = read_label(product[:MAX_LABEL_BYTES])
    assert info.product_id == "ESP_011386_2065_RED" and info.scale_m_per_px == 0.25


def test_the_start_of_a_product_larger_than_the_read_is_enough():
    product = pds3_attached(np.zeros((2000, 400), np.uint16))
    assert len(product) > MAX_LABEL_BYTES
    assert read_label(product[:MAX_LABEL_BYTES]).product_id == "ESP_011386_2065_RED"


def test_sfdu_line_before_the_label():
    label = (b"CCSD3ZF0000100000001NJPL3IF0PDS200000001 = SFDU_LABEL\r\nRECORD_TYPE = FIXED_LENGTH\r\n"
             b'SPACECRAFT_NAME = "MARS PATHFINDER"\r\nPRODUCT_ID = "I1246925713P"\r\n'
             b"OBJECT = IMAGE\r\n  CENTER_LATITUDE = 19.13 <DEG>\r\nEND_OBJECT = IMAGE\r\nEND\r\n")
    info = read_label(label)
    assert (info.spacecraft, info.product_id, info.latitude) == ("MARS PATHFINDER", "I1246925713P", 19.13)


def test_pds4_label(tmp_path):
    label, _ = pds4_product(tmp_path, terrain().astype(np.uint16))
    info = read_label(label.read_bytes())
    assert (info.mission, info.instrument, info.product_id) == (
        "Mars Reconnaissance Orbiter", "HiRISE", "esp_045678_0930_red")
    assert (info.latitude, info.longitude, info.scale_m_per_px) == (-87.0, 170.5, 0.5)


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a PDS3 or PDS4 label"),
    (b"<html><body>Not found</body></html>", "not a PDS3 or PDS4 label"),
    (b"", "not a PDS3 or PDS4 label"),
    (b'PDS_VERSION_ID = PDS3\r\nPRODUCT_ID = "X"\r\n' + bytes(5000), "no END statement"),
    (b"PDS_VERSION_ID = PDS3\r\nEND_OBJECT = IMAGE\r\nEND\r\n", "cannot be parsed"),
    (b"PDS_VERSION_ID = PDS3\r\nA = (1, 2\r\nEND\r\n", "cannot be parsed"),
])
def test_what_is_not_a_readable_label_is_refused_with_a_reason(data, reason):
    with pytest.raises(ProductLabelError, match=reason):
        read_label(data)


def test_a_pds4_label_cut_at_the_read_is_refused(tmp_path):
    label, _ = pds4_product(tmp_path, terrain().astype(np.uint16))
    text = label.read_bytes()
    padded = text.replace(b"<Identification_Area>", b"<!--" + b"x" * MAX_LABEL_BYTES + b"--><Identification_Area>")
    with pytest.raises(ProductLabelError, match="larger than 1024 KiB"):
        read_label(padded[:MAX_LABEL_BYTES])


def test_deeply_nested_objects_do_not_exhaust_the_stack():
    depth = 400
    label = ("PDS_VERSION_ID = PDS3\r\n" + "".join(f"OBJECT = O{i}\r\n" for i in range(depth))
             + 'PRODUCT_ID = "DEEP"\r\n' + "".join(f"END_OBJECT = O{i}\r\n" for i in reversed(range(depth)))
             + "END\r\n").encode()
    try:
        info = read_label(label)
    except ProductLabelError:
        return  # refused with a reason is as good as read
    assert info.product_id in ("", "DEEP")


@pytest.mark.parametrize("image_size, scale", [
    ((32, 24), 0.5),    # the 64 x 48 product at half size: twice the metres per pixel
    ((64, 48), 0.25),   # the product's own size
    ((63, 48), 0.25 * 64 / 63),  # sides reduced alike to within 2% (rounded)
    ((48, 48), None),   # not the whole product reduced: no scale rather than a wrong one
    ((0, 0), None),     # the image's size is not known
])
def test_the_scale_of_a_reduced_copy_of_the_product(tmp_path, image_size, scale):
    label, _ = pds3_detached(tmp_path, terrain().astype(np.uint16))  # 64 x 48 at 0.25 m/px
    info = read_label(label.read_bytes(), image_size=image_size)
    assert info.scale_m_per_px == pytest.approx(scale) if scale else info.scale_m_per_px is None
    assert info.latitude == 26.5  # the rest is the product's


def test_the_scale_of_a_reduced_copy_of_a_pds4_product(tmp_path):
    label, _ = pds4_product(tmp_path, terrain().astype(np.uint16))  # 64 samples x 48 lines at 0.5 m/px
    assert read_label(label.read_bytes(), image_size=(16, 12)).scale_m_per_px == 2.0
    assert read_label(label.read_bytes(), image_size=(12, 16)).scale_m_per_px is None


def test_a_label_without_the_products_size_gives_no_scale_for_a_copy():
    label = b'PDS_VERSION_ID = PDS3\r\nOBJECT = IMAGE_MAP_PROJECTION\r\n  MAP_SCALE = 0.25 <METERS/PIXEL>\r\n' \
            b"END_OBJECT = IMAGE_MAP_PROJECTION\r\nEND\r\n"
    assert read_label(label).scale_m_per_px == 0.25
    assert read_label(label, image_size=(100, 100)).scale_m_per_px is None
