"""`datasets fetch`: the labeled sets downloaded (here from a server on 127.0.0.1 replaying small archives of
the records' real layout), checked against their checksum, unpacked and laid out as train and evaluate read them."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from PIL import Image

from marsviz.evaluate import load_labels
from tests.test_cli import marsviz


def jpeg(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (32, 32), shade).save(buffer, format="JPEG")
    return buffer.getvalue()


def hirise_archive() -> bytes:
    """The layout of hirise-map-proj-v3.zip: crops, one 'file class' line each, and the class map."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        crops = {"ESP_011386_2065_RED-0014.jpg": 1, "ESP_011386_2065_RED-0024.jpg": 0,
                 "PSP_001330_1395_RED-0003.jpg": 7, "PSP_001330_1395_RED-0003-r90.jpg": 7}
        for name in crops:
            archive.writestr(f"hirise-map-proj-v3/map-proj-v3/{name}", jpeg(100))
        archive.writestr("hirise-map-proj-v3/labels-map-proj-v3.txt",
                         "".join(f"{name} {label}\n" for name, label in crops.items()))
        archive.writestr("hirise-map-proj-v3/landmarks_map-proj-v3_classmap.csv",
                         "0,other\n1,crater\n2,dark dune\n3,slope streak\n4,bright dune\n5,impact ejecta\n"
                         "6,swiss cheese\n7,spider\n")
    return buffer.getvalue()


def msl_archive() -> bytes:
    """The layout of msl-images.zip: calibrated/ images, a listing per split, the class names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        splits = {"train": [("0077ML0005780000102730I01_DRCL.JPG", 13)],
                  "val": [("0292MH0002690000102962E01_DRCL.JPG", 8)],
                  "test": [("1003MR0044380000503896E01_DRCL.JPG", 8)]}
        for split, items in splits.items():
            archive.writestr(f"msl-images/{split}-calibrated-shuffled.txt",
                             "".join(f"calibrated/{name} {label}\n" for name, label in items))
            for name, _ in items:
                archive.writestr(f"msl-images/calibrated/{name}", jpeg(60))
        archive.writestr("msl-images/msl_synset_words-indexed.txt",
                         "8  ground\n13  observation tray\n24  wheel\n")
    return buffer.getvalue()


@pytest.fixture
def mirror(tmp_path):
    """A web server on 127.0.0.1 holding the two archives, and their SHA-256s."""
    served = tmp_path / "served"
    served.mkdir()
    hashes = {}
    for name, content in (("hirise-map-proj-v3.zip", hirise_archive()), ("msl-images.zip", msl_archive())):
        (served / name).write_bytes(content)
        hashes[name] = hashlib.sha256(content).hexdigest()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hashes
    server.shutdown()


def test_fetch_lays_the_hirise_set_out_as_train_and_evaluate_read_it(tmp_path, mirror):
    url, hashes = mirror
    result = marsviz(tmp_path / "home", "datasets", "fetch", "hirise-v3", "--dir", tmp_path / "sets",
                     "--mirror", url, "--sha256", hashes["hirise-map-proj-v3.zip"])
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "sets" / "hirise-v3"
    assert result.stdout.startswith(f"hirise-v3: 4 labeled images in {folder}")
    labels = load_labels(folder / "labels.csv")
    assert dict(zip(labels["file"], labels["labels"])) == {
        "ESP_011386_2065_RED-0014.jpg": ("crater",), "ESP_011386_2065_RED-0024.jpg": ("other",),
        "PSP_001330_1395_RED-0003.jpg": ("spider",), "PSP_001330_1395_RED-0003-r90.jpg": ("spider",)}
    assert set(labels["source"]) == {"ESP_011386_2065", "PSP_001330_1395"}  # split by source image, as evaluate does
    assert sorted(p.name for p in (folder / "images").iterdir()) == sorted(labels["file"])
    assert not (tmp_path / "sets" / "downloads" / "hirise-v3-unpacked").exists()  # unpacked files moved, not copied


def test_fetch_keeps_the_msl_split_by_sol(tmp_path, mirror):
    url, hashes = mirror
    result = marsviz(tmp_path / "home", "datasets", "fetch", "msl-v1", "--dir", tmp_path / "sets",
                     "--mirror", url, "--sha256", hashes["msl-images.zip"])
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "sets" / "msl-v1" / "labels.csv")
    assert table.to_dict("records") == [
        {"file": "0077ML0005780000102730I01_DRCL.JPG", "label": "observation_tray", "split": "train", "sol": 77},
        {"file": "0292MH0002690000102962E01_DRCL.JPG", "label": "ground", "split": "val", "sol": 292},
        {"file": "1003MR0044380000503896E01_DRCL.JPG", "label": "ground", "split": "test", "sol": 1003}]


def test_an_archive_that_does_not_match_its_checksum_is_refused_and_lays_nothing_out(tmp_path, mirror):
    url, _ = mirror
    result = marsviz(tmp_path / "home", "datasets", "fetch", "hirise-v3", "--dir", tmp_path / "sets",
                     "--mirror", url, "--sha256", "0" * 64)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hirise-map-proj-v3.zip" in result.stderr and "hash" in result.stderr.lower()
    assert not (tmp_path / "sets" / "hirise-v3" / "labels.csv").exists()


def test_a_mirror_without_its_checksum_and_a_missing_file_are_clear_errors(tmp_path, mirror):
    url, hashes = mirror
    result = marsviz(tmp_path / "home", "datasets", "fetch", "msl-v1", "--mirror", url)
    assert result.returncode != 0 and "needs the archive's --sha256" in result.stderr
    result = marsviz(tmp_path / "home", "datasets", "fetch", "msl-v1", "--dir", tmp_path / "sets",
                     "--mirror", url + "/nothing-here", "--sha256", hashes["msl-images.zip"])
    assert result.returncode != 0 and "cannot download msl-images.zip" in result.stderr
    assert "Traceback" not in result.stderr
