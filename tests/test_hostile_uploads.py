"""Every file of the hostile corpus through each way in: ``add_bytes`` (uploads), ``python -m marsviz add``
(a real subprocess) and the Upload page (Streamlit AppTest).

An awkward but valid image must be stored under its content hash, upright and in the right colours; a
bad one must be refused with a message naming the file and the reason, and leave the catalog as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from hostile.corpus import Case, bands, blank_png, build_corpus, encode, printable, raw_png
from marsviz import decode
from marsviz.catalog import Catalog
from marsviz.pipeline import add_bytes
from marsviz.provenance import Provenance

ROOT = Path(__file__).resolve().parents[1]
CORPUS = build_corpus()
ACCEPTED = [case for case in CORPUS if case.accept]
REJECTED = [case for case in CORPUS if not case.accept]
#: Largest difference, in 0-255 levels, between a band's expected and observed mean colour (JPEG thumbnails).
COLOUR_TOLERANCE = 16


def band_means(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB (0-255) of the top and bottom quarter of `image`."""
    array = np.asarray(image.convert("RGB"), dtype=np.float64)
    quarter = max(1, array.shape[0] // 4)
    return array[:quarter].mean(axis=(0, 1)), array[-quarter:].mean(axis=(0, 1))


def assert_looks_right(case: Case, image: Image.Image) -> None:
    top, bottom = band_means(image)
    assert np.abs(top - case.top).max() <= COLOUR_TOLERANCE, (case.key, "top", top.round(), case.top)
    assert np.abs(bottom - case.bottom).max() <= COLOUR_TOLERANCE, (case.key, "bottom", bottom.round(),
                                                                     case.bottom)


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def catalog_state(catalog: Catalog) -> tuple[int, int, set[Path]]:
    return catalog.revision(), catalog.count(), files_under(catalog.home / "images") | files_under(
        catalog.home / "thumbnails")


# -- the corpus itself -------------------------------------------------------------------------------------
def test_corpus_covers_the_issue():
    keys = {case.key for case in CORPUS}
    assert len(CORPUS) >= 30
    assert {"empty", "text_named_jpg", "truncated_jpeg", "truncated_png", "png_bad_crc_idat", "png_bomb_30000",
            "gif_bomb_65535", "tiff_named_png", "eps", "pdf", "svg_with_script", "png_1x100000", "png_100000x1",
            "gray16_tiff", "cmyk_jpeg", "palette_png", "alpha_png", "exif_rotate_90_jpeg", "animated_gif",
            "over_size_limit", "name_dotdot", "name_control_chars", "name_unicode", "name_300_chars"} <= keys
    assert len({hashlib.sha256(case.data).digest() for case in CORPUS}) == len(CORPUS)
    assert len("m" * 296 + ".png") == 300 and any(len(case.name) == 300 for case in CORPUS)


# -- uploads: marsviz.pipeline.add_bytes -------------------------------------------------------------------
@pytest.fixture
def catalog(tmp_path):
    return Catalog(tmp_path / "home")


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.key)
def test_upload_of_a_bad_file_is_refused_and_changes_nothing(case, catalog):
    before = catalog_state(catalog)
    result = add_bytes(catalog, case.data, Provenance(source="upload", name=case.name))
    assert result.status == "rejected"
    assert result.name == case.name and result.image_id is None
    assert any(phrase in result.reason for phrase in case.reason), result.reason
    assert "Traceback" not in result.reason and len(result.reason) < 300
    assert catalog_state(catalog) == before
    assert not list((catalog.home / "images").rglob(".part-*"))


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.key)
def test_upload_of_an_awkward_image_is_stored_upright_in_the_right_colours(case, catalog, tmp_path):
    outside_before = files_under(tmp_path) - files_under(catalog.home)
    result = add_bytes(catalog, case.data, Provenance(source="upload", name=case.name))
    assert result.status == "added", result.reason
    row = catalog.get(result.image_id)
    sha = hashlib.sha256(case.data).hexdigest()
    assert row["sha256"] == sha and row["name"] == case.name
    assert (row["width"], row["height"]) == case.size
    assert row["extension"] == case.extension
    assert bool(row["is_color"]) == case.is_color
    stored = catalog.image_path(row)
    # Named by content only: the stranger's name appears nowhere on disk.
    assert stored == catalog.home / "images" / sha[:2] / f"{sha}{case.extension}"
    assert stored.read_bytes() == case.data
    assert files_under(catalog.home / "images") == {stored}
    assert files_under(tmp_path) - files_under(catalog.home) == outside_before
    with Image.open(catalog.thumbnail_path(row)) as thumbnail:
        assert max(thumbnail.size) <= 256
        assert_looks_right(case, thumbnail)
    pixels = decode.load_image(stored).pixels
    assert_looks_right(case, Image.fromarray(np.round(pixels * 255).astype(np.uint8)))


def test_a_second_upload_of_the_same_file_is_a_duplicate(catalog):
    case = ACCEPTED[0]
    first = add_bytes(catalog, case.data, Provenance(source="upload", name="first.jpg"))
    revision = catalog.revision()
    second = add_bytes(catalog, case.data, Provenance(source="upload", name="../second.jpg"))
    assert (second.status, second.image_id) == ("duplicate", first.image_id)
    assert catalog.revision() == revision and catalog.count() == 1


# -- decompression bombs: refused before decoding, memory bounded ------------------------------------------
BOMBS = [case for case in CORPUS if case.bomb]


@pytest.mark.parametrize("case", BOMBS, ids=lambda c: c.key)
def test_bomb_is_refused_without_decoding_pixels(case, monkeypatch):
    loads = []
    original = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.size) or original(self))
    with pytest.raises(decode.ImageRejected) as refused:
        decode.load_image(case.data, name=case.name)
    assert loads == []
    assert refused.value.name == case.name


@pytest.mark.parametrize("limit, refused", [(90_000_000, True), (100_000_000, False)])
def test_the_pixel_limit_is_the_setting_not_pillows_default(monkeypatch, limit, refused):
    """9500 x 9500 = 90,250,000 pixels: over Pillow's 89,478,485 default, judged by max_image_pixels."""
    monkeypatch.setenv("MARSVIZ_MAX_IMAGE_PIXELS", str(limit))
    with pytest.raises(decode.ImageRejected) as rejected:
        decode.load_image(raw_png(9500, 9500, b"\x78\x9c\x03\x00\x00\x00\x00\x01"), name="big.png")
    assert ("9500x9500 pixels, over the 90,000,000 pixel limit" in rejected.value.reason) == refused
    assert "decompression bomb" not in rejected.value.reason  # refused on size, or read and found truncated


def test_bombs_keep_peak_memory_bounded(tmp_path):
    """Decode every bomb in a fresh process; its peak resident memory must barely move."""
    for number, case in enumerate(BOMBS):
        (tmp_path / f"{number}.bin").write_bytes(case.data)
    script = textwrap.dedent(f"""
        import json, resource, pathlib
        from marsviz.decode import load_image
        from marsviz.errors import ImageRejected
        load_image({str(ROOT / "marsviz/samples/mpf_imp_PIA01546.jpg")!r})  # warm up imports and codecs
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        declared = 0
        for path in sorted(pathlib.Path({str(tmp_path)!r}).glob("*.bin")):
            try:
                load_image(path)
            except ImageRejected:
                pass
        print(json.dumps({{"before_kb": before, "after_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    memory = json.loads(done.stdout)
    grown_mb = (memory["after_kb"] - memory["before_kb"]) / 1024
    # The smallest bomb declares 12000x12000 RGBA: 576 MB if it were decoded.
    assert grown_mb < 64, memory


#: Decoding a frame within the pixel limit may cost at most this many bytes per pixel at peak: the decoded
#: frame (4 bytes per pixel in Pillow) and about one more copy, never one per conversion step.
PEAK_BYTES_PER_PIXEL = 9.0


@pytest.mark.parametrize("kind, color_type, bit_depth, max_side", [
    ("rgba", 6, 8, None), ("gray16", 0, 16, None), ("rgb", 2, 8, None),
    ("gray16", 0, 16, 4096)])  # the viewer's zoom rendition: 16-bit samples stretched at nearly full size
def test_a_large_frame_within_the_limits_costs_about_one_decoded_frame(tmp_path, kind, color_type, bit_depth,
                                                                      max_side):
    side = 6000  # 36 M pixels, a third of the pixel limit; the file is a few hundred KB
    path = tmp_path / f"{kind}.png"
    path.write_bytes(blank_png(side, side, color_type, bit_depth))
    assert path.stat().st_size < 1_000_000
    script = textwrap.dedent(f"""
        import json, resource
        from marsviz.decode import load_image
        load_image({str(ROOT / "marsviz/samples/mpf_imp_PIA01546.jpg")!r})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        decoded = load_image({str(path)!r}{f", max_side={max_side}" if max_side else ""})
        print(json.dumps({{"grown_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
                          "size": [decoded.width, decoded.height]}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["size"] == [side, side]
    # Decoded at nearly its full size, the float32 result itself adds 4 bytes per pixel.
    budget = PEAK_BYTES_PER_PIXEL + (4 if max_side else 0)
    assert result["grown_kb"] * 1024 / side**2 < budget, result


# -- the command line: python -m marsviz add ---------------------------------------------------------------
def run_cli(*args, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marsviz", "--home", str(home), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def corpus_on_disk(tmp_path_factory):
    """Every case as a file named as closely to the stranger's name as a Linux disk allows, one per folder."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for number, case in enumerate(CORPUS):
        path = folder / f"{number:02d}" / case.disk_name
        path.parent.mkdir()
        path.write_bytes(case.data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def cli_run(corpus_on_disk, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli") / "home"
    done = run_cli("add", "--workers", "2", *corpus_on_disk, home=home)
    return home, done


def test_cli_reports_one_clean_line_per_file(cli_run, corpus_on_disk):
    _, done = cli_run
    assert done.returncode == 1, done.stderr  # some files were rejected
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(CORPUS), done.stdout
    for case, path, line in zip(CORPUS, corpus_on_disk, lines):
        assert printable(line), repr(line)  # no raw escape, bell, carriage return or bidi override
        if case.accept:
            assert re.fullmatch(r"added {5}.+ \(id \d+\)(: .+)?", line), (case.key, line)
            # What decoding did beyond a plain conversion is said on the file's line, and only there.
            noted = case.key in ("dtm_nodata_tiff", "dtm_fill_untagged_tiff", "gray12_in_16bit_png")
            assert line.endswith("left out of the stretch and shown black") == case.key.startswith("dtm_")
            assert ("stretched so 4095 is white" in line) == (case.key == "gray12_in_16bit_png")
            assert line.endswith(")") != noted, (case.key, line)
        else:
            assert line.startswith("rejected  "), (case.key, line)
            assert any(phrase in line for phrase in case.reason), (case.key, line)
            if printable(path.name):
                assert f"  {path.name}: " in line


def test_cli_stores_exactly_the_accepted_files(cli_run):
    home, _ = cli_run
    catalog = Catalog(home)
    assert catalog.count() == len(ACCEPTED)
    expected = {hashlib.sha256(case.data).hexdigest() for case in ACCEPTED}
    assert {path.name.split(".")[0] for path in files_under(home / "images")} == expected
    assert {path.stem for path in files_under(home / "thumbnails")} == expected
    by_sha = {row["sha256"]: row for row in (catalog.get(i) for i in catalog.frame()["id"])}
    for case in ACCEPTED:
        row = by_sha[hashlib.sha256(case.data).hexdigest()]
        assert (row["width"], row["height"], row["extension"]) == (*case.size, case.extension), case.key
        assert row["name"] == case.disk_name
        with Image.open(catalog.thumbnail_path(row)) as thumbnail:
            assert_looks_right(case, thumbnail)


def test_cli_rerun_changes_nothing(cli_run, corpus_on_disk):
    home, _ = cli_run
    revision = Catalog(home).revision()
    again = run_cli("add", "--workers", "2", *corpus_on_disk, home=home)
    statuses = [line.split()[0] for line in again.stdout.splitlines()]
    assert statuses == ["duplicate" if case.accept else "rejected" for case in CORPUS]
    assert Catalog(home).revision() == revision and Catalog(home).count() == len(ACCEPTED)


def test_cli_with_only_bad_files_leaves_a_fresh_catalog_empty(corpus_on_disk, tmp_path):
    home = tmp_path / "home"
    bad = [path for case, path in zip(CORPUS, corpus_on_disk) if not case.accept]
    done = run_cli("add", "--workers", "1", *bad, home=home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    catalog = Catalog(home)
    assert (catalog.count(), catalog.revision()) == (0, Catalog(tmp_path / "fresh").revision())
    assert files_under(home / "images") == set() and files_under(home / "thumbnails") == set()


# -- the Upload page ---------------------------------------------------------------------------------------
UPLOAD_PAGE = ROOT / "app_pages" / "upload.py"
UPLOADER_TYPES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
#: What the page's uploader lets through (its ``type=`` list); the rest Streamlit refuses itself.
THROUGH_UPLOADER = [c for c in CORPUS if c.name.lower().endswith(UPLOADER_TYPES) and "\x00" not in c.name]
REFUSED_BY_UPLOADER = [c for c in CORPUS if c not in THROUGH_UPLOADER]


@pytest.fixture
def upload_page(tmp_path, monkeypatch):
    if not UPLOAD_PAGE.exists():
        pytest.skip("app_pages/upload.py does not exist yet")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MARSVIZ_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    st.cache_resource.clear()  # the page's Catalog is cached per process; this test has its own folder
    st.cache_data.clear()
    # One image already there, so the app does not load the bundled samples on its first start.
    seed = encode(bands("RGB", (64, 64), (1, 2, 3), (250, 251, 252)), "PNG")
    assert add_bytes(Catalog(tmp_path / "home"), seed, Provenance(source="upload", name="seed.png")).status == "added"
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # the page links need st.navigation
    app.run()
    app.switch_page(str(UPLOAD_PAGE.relative_to(ROOT)))
    app.run()
    assert not app.exception, app.exception
    yield app
    st.cache_resource.clear()
    st.cache_data.clear()


def page_text(app) -> str:
    parts = []
    for kind in ("error", "warning", "success", "info", "markdown", "text", "caption", "code", "exception"):
        parts.extend(str(element.value) for element in getattr(app, kind))
    for frame in [*app.dataframe, *app.table]:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def test_upload_page_takes_the_corpus_without_an_exception(upload_page, tmp_path):
    app = upload_page
    app.file_uploader[0].set_value([(case.name, case.data, "application/octet-stream")
                                    for case in THROUGH_UPLOADER])
    app.run(timeout=300)
    assert not app.exception, [e.value for e in app.exception]
    text = page_text(app)
    assert "Traceback" not in text
    catalog = Catalog(tmp_path / "home")
    accepted = [case for case in THROUGH_UPLOADER if case.accept]
    assert catalog.count() == 1 + len(accepted)
    assert {row for row in catalog.frame()["sha256"]} - {hashlib.sha256(c.data).hexdigest() for c in accepted} == {
        hashlib.sha256(encode(bands("RGB", (64, 64), (1, 2, 3), (250, 251, 252)), "PNG")).hexdigest()}
    errors = [element.value for element in app.error]
    rejected = [case for case in THROUGH_UPLOADER if not case.accept]
    assert len(errors) == len(rejected)
    for case, message in zip(rejected, errors):
        assert any(phrase in message for phrase in case.reason), (case.key, message)
    ranked_lines = [element.value for element in app.markdown if "): rank **" in str(element.value)]
    assert len(ranked_lines) == len(accepted)  # every accepted upload is shown with its rank
    notes = [element.value for element in app.caption if "stretch" in str(element.value)]
    assert len(notes) == 3  # the two DTMs (NoData left out) and the 12-bit frame (bits in use)
    assert sum("left out of the stretch" in note for note in notes) == 2


@pytest.mark.parametrize("case", REFUSED_BY_UPLOADER, ids=lambda c: c.key)
def test_upload_page_uploader_refuses_other_extensions(case, upload_page, tmp_path):
    app = upload_page
    before = catalog_state(Catalog(tmp_path / "home"))
    app.file_uploader[0].set_value([(case.name, case.data, "application/octet-stream")])
    app.run(timeout=60)
    # Streamlit's own check (the browser refuses the file before sending it; AppTest raises instead).  With
    # client.showErrorDetails = "none" (.streamlit/config.toml) the user sees only a redacted notice.
    assert any(words in str(e.value) for e in app.exception
               for words in ("Invalid file extension", "null bytes", "error message is redacted"))
    assert not any("Traceback" in str(e.value) or "file_uploader_utils" in str(e.value) for e in app.exception)
    assert catalog_state(Catalog(tmp_path / "home")) == before
