"""Planetary archive products: PDS3 (attached and detached labels), PDS4, VICAR, FITS and JPEG 2000 are
read with what their labels say, and hostile products are refused before a sample is read."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from marsviz.catalog import Catalog
from marsviz.decode import load_image
from marsviz.errors import ImageRejected
from marsviz.pipeline import add_file, add_paths
from marsviz.products import bundle, product_files
from marsviz.provenance import Provenance
from tests import archive_files
from tests.archive_files import pds3_attached, pds3_detached, pds4_product, terrain
from tests.test_cli import marsviz


def expected(samples: np.ndarray, top: float = 1023.0) -> np.ndarray:
    return samples.astype(np.float32) / top


def test_a_pds3_image_with_its_label_attached_reads_with_its_label():
    samples = terrain()
    decoded = load_image(pds3_attached(samples), name="ESP_011386_2065_RED.IMG")
    assert (decoded.width, decoded.height, decoded.format, decoded.extension) == (64, 48, "PDS3", ".img")
    # 16-bit samples using 10 bits are stretched so 1023 is white, as 16-bit PNGs and TIFFs are.
    np.testing.assert_allclose(decoded.pixels, expected(samples), atol=1e-6)
    assert "using 10 bits" in decoded.note
    info = decoded.info
    assert (info.mission, info.instrument, info.product_id, info.target) == (
        "MARS RECONNAISSANCE ORBITER", "HIGH RESOLUTION IMAGING SCIENCE EXPERIMENT", "ESP_011386_2065_RED", "MARS")
    assert info.start_time == "2009-01-05T12:04:56.123"
    # The bounds' middle; the longitude bounds cross 0 degrees east.
    assert (info.latitude, info.longitude, info.scale_m_per_px) == (26.5, 0.5, 0.25)
    assert (info.incidence_angle, info.emission_angle) == (53.2, 4.1)


def test_the_same_pixels_in_pds3_and_in_png_decode_alike(tmp_path):
    samples = (terrain(top=255)).astype(np.uint8)
    png = tmp_path / "frame.png"
    Image.fromarray(samples).save(png)
    from_png = load_image(png).pixels
    from_pds3 = load_image(pds3_attached(samples)).pixels
    np.testing.assert_array_equal(from_pds3, from_png)


def test_nodata_is_left_out_and_three_bands_make_a_colour_image():
    samples = np.stack([terrain(), terrain()[:, ::-1], terrain()[::-1]]) + 1  # no 0 but the NoData rows
    samples[:, :5] = 0
    decoded = load_image(pds3_attached(samples, nodata=0))
    assert decoded.is_color and decoded.pixels.shape == (48, 64, 3)
    assert decoded.pixels[:5].max() == 0.0
    assert "NoData value 0 in 960 of 9,216 samples left out" in decoded.note
    # One stretch for the three bands keeps their balance: band 2 is band 1 mirrored.
    np.testing.assert_allclose(decoded.pixels[5:, :, 1], decoded.pixels[5:, ::-1, 0], atol=1e-6)


def test_a_large_product_is_read_at_a_reduced_resolution():
    samples = np.tile(terrain(), (8, 8))  # 384 x 512
    decoded = load_image(pds3_attached(samples), max_side=128)
    assert (decoded.width, decoded.height) == (512, 384) and decoded.pixels.shape == (96, 128)


def test_a_detached_label_is_added_by_naming_either_file(tmp_path):
    label, data = pds3_detached(tmp_path / "in", terrain())
    assert product_files(label) == [label, data] and product_files(data) == [label, data]
    catalog = Catalog(tmp_path / "home")
    first = add_file(catalog, label, Provenance(source="file", name=label.name))
    second = add_file(catalog, data, Provenance(source="file", name=data.name))
    assert first.status == "added" and (second.status, second.image_id) == ("duplicate", first.image_id)
    row = catalog.get(first.image_id)
    assert row["extension"] == ".tar" and row["product_id"] == "ESP_011386_2065_RED"
    assert (row["latitude"], row["longitude"], row["scale_m_per_px"]) == (26.5, 0.5, 0.25)
    assert row["mission"] == "MARS RECONNAISSANCE ORBITER" and row["date_taken"] == "2009-01-05T12:04:56.123"
    # The stored product reads back alone (the viewer and a re-analysis read it), with both original files.
    stored = catalog.image_path(row)
    assert load_image(stored).info.product_id == "ESP_011386_2065_RED"
    assert stored.read_bytes() == bundle([label, data], label.name)


def test_a_folder_adds_a_detached_product_once_and_its_data_file_not_alone(tmp_path):
    folder = tmp_path / "in"
    pds3_detached(folder, terrain())
    pds4_product(folder, terrain(), stem="south_polar")
    Image.fromarray(terrain(top=255).astype(np.uint8)).save(folder / "plain.png")
    results = list(add_paths(Catalog(tmp_path / "home"), [folder], workers=1))
    assert sorted((r.status, r.name) for r in results) == [
        ("added", "ESP_011386_2065_RED.LBL"), ("added", "plain.png"), ("added", "south_polar.xml")]


def test_a_pds4_product_reads_with_its_label(tmp_path):
    label, _ = pds4_product(tmp_path, terrain(), offset=512)
    decoded = load_image(bundle(product_files(label), label.name))
    np.testing.assert_allclose(decoded.pixels, expected(terrain()), atol=1e-6)
    info = decoded.info
    assert (info.mission, info.spacecraft, info.instrument) == ("Mars Reconnaissance Orbiter",
                                                                "Mars Reconnaissance Orbiter", "HiRISE")
    assert info.product_id == "esp_045678_0930_red" and info.start_time == "2016-04-20T10:11:12Z"
    assert (info.latitude, info.longitude, info.scale_m_per_px) == (-87.0, 170.5, 0.5)
    assert (info.incidence_angle, info.emission_angle) == (71.5, 2.0)


def test_a_vicar_frame_reads_with_its_label():
    decoded = load_image(archive_files.vicar(terrain()), name="frame.vic")
    assert decoded.format == "VICAR" and decoded.extension == ".vic"
    np.testing.assert_allclose(decoded.pixels, expected(terrain()), atol=1e-6)
    assert decoded.info.mission == "MARS SCIENCE LABORATORY"
    assert decoded.info.product_id == "NLB_412345678EDR_F0050104NCAM00100M1"


def test_a_fits_image_reads_upright_with_its_header():
    decoded = load_image(archive_files.fits(terrain()), name="ctx.fits")
    assert decoded.format == "FITS" and (decoded.width, decoded.height) == (64, 48)
    np.testing.assert_allclose(decoded.pixels, expected(terrain()), atol=1e-6)
    assert (decoded.info.spacecraft, decoded.info.instrument, decoded.info.start_time) == (
        "MRO", "CTX", "2012-03-04T05:06:07")


def test_a_jpeg2000_file_reads_like_the_pixels_it_holds():
    samples = terrain(top=255).astype(np.uint8)
    decoded = load_image(archive_files.jpeg2000(samples), name="ESP_011386_2065_RED.JP2")
    assert decoded.format == "JPEG2000" and decoded.extension == ".jp2"
    np.testing.assert_allclose(decoded.pixels, samples / 255.0, atol=1e-6)  # Pillow writes it losslessly


def test_a_hirise_jpeg2000_file_with_its_label_beside_it_reads_as_one_product(tmp_path):
    samples = terrain(top=255).astype(np.uint8)
    label, data = archive_files.hirise_jp2_product(tmp_path, samples)
    assert product_files(data) == [label, data] and product_files(label) == [label, data]
    decoded = load_image(bundle([label, data], label.name))
    np.testing.assert_allclose(decoded.pixels, samples / 255.0, atol=1e-6)
    assert (decoded.info.product_id, decoded.info.spacecraft, decoded.info.instrument) == (
        "PSP_001330_1395_RED", "MARS RECONNAISSANCE ORBITER", "HIRISE")
    assert (decoded.info.latitude, decoded.info.scale_m_per_px) == (26.5, 0.25)


# -- hostile products: refused with a reason, before any sample is read -----------------------------------
def reason(data: bytes) -> str:
    with pytest.raises(ImageRejected) as refused:
        load_image(data, name="hostile")
    return refused.value.reason


def test_a_label_pointing_past_the_end_of_the_file_is_refused():
    product = pds3_attached(terrain())
    assert "past the end of its data" in reason(product[:-500])
    vicar = archive_files.vicar(terrain())
    assert "past the end of its data" in reason(vicar[:-1])


def test_huge_declared_dimensions_are_refused_before_reading(monkeypatch):
    product = pds3_attached(terrain()).replace(b"LINES = 48", b"LINES = 90000000")
    assert "over the" in reason(product) and "pixel limit" in reason(product)
    fits = archive_files.fits(terrain()).replace(b"NAXIS2  =                   48", b"NAXIS2  =             90000000")
    assert "pixel limit" in reason(fits)


def test_a_label_loop_is_refused(tmp_path):
    label, _ = pds3_detached(tmp_path, terrain())
    label.write_text(label.read_text().replace('"ESP_011386_2065_RED.IMG"', '"ESP_011386_2065_RED.LBL"'))
    with pytest.raises(ImageRejected, match="label loop"):
        product_files(label)
    # The same product arriving as one file (an upload) is refused too.
    from marsviz.products import bundle_bytes
    looped = bundle_bytes([(label.name, label.read_bytes()), ("OTHER.IMG", b"\0" * 6144)])
    assert "label loop" in reason(looped)


@pytest.mark.parametrize("pointer", ['"../secret.img"', '"/etc/passwd"', '"/vsicurl/http://example.org/x.img"'])
def test_a_label_naming_a_file_outside_the_product_is_refused(tmp_path, pointer):
    label, data = pds3_detached(tmp_path / "in", terrain())
    text = label.read_text().replace('"ESP_011386_2065_RED.IMG"', pointer)
    label.write_text(text)
    with pytest.raises(ImageRejected, match="outside"):
        product_files(label)
    from marsviz.products import bundle_bytes
    assert "outside the product" in reason(bundle_bytes([(label.name, text.encode()), (data.name, data.read_bytes())]))


def test_a_label_whose_data_file_is_missing_says_so(tmp_path):
    label, data = pds3_detached(tmp_path, terrain())
    data.unlink()
    with pytest.raises(ImageRejected, match="data file 'ESP_011386_2065_RED.IMG' is not beside it"):
        product_files(label)


def test_a_pds4_label_with_entities_is_not_expanded(tmp_path):
    label, _ = pds4_product(tmp_path, terrain())
    text = label.read_text().replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?>\n'
                                     '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    text = text.replace("<title>HiRISE RDR</title>", "<title>&b;</title>")
    label.write_text(text)
    try:
        decoded = load_image(bundle(product_files(label), label.name))
    except ImageRejected:
        return  # refusing it is fine too
    assert decoded.info.product_id == ""  # its label is not read


def test_a_tar_that_is_not_a_product_is_refused():
    from marsviz.products import bundle_bytes
    assert "starts with its PDS3 or PDS4 label" in reason(bundle_bytes([("a.txt", b"hello"), ("b.img", b"x")]))
    assert "each named once" in reason(bundle_bytes([("../a.lbl", b"PDS_VERSION_ID = PDS3"), ("b", b"x")]))


# -- the command line's contract -------------------------------------------------------------------------
def test_rank_json_carries_what_the_label_says(tmp_path):
    label, _ = pds3_detached(tmp_path / "in", terrain())
    home = tmp_path / "home"
    assert marsviz(home, "add", label).returncode == 0
    Image.fromarray(terrain(top=255).astype(np.uint8)).save(tmp_path / "plain.png")
    assert marsviz(home, "add", tmp_path / "plain.png").returncode == 0
    result = marsviz(home, "rank", "--format", "json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    product = rows["ESP_011386_2065_RED.LBL"]
    assert product["mission"] == "Mars Reconnaissance Orbiter" and product["instrument"] == "HiRISE"
    assert (product["product_id"], product["latitude"], product["longitude"], product["scale_m_per_px"]) == (
        "ESP_011386_2065_RED", 26.5, 0.5, 0.25)
    plain = rows["plain.png"]
    assert [plain[k] for k in ("mission", "product_id", "latitude", "longitude", "scale_m_per_px")] == [None] * 5


def test_a_label_naming_only_the_spacecraft_names_the_mission(tmp_path):
    (tmp_path / "ctx.fits").write_bytes(archive_files.fits(terrain()))  # TELESCOP = 'MRO', no mission keyword
    home = tmp_path / "home"
    assert marsviz(home, "add", tmp_path / "ctx.fits").returncode == 0
    row, = json.loads(marsviz(home, "rank", "--format", "json").stdout)
    assert (row["mission"], row["instrument"]) == ("Mars Reconnaissance Orbiter", "CTX")


def test_files_uploaded_together_make_their_products(tmp_path):
    from marsviz.products import assemble
    label, data = pds3_detached(tmp_path, terrain())
    files = [("plain.png", b"png bytes"), (data.name, data.read_bytes()), (label.name, label.read_bytes()),
             ("LONE.LBL", label.read_bytes().replace(b"ESP_011386_2065_RED.IMG", b"MISSING.IMG"))]
    made = assemble(files)
    assert [(positions, name) for positions, name, _ in made] == [([0], "plain.png"), ([2, 1], label.name),
                                                                  ([3], "LONE.LBL")]
    assert made[1][2] == bundle([label, data], label.name)  # the same file as adding it from disk
    assert made[2][2] == ("its data file 'MISSING.IMG' was not given with it: choose the label and its data "
                          "file together")


# -- the pages --------------------------------------------------------------------------------------------
def test_ranking_filters_by_latitude_and_the_viewer_says_what_the_label_says(small_catalog_home, tmp_path):
    from marsviz.context.location import place_of_product_id
    from tests.test_app import run_app
    catalog = Catalog()
    north, _ = pds3_detached(tmp_path / "north", terrain())
    south, _ = pds4_product(tmp_path / "south", terrain(), stem="south_polar")
    south_id = add_file(catalog, south, Provenance(source="file", name=south.name)).image_id
    add_file(catalog, north, Provenance(source="file", name=north.name))
    app = run_app("app_pages/ranking.py")
    assert app.slider(key="ranking_latitude").value == (-90.0, 90.0)
    app.slider(key="ranking_latitude").set_value((-90.0, -60.0)).run()
    assert not app.exception
    names = app.dataframe[0].value["name"].tolist()
    assert "south_polar.xml" in names and north.name not in names  # images of unknown place left out
    # Beside the label's place, the samples placed by their HiRISE product ids' target codes.
    assert all(place_of_product_id(n)[0] <= -60 for n in names if n != "south_polar.xml")
    assert app.query_params["lat"] == "-90..-60"
    app = run_app("app_pages/ranking.py", image=str(south_id), scale="0.4..0.6")
    assert app.dataframe[0].value["name"].tolist() == ["south_polar.xml"]
    said = [c.value.replace("\\", "") for c in app.caption if c.value.startswith("From its label")]
    assert said == ["From its label: product esp_045678_0930_red · 87.00°S, 170.50°E · 0.5 m/px · "
                    "incidence 71.5°, emission 2.0°"]  # escaped as Markdown on the page
    # The whole label, as the product holds it, under the viewer's metadata.
    assert "Product label" in [e.label for e in app.expander]
    [code] = [c.value for c in app.code if "Product_Observational" in c.value]
    assert code.strip() == south.read_text().strip()


def test_a_band_of_nodata_alone_does_not_blank_the_others():
    band = terrain(top=1000) + 1  # no 0, the NoData value; 10 bits in use
    samples = np.stack([np.zeros((48, 64), np.uint16), band, band])
    decoded = load_image(pds3_attached(samples, nodata=0))
    assert decoded.pixels.shape == (48, 64, 3) and decoded.pixels[..., 0].max() == 0.0
    np.testing.assert_allclose(decoded.pixels[..., 1], band / 1023.0, atol=1e-6)


def test_the_map_of_a_catalog_without_places_says_why_it_is_empty(tmp_path, monkeypatch):
    from marsviz.samples import load_samples_subset
    from tests.test_app import run_app
    monkeypatch.setenv("MARSVIZ_HOME", str(tmp_path))
    load_samples_subset(Catalog(tmp_path), ["global_viking_mdim_hemisphere.png", "viking_orbiter_PIA00407.jpg"])
    app = run_app("app_pages/map.py")
    assert not app.exception
    assert app.info[0].value.startswith("No image in this catalog has a known place yet")
    assert not app.get("plotly_chart")  # no empty chart, and no caption about its points
    assert not [c for c in app.caption if "have a known place" in c.value]


def _values(array) -> list:
    """A figure's array as the browser decodes it: a list, or Plotly's typed array (``dtype`` and base64 ``bdata``)."""
    import base64
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_the_map_places_rover_frames_at_their_landing_sites(small_catalog_home):
    from tests.test_app import run_app
    placed = Catalog().frame().query("location_from == 'rover_site'")
    assert len(placed) >= 4  # Curiosity, Perseverance, Spirit and Pathfinder frames of the small set
    app = run_app("app_pages/map.py")
    assert not app.exception and app.get("plotly_chart")
    assert [c.value for c in app.caption if "have a known place" in c.value][0].startswith(f"{len(placed):,} of")
    # One point per place, not a fan of a rover's frames around its landing site: larger, saying how many.
    every = Catalog().frame().dropna(subset=["latitude", "longitude"])
    per_place = every.groupby(["longitude", "latitude"]).size()
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    drawn = [(x, y, text) for trace in figure["data"]
             for x, y, text in zip(_values(trace["x"]), _values(trace["y"]), trace["hovertext"])]
    assert len(drawn) == len(per_place) < len(every)
    most = per_place.idxmax()
    at_site = [text for x, y, text in drawn if (x, y) == most]
    assert len(at_site) == 1 and f"{per_place.max():,} images here" in at_site[0]
    legend = [int(trace["name"].rsplit("(", 1)[1].rstrip(")")) for trace in figure["data"]]
    assert sum(legend) == len(every)  # the legend counts images, not points


def test_analyze_reads_again_the_labels_stored_under_older_rules(tmp_path):
    """A catalog made before the rules took the bounds' middle over a map projection's centre gets the
    image's place once `analyze` runs; images that are not archive products are not touched."""
    projection = archive_files.HIRISE_MAP.replace("MAP_PROJECTION_TYPE = EQUIRECTANGULAR",
                                                  "CENTER_LATITUDE = 15.0 <DEG>\n  CENTER_LONGITUDE = 180.0 <DEG>")
    (tmp_path / "projected.img").write_bytes(pds3_attached(terrain(), extra=projection))
    (tmp_path / "lost.img").write_bytes(pds3_attached(terrain() // 2, extra=projection))
    Image.fromarray(terrain(top=255).astype(np.uint8)).save(tmp_path / "plain.png")
    home = tmp_path / "home"
    added = marsviz(home, "add", tmp_path / "projected.img", tmp_path / "lost.img", tmp_path / "plain.png")
    assert added.returncode == 0
    catalog = Catalog(home)
    rows = catalog.frame().set_index("name")
    assert (rows.loc["projected.img", "latitude"], rows.loc["projected.img", "longitude"]) == (26.5, 0.5)
    # As the older rules stored them: the projection's centre, and no rules version.
    with catalog._write() as conn:
        conn.execute("UPDATE images SET label_rules = ''")
        conn.execute("UPDATE images SET latitude = 15.0, longitude = 180.0, place_version = '' "
                     "WHERE extension = '.img'")
    catalog.image_path(catalog.get(int(rows.loc["lost.img", "id"]))).unlink()
    old = Catalog(home).frame().set_index("name")
    assert (old.loc["projected.img", "latitude"], old.loc["projected.img", "longitude"]) == (15.0, 180.0)
    result = marsviz(home, "analyze")
    assert result.returncode == 1  # the product whose stored file is gone
    assert "the labels of 1 archive products read again" in result.stdout
    assert "lost.img" in result.stderr and "cannot read the stored file" in result.stderr
    new = Catalog(home).frame().set_index("name")
    assert (new.loc["projected.img", "latitude"], new.loc["projected.img", "longitude"]) == (26.5, 0.5)
    assert new.loc["projected.img", "location_from"] == "label"
    assert (new.loc["lost.img", "latitude"], new.loc["lost.img", "longitude"]) == (15.0, 180.0)  # kept, not lost
    assert np.isnan(new.loc["plain.png", "latitude"])
    with catalog._write() as conn:
        rules = dict(conn.execute("SELECT name, label_rules FROM images").fetchall())
    assert rules == {"projected.img": "2", "lost.img": "", "plain.png": ""}
    again = marsviz(home, "analyze")  # only the lost one is left to read, and it still cannot be
    assert "read again" not in again.stdout and "lost.img" in again.stderr


@pytest.mark.parametrize("make, expected", [
    (lambda folder: folder.joinpath("a.img").write_bytes(pds3_attached(terrain())), "PRODUCT_ID"),
    (lambda folder: folder.joinpath("v.vic").write_bytes(archive_files.vicar(terrain())), "LBLSIZE="),
    (lambda folder: folder.joinpath("f.fits").write_bytes(archive_files.fits(terrain())), "TELESCOP="),
    (lambda folder: folder.joinpath("j.jp2").write_bytes(archive_files.jpeg2000(terrain(top=255).astype(np.uint8))),
     None),
])
def test_the_label_of_a_stored_product_is_read_as_text(tmp_path, make, expected):
    from marsviz.archive import stored_label
    make(tmp_path)
    [path] = tmp_path.iterdir()
    text = stored_label(path)
    if expected is None:
        assert text == ""  # a JPEG 2000 file alone has no label
    else:
        assert expected in text and "\0" not in text
        if path.suffix == ".img":
            assert text.rstrip().endswith("END") and len(text) < len(path.read_bytes())  # the label, not the samples


def test_the_label_of_a_detached_product_is_its_first_file(tmp_path):
    from marsviz.archive import stored_label
    label, data = pds3_detached(tmp_path / "in", terrain())
    stored = tmp_path / "product.tar"
    stored.write_bytes(bundle(product_files(label), label.name))
    assert stored_label(stored) == label.read_bytes().decode("latin-1")
