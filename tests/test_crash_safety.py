"""Crashes, contention and full or read-only disks, with real processes, a real HTTP server and real SQLite.

- A scrape SIGKILLed at several points: the catalog passes ``PRAGMA integrity_check``, every stored file
  is whole (its name is its SHA-256), and the re-run finishes the set, downloading only what was not
  recorded.
- Four ``marsviz add`` processes (with overlapping files) and a scrape writing while a reader reads: no
  "database is locked", and the final rows are exactly the distinct images added.
- A full disk (a 1 MB tmpfs in a private mount namespace, and RLIMIT_FSIZE) and a read-only data folder:
  a one-line message naming the folder and the cause, exit status 2, and nothing already stored lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from marsviz.catalog import Catalog
from nasa_server import FIXTURES, NasaServer

ROOT = Path(__file__).resolve().parents[1]
FEED = "/rss/api/"
FAST_HTTP = {"MARSVIZ_HTTP_RATE": "0", "MARSVIZ_HTTP_BACKOFF": "0", "MARSVIZ_HTTP_TIMEOUT": "5",
             "MARSVIZ_HTTP_RETRIES": "1"}


# -- helpers -----------------------------------------------------------------------------------------------
def marsviz_command(home: Path, *args) -> list[str]:
    return [sys.executable, "-m", "marsviz", "--home", str(home), *map(str, args)]


def child_env(**extra) -> dict:
    return {**os.environ, **FAST_HTTP, "PYTHONPATH": str(ROOT), **extra}


def run(command, timeout=180, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env=kw.pop("env", child_env()), **kw)


def noise_pngs(folder: Path, count: int, seed: int, side: int = 48) -> list[Path]:
    """`count` distinct random-noise PNGs (incompressible, so their size is predictable)."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(seed)
    paths = []
    for number in range(count):
        pixels = generator.integers(0, 256, (side, side, 3), dtype=np.uint8)
        path = folder / f"noise-{seed}-{number}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_sound(home: Path) -> list[sqlite3.Row]:
    """Integrity check passes, rows are unique, every row's files exist, every stored file is whole."""
    # closing(): a connection's own context manager only commits.  Left to the garbage collector, its close
    # (which removes the write-ahead log file) could come while a test lists or changes the folder's files.
    with contextlib.closing(sqlite3.connect(home / "catalog.sqlite")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM images").fetchall()
    shas = [row["sha256"] for row in rows]
    assert len(shas) == len(set(shas)), "two rows for the same content"
    ids = [(row["source"], row["source_id"]) for row in rows if row["source_id"]]
    assert len(ids) == len(set(ids)), "two rows for the same source item"
    for row in rows:
        assert (home / "images" / row["sha256"][:2] / f"{row['sha256']}{row['extension']}").is_file()
        assert (home / "thumbnails" / row["sha256"][:2] / f"{row['sha256']}.jpg").is_file()
    for path in (home / "images").rglob("*"):
        if path.is_file() and not path.name.startswith(".part-"):
            # A file under a final name is complete: its name is the hash of its content.
            assert path.name.split(".")[0] == sha256(path), f"partial or foreign file {path}"
    for path in (home / "thumbnails").rglob("*"):
        if path.is_file() and not path.name.startswith(".part-"):
            # Thumbnails are named after their image; complete means a whole JPEG that decodes.
            data = path.read_bytes()
            assert data.endswith(b"\xff\xd9"), f"partial thumbnail {path}"
            with Image.open(io.BytesIO(data)) as thumbnail:
                thumbnail.load()
    return rows


def temp_leftovers(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and (p.name.startswith(".part-") or p.suffix == ".part")]


# -- SIGKILL in the middle of a scrape ---------------------------------------------------------------------
ITEMS = 30
PER_PAGE = 10


def synthetic_feed(server: NasaServer, count: int) -> list[str]:
    """Serve a mars2020 feed of `count` full frames whose image files all have distinct content."""
    template = json.loads((FIXTURES / "raw-feeds-mars2020-page0-RECONSTRUCTED.json").read_text())["images"][0]
    ids, contents, number = [], set(), 0
    while len(ids) < count:
        image_id = f"ZL0_0100_{number:010d}_000ECM_N0000000ZCAM00000_000000J"
        number += 1
        content = hashlib.sha256(server.image_bytes(f"/synthetic/{image_id}.png")).digest()
        if content in contents:
            continue  # the server crops images at offsets derived from the path; skip rare collisions
        contents.add(content)
        ids.append(image_id)
    items = []
    for image_id in ids:
        item = json.loads(json.dumps(template))
        item["imageid"] = image_id
        item["image_files"] = {"full_res": f"https://mars.nasa.gov/synthetic/{image_id}.png"}
        items.append(item)

    def route(query, path):
        page = int(query.get("page", ["0"])[0])
        return {"images": items[page * PER_PAGE:(page + 1) * PER_PAGE], "per_page": str(PER_PAGE), "page": page,
                "total_results": count, "total_images": count, "mission": "mars2020"}

    server.routes[FEED] = route
    return ids


@pytest.mark.slow  # real processes killed and racing: 9-14 s on 2 cores
def test_sigkilled_scrape_leaves_a_sound_catalog_and_a_rerun_finishes_without_refetching(tmp_path):
    home = tmp_path / "home"
    randomness = random.Random(6)
    with NasaServer() as server:
        ids = synthetic_feed(server, ITEMS)
        server.image_delay = 0.05
        command = marsviz_command(home, "scrape", "mars2020", "--api-root", server.root)
        env = child_env(MARSVIZ_HTTP_CONCURRENCY="2")
        kills = []
        for threshold in (3, 11, 19):
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 90
                while process.poll() is None and time.monotonic() < deadline:
                    if (home / "catalog.sqlite").exists() and Catalog(home).count() >= threshold:
                        break
                    time.sleep(0.02)
                time.sleep(randomness.uniform(0, 0.08))  # land anywhere: mid-download, mid-analysis, mid-write
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait()
            assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
            rows = assert_sound(home)
            kills.append(len(rows))
        assert kills == sorted(kills) and kills[-1] < ITEMS

        recorded = {row["source_id"] for row in assert_sound(home)}
        requests_before = len(server.image_requests())
        finished = run(command, env=env)
        assert finished.returncode == 0, finished.stderr
        assert "Traceback" not in finished.stderr
        fetched_again = server.image_requests()[requests_before:]

    rows = assert_sound(home)
    assert sorted(row["source_id"] for row in rows) == sorted(ids)
    assert len(fetched_again) == ITEMS - len(recorded)
    assert not {Path(path).stem for path in fetched_again} & recorded
    assert temp_leftovers(home) == []


# -- four writers, a scrape and a reader at once -----------------------------------------------------------
@pytest.mark.slow  # real processes killed and racing: 9-14 s on 2 cores
def test_concurrent_adders_scrape_and_reader_lose_and_double_nothing(tmp_path):
    home = tmp_path / "home"
    shared = noise_pngs(tmp_path / "shared", 6, seed=99)
    batches = []
    for writer in range(4):
        own = noise_pngs(tmp_path / f"writer{writer}", 12, seed=writer)
        copies = []
        for path in shared:  # same content under another path in every writer: a race for the same row
            copy = tmp_path / f"writer{writer}" / f"copy-{path.name}"
            shutil.copyfile(path, copy)
            copies.append(copy)
        batches.append(copies + own if writer % 2 else own + copies)
    expected = {sha256(p) for batch in batches for p in batch}

    reads, read_errors, counts = [], [], []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                if (home / "catalog.sqlite").exists():
                    catalog = Catalog(home)
                    counts.append(catalog.count())
                    reads.append(len(catalog.frame()))
            except Exception as error:  # noqa: BLE001 - any failure here is what the test looks for
                read_errors.append(repr(error))
            time.sleep(0.01)

    with NasaServer() as server:
        ids = synthetic_feed(server, 20)
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        processes = [subprocess.Popen(marsviz_command(home, "add", "--workers", "1", *batch), cwd=ROOT,
                                      env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for batch in batches]
        processes.append(subprocess.Popen(marsviz_command(home, "scrape", "mars2020", "--api-root", server.root),
                                          cwd=ROOT, env=child_env(MARSVIZ_HTTP_CONCURRENCY="2"),
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outputs = [process.communicate(timeout=300) for process in processes]
        stop.set()
        thread.join()

    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "locked" not in (out + err).lower() and "Traceback" not in err
    assert read_errors == []
    assert len(reads) > 10 and counts == sorted(counts)  # the reader really read, and never saw rows vanish
    rows = assert_sound(home)
    files = [row for row in rows if row["source"] == "file"]
    assert {row["sha256"] for row in files} == expected and len(files) == 4 * 12 + 6
    assert sorted(row["source_id"] for row in rows if row["source"] == "mars2020") == sorted(ids)
    added_lines = sum(out.count("\nadded ") + out.startswith("added ") for out, _ in outputs[:4])
    assert added_lines == 4 * 12 + 6  # each shared file reported added once, duplicate three times


# -- full disk and read-only folder ------------------------------------------------------------------------
def _namespaces_available() -> bool:
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True) if shutil.which("unshare") else None
    return probe is not None and probe.returncode == 0


@pytest.fixture
def stocked_home(tmp_path):
    """A data folder holding 5 images, and its rows as they were."""
    home = tmp_path / "home"
    done = run(marsviz_command(home, "add", "--workers", "1", *noise_pngs(tmp_path / "first", 5, seed=1)))
    assert done.returncode == 0, done.stderr
    return home, assert_sound(home)


def assert_nothing_lost(home: Path, before: list[sqlite3.Row]) -> list[sqlite3.Row]:
    rows = assert_sound(home)
    by_sha = {row["sha256"]: dict(row) for row in rows}
    for row in before:
        assert by_sha[row["sha256"]] == dict(row)
    return rows


def assert_one_line_message(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = [line for line in done.stderr.splitlines() if line.startswith("marsviz: ")]
    assert len(message) == 1, done.stderr
    assert any(word in message[0] for word in words), message[0]
    return message[0]


@pytest.mark.skipif(not _namespaces_available(), reason="needs unshare --mount (a private tmpfs)")
def test_disk_full_during_add_is_a_message_and_keeps_everything_stored(stocked_home, tmp_path):
    home, before = stocked_home
    more = noise_pngs(tmp_path / "more", 12, seed=2, side=160)  # ~77 KB each, ~0.9 MB in all
    mount = tmp_path / "small-disk"
    mount.mkdir()
    out = tmp_path / "after"
    script = (f"mount -t tmpfs -o size=640k tmpfs {mount} && cp -a {home} {mount}/home && "
              f"{' '.join(marsviz_command(mount / 'home', 'add', '--workers', '1', *more))}; status=$?; "
              f"cp -a {mount}/home {out}; df -k {mount} | tail -1 >&2; exit $status")
    done = run(["unshare", "--mount", "sh", "-c", script])
    message = assert_one_line_message(done, "No space left on device", "database or disk is full")
    assert "home" in message
    rows = assert_nothing_lost(out, before)
    added = done.stdout.count("added ")
    assert 0 < added < len(more) and len(rows) == len(before) + added
    # After space is freed (here: the same folder on the big disk) the same command finishes the set.
    again = run(marsviz_command(out, "add", "--workers", "1", *more))
    assert again.returncode == 0, again.stderr
    assert len(assert_nothing_lost(out, before)) == len(before) + len(more)


def _limit_file_size(limit: int):
    def limit_in_child():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_in_child


def test_file_size_limit_during_add_is_a_message_and_keeps_everything_stored(stocked_home, tmp_path):
    home, before = stocked_home
    small = noise_pngs(tmp_path / "small", 3, seed=3, side=48)       # ~7 KB each: under the limit
    large = noise_pngs(tmp_path / "large", 2, seed=4, side=300)      # ~270 KB each: over it
    # The limit leaves the catalog file room to grow (about 60 KB with these 8 rows, its write-ahead log as much).
    done = run(marsviz_command(home, "add", "--workers", "1", *small, *large), preexec_fn=_limit_file_size(160_000))
    assert_one_line_message(done, "File too large")
    rows = assert_nothing_lost(home, before)
    assert len(rows) == len(before) + len(small)
    assert temp_leftovers(home) == []


def _read_only(home: Path):
    """Make `home` read-only for a child; as root, also drop the capability that ignores permissions."""
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    return []


@pytest.fixture
def read_only_home(stocked_home):
    home, before = stocked_home
    prefix = _read_only(home)
    yield home, before, prefix
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def test_read_only_folder_add_is_a_message_and_loses_nothing(read_only_home, tmp_path):
    home, before, prefix = read_only_home
    done = run(prefix + marsviz_command(home, "add", *noise_pngs(tmp_path / "more", 2, seed=5)))
    message = assert_one_line_message(done, "readonly", "read-only", "Permission denied")
    assert str(home) in message
    assert assert_nothing_lost(home, before) == before


def test_read_only_folder_scrape_is_a_message_and_loses_nothing(read_only_home):
    home, before, prefix = read_only_home
    with NasaServer() as server:
        synthetic_feed(server, 3)
        done = run(prefix + marsviz_command(home, "scrape", "mars2020", "--api-root", server.root))
        assert server.image_requests() == []  # refused before downloading anything
    assert_one_line_message(done, "readonly", "read-only", "Permission denied")
    assert assert_nothing_lost(home, before) == before


def test_temporary_files_of_killed_writers_are_swept_when_the_catalog_opens(tmp_path):
    home = tmp_path / "home"
    Catalog(home)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = home / "images" / "ab"
    folder.mkdir(parents=True)
    leftover = folder / f".part-{dead.pid}-x1y2z3"
    leftover.write_bytes(b"half an image")
    live = folder / f".part-{os.getpid()}-a1b2c3"
    live.write_bytes(b"being written right now")
    old = home / "thumbnails" / "cd" / f".part-{os.getpid()}-old"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"two hours old")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    Catalog(home)
    assert not leftover.exists() and not old.exists() and live.exists()


def test_disk_write_failure_during_a_scrape_stops_it_with_the_real_cause(stocked_home):
    """A full disk while downloading is said to be a full disk, not a broken connection."""
    home, before = stocked_home
    limit = 40_000
    with NasaServer() as server:
        ids = synthetic_feed(server, 5)
        sizes = [len(server.image_bytes(f"/synthetic/{image_id}.png")) for image_id in ids]
        assert min(sizes) < limit < max(sizes), sizes  # some downloads fit under the limit, some do not
        done = run(marsviz_command(home, "scrape", "mars2020", "--api-root", server.root),
                   preexec_fn=_limit_file_size(limit), env=child_env(MARSVIZ_HTTP_CONCURRENCY="1"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot write to" in done.stderr and "File too large" in done.stderr, done.stderr
    assert "connection broken" not in done.stderr
    rows = assert_nothing_lost(home, before)
    added = done.stdout.count("added ")
    assert len(rows) == len(before) + added and added < len(ids)
    assert temp_leftovers(home) == []


def test_read_only_folder_can_still_be_ranked_and_exported(read_only_home, tmp_path):
    home, before, prefix = read_only_home
    done = run(prefix + marsviz_command(home, "rank", "--top", "0", "--format", "csv"))
    assert done.returncode == 0, done.stderr
    assert sorted(line.split(",")[2] for line in done.stdout.splitlines()[1:]) == sorted(r["name"] for r in before)
    exported = run(prefix + marsviz_command(home, "export", tmp_path / "out.csv"))
    assert exported.returncode == 0, exported.stderr
    assert assert_nothing_lost(home, before) == before


def test_read_only_folder_upload_page_shows_a_message(read_only_home):
    """The Upload page, run by AppTest in a process that cannot write the folder."""
    home, before, prefix = read_only_home
    script = textwrap.dedent(f"""
        import io, json
        from PIL import Image
        from streamlit.testing.v1 import AppTest
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (200, 100, 50)).save(buffer, "PNG")
        app = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120)
        app.run()
        app.switch_page("app_pages/upload.py")
        app.run()
        app.file_uploader[0].set_value([("new.png", buffer.getvalue(), "image/png")])
        app.run()
        print(json.dumps({{"errors": [e.value for e in app.error], "exceptions": len(app.exception)}}))
    """)
    done = run(prefix + [sys.executable, "-c", script], env=child_env(MARSVIZ_HOME=str(home)))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["exceptions"] == 0
    assert len(shown["errors"]) == 1 and "could not be stored" in shown["errors"][0], shown
    # Refused before any file is stored: the catalog knows it opened read-only.
    assert "is read\\-only\\: the catalog can be viewed but not changed" in shown["errors"][0], shown
    assert assert_nothing_lost(home, before) == before
