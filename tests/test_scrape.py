"""Scrape runs end to end: local NASA server -> real HTTP -> downloads -> pipeline -> real catalog."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from marsviz.catalog import Catalog
from marsviz.cli import main
from marsviz.fetch import make_session
from marsviz.scrape import run_scrape
from marsviz.sources import Query, make_source
from nasa_server import FIXTURES, NasaServer

M20 = "/rss/api/"
MSL = "/api/v1/raw_image_items/"
M20_PAGES = {0: "raw-feeds-mars2020-page0-RECONSTRUCTED.json", 1: "raw-feeds-mars2020-page1-RECONSTRUCTED.json"}
MSL_PAGES = {0: "raw-feeds-msl-page0-RECONSTRUCTED.json", 1: "raw-feeds-msl-page1-RECONSTRUCTED.json"}
M20_IDS = {"ZL6_1484_0798697293_098ECM_N0730000ZCAM01022_034080J",
           "NLF_1484_0798690000_123ECM_N0730000NCAM00500_01_295J",
           "FLF_1483_0798600000_456ECM_N0730000FHAZ00200_01_295J"}


@pytest.fixture
def server():
    with NasaServer(slow_seconds=1.5) as running:
        running.routes[M20] = NasaServer.pages("page", M20_PAGES)
        running.routes[MSL] = NasaServer.pages("page", MSL_PAGES)
        yield running


@pytest.fixture
def catalog(tmp_path):
    return Catalog(tmp_path / "home")


def scrape(server, catalog, name="mars2020", retries=1, query=None, **options):
    session = make_session(server.root, timeout=1.0, retries=retries, backoff=0.0, rate=0, max_retry_after=5)
    source = make_source(name, session, query or Query(), api_root=server.root)
    return run_scrape(catalog, source, session, **options)


def assert_consistent(catalog):
    """One row per (source, source id), one stored file per row, no partial files anywhere."""
    frame = catalog.frame()
    assert not frame.duplicated(["source", "source_id"]).any()
    assert not frame["sha256"].duplicated().any()
    stored = [p for p in (catalog.home / "images").rglob("*") if p.is_file()]
    assert sorted(p.stem for p in stored) == sorted(frame["sha256"])
    assert not [p for p in catalog.home.rglob("*.part")]
    assert not list(catalog.tmp_dir.iterdir())


def test_scrape_adds_every_full_frame_with_provenance(server, catalog):
    report = scrape(server, catalog)
    assert report.ok and report.error == ""
    assert len(report.added) == 3 and report.considered == 3
    frame = catalog.frame()
    assert set(frame["source_id"]) == M20_IDS
    assert set(frame["source"]) == {"mars2020"}
    assert set(frame["instrument"]) == {"Mastcam-Z", "Navcam", "Hazcam"}  # the table's one name per camera
    row = catalog.get(int(frame.loc[frame["instrument"] == "Mastcam-Z", "id"].iloc[0]))
    assert row["instrument"] == "MCZ_LEFT"  # as the feed said
    assert row["sol"] == 1484 and row["credit"] == "NASA/JPL-Caltech/ASU"
    assert row["description"].startswith("NASA's Mars Perseverance rover acquired")
    assert_consistent(catalog)


def test_rerun_downloads_nothing(server, catalog):
    scrape(server, catalog)
    downloads = len(server.image_requests())
    report = scrape(server, catalog)
    assert len(server.image_requests()) == downloads == 3
    assert report.skipped == 3 and not report.added and report.ok
    assert catalog.count() == 3


def test_image_library_rerun_asks_for_no_manifest_and_no_image(server, catalog):
    server.routes["/search"] = "images-api-2-search-last-page-no-links.json"
    server.routes["/asset/*"] = lambda query, path: json.loads(
        (FIXTURES / "images-api-5-asset-manifest.json").read_text().replace("as11-40-5874", path.rsplit("/", 1)[1]))
    report = scrape(server, catalog, name="nasa-images")
    assert report.ok and len(report.added) == 2
    frame = catalog.frame()
    assert sorted(frame["file_url"]) == [f"{server.root}/image/{i}/{i}~medium.jpg"
                                         for i in ("sts065-05-037", "sts065-214-010")]
    before = len(server.log)
    report = scrape(server, catalog, name="nasa-images")
    assert report.skipped == 2 and [path for path, _ in server.log[before:]] == ["/search"]


def test_progress_reports_every_item(server, catalog):
    seen = []
    scrape(server, catalog, progress=lambda r: seen.append((r.done, r.considered, r.last)))
    assert [done for done, _, _ in seen] == [1, 2, 3]
    assert all(done <= considered for done, considered, _ in seen)
    assert all(last.startswith("added: ") for _, _, last in seen)


def test_limit_bounds_the_items_looked_at(server, catalog):
    report = scrape(server, catalog, limit=2)
    assert report.considered == 2 and len(report.added) == 2 and report.total == 2
    report = scrape(server, catalog, limit=2)
    assert report.skipped == 2 and not report.added
    assert len(server.image_requests()) == 2


def test_garbage_page_stops_the_run_and_keeps_what_was_fetched(server, catalog):
    # Page 0 is the feed's; page 1 answers JSON of another shape.
    server.routes[MSL] = NasaServer.pages("page", {0: MSL_PAGES[0]}, default="images-api-4-search-error-400.json")
    report = scrape(server, catalog, name="msl")
    assert "'items'" in report.error and not report.ok
    assert [name for _, name in report.added] == ["0001MR0000000010100001C00_DXXX"]
    assert_consistent(catalog)

    server.routes[MSL] = NasaServer.pages("page", MSL_PAGES)
    before = len(server.image_requests())
    report = scrape(server, catalog, name="msl")
    assert report.ok and [name for _, name in report.added] == ["FLA_397502188EDR_F0010000AUT_04096M_"]
    assert len(server.image_requests()) == before + 1
    assert_consistent(catalog)


def test_unreachable_service_is_a_clear_error(catalog):
    with NasaServer() as gone:
        root = gone.root
    session = make_session(root, retries=0, timeout=1.0)
    report = run_scrape(catalog, make_source("msl", session, Query(), api_root=root), session)
    assert "could not reach" in report.error
    assert catalog.count() == 0


@pytest.mark.parametrize("fault", ["truncate", "reset", "slow", "html"])
def test_failed_download_is_reported_and_retried_next_run(server, catalog, fault):
    target = "/mars2020-raw-images/pub/ods/surface/sol/01484/ids/edr/browse/ncam/" \
             "NLF_1484_0798690000_123ECM_N0730000NCAM00500_01_295J_1200.jpg"
    server.fail_next(target, fault)
    report = scrape(server, catalog, retries=0)
    assert [name for name, _ in report.failed] == ["NLF_1484_0798690000_123ECM_N0730000NCAM00500_01_295J"]
    assert len(report.added) == 2 and not report.ok and not report.error
    assert_consistent(catalog)

    report = scrape(server, catalog, retries=0)
    assert report.ok and len(report.added) == 1 and report.skipped == 2
    assert server.image_requests().count(target) == 2
    assert_consistent(catalog)


def test_transient_download_faults_are_retried_within_the_run(server, catalog):
    target = "/mars2020-raw-images/.../1200.jpg"
    server.fail_next(target, "500", "reset")
    report = scrape(server, catalog, retries=2)
    assert report.ok and len(report.added) == 3


def test_downloads_failing_in_a_row_stop_the_run(server, catalog, monkeypatch):
    monkeypatch.setenv("MARSVIZ_SCRAPE_MAX_FAILURES", "2")
    server.routes["/mars2020-raw-images/*"] = (404, {"reason": "gone"})
    server.routes["/rss/api/"] = NasaServer.pages("page", M20_PAGES)
    report = scrape(server, catalog, workers=1)
    assert "2 downloads failed in a row" in report.error
    # The third item may already be in the pool's window when the second fails; nothing further starts.
    assert 2 <= len(report.failed) <= 3 and not report.added
    assert len(server.image_requests()) == len(report.failed)
    assert_consistent(catalog)


def test_retry_after_too_long_stops_the_run(server, catalog):
    server.retry_after = 3600
    server.fail_next("/mars2020-raw-images/.../1200.jpg", "429")
    report = scrape(server, catalog, workers=1)
    assert "Retry-After" in report.error
    assert_consistent(catalog)


def test_cancel_keeps_what_finished_and_a_rerun_resumes(server, catalog):
    cancel = threading.Event()

    def stop_after_first(report):
        if report.added:
            cancel.set()

    report = scrape(server, catalog, cancel=cancel, progress=stop_after_first, workers=1)
    assert report.cancelled and not report.ok
    assert 1 <= len(report.added) < 3
    assert_consistent(catalog)
    first = len(report.added)

    report = scrape(server, catalog)
    assert len(report.added) == 3 - first and report.skipped == first
    assert set(catalog.frame()["source_id"]) == M20_IDS
    assert_consistent(catalog)


def test_files_over_the_size_limit_are_not_downloaded_in_full(server, catalog, monkeypatch):
    monkeypatch.setenv("MARSVIZ_MAX_UPLOAD_BYTES", "2000")  # the crops served are larger than this
    report = scrape(server, catalog)
    assert len(report.failed) == 3 and all("limit" in reason for _, reason in report.failed)
    assert catalog.count() == 0
    assert_consistent(catalog)


def test_not_an_image_is_rejected_and_leaves_nothing(server, catalog):
    server.routes["/mars2020-raw-images/.../1200.jpg"] = {"this": "is not an image"}
    report = scrape(server, catalog)
    assert [name for name, _ in report.rejected] == ["ZL6_1484_0798697293_098ECM_N0730000ZCAM01022_034080J"]
    assert len(report.added) == 2
    assert_consistent(catalog)


def test_same_content_under_two_ids_is_stored_once_and_not_fetched_again(server, catalog):
    page = json.loads((FIXTURES / M20_PAGES[1]).read_text())
    twin = copy.deepcopy(page["images"][0])
    twin["imageid"] = "FLF_1483_TWIN"
    page["images"].append(twin)  # same image_files: same bytes
    page["total_results"] = 2
    server.routes[M20] = page
    report = scrape(server, catalog)
    assert len(report.added) == 1 and len(report.duplicates) == 1
    assert report.duplicates[0][0] == report.added[0][0]
    assert_consistent(catalog)

    downloads = len(server.image_requests())
    report = scrape(server, catalog)
    assert report.skipped == 2 and len(server.image_requests()) == downloads
    # The second id is remembered in the catalog itself, not in a file beside it.
    (image_id,) = catalog.frame()["id"].tolist()
    assert catalog.find_by_source_id(catalog.get(image_id)["source"], "FLF_1483_TWIN") == image_id
    assert [p.name for p in Path(catalog.home).iterdir() if p.is_file() and "sqlite" not in p.name] == []


def test_the_duplicate_ledger_of_earlier_versions_moves_into_the_catalog(server, catalog):
    report = scrape(server, catalog)
    image_id, source = report.added[0][0], catalog.get(report.added[0][0])["source"]
    ledger = Path(catalog.home) / "scrape-duplicates.jsonl"
    ledger.write_text(json.dumps({"source": source, "source_id": "OLD_TWIN", "image_id": image_id}) + "\n"
                      + '{"source": "' + source + '", "source_id": "CUT', encoding="utf-8")  # cut short by a kill
    revision = catalog.revision()
    report = scrape(server, catalog)
    assert not ledger.exists() and catalog.revision() > revision
    assert catalog.find_by_source_id(source, "OLD_TWIN") == image_id
    assert catalog.find_by_source_id(source, "CUT") is None


def test_downloads_run_concurrently_within_the_bound(server, catalog):
    server.image_delay = 0.3
    report = scrape(server, catalog, name="mars2020", workers=3)
    assert report.ok
    assert 1 <= server.max_inflight <= 3


# -- command line --------------------------------------------------------------------------------------
REPO = Path(__file__).resolve().parent.parent
FAST = {"MARSVIZ_HTTP_RATE": "0", "MARSVIZ_HTTP_BACKOFF": "0", "MARSVIZ_HTTP_TIMEOUT": "2",
        "MARSVIZ_HTTP_RETRIES": "1"}


@pytest.fixture
def fast_http(monkeypatch):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("source, expected", [("mars2020", 3), ("msl", 2), ("pds-atlas", 5)])
def test_cli_scrapes_each_rover_and_atlas_source(server, tmp_path, fast_http, capsys, source, expected):
    server.routes["/solr/pds_archives/search"] = NasaServer.pages(
        "start", {0: "pds-atlas3-solr-search-page0-RECONSTRUCTED.json",
                  3: "pds-atlas3-solr-search-page1-RECONSTRUCTED.json"})
    home = tmp_path / "home"
    assert main(["--home", str(home), "scrape", source, "--api-root", server.root]) == 0
    out = capsys.readouterr().out
    assert f"{expected} added" in out
    assert Catalog(home).count() == expected
    assert main(["--home", str(home), "scrape", source, "--api-root", server.root]) == 0
    assert f"0 added, {expected} already there" in capsys.readouterr().out


def test_cli_nasa_images_with_query_and_limit(server, tmp_path, fast_http, capsys):
    server.routes["/search"] = "images-api-11-search-v1.1-links-with-sizes.json"
    home = tmp_path / "home"
    assert main(["--home", str(home), "scrape", "nasa-images", "--query", "iss026-s-001", "--limit", "1",
                 "--api-root", server.root]) == 0
    assert server.log[0][1]["q"] == ["iss026-s-001"]
    assert Catalog(home).frame()["source_id"].tolist() == ["iss026-s-001"]


def test_cli_sol_and_camera_options_reach_the_service(server, tmp_path, fast_http):
    home = tmp_path / "home"
    assert main(["--home", str(home), "scrape", "msl", "--sol-min", "1", "--sol-max", "2", "--camera",
                 "FHAZ_LEFT_A,MAST_RIGHT", "--api-root", server.root]) == 0
    query = server.log[0][1]
    assert query["condition_2"] == ["1:sol:gte"] and query["condition_3"] == ["2:sol:lte"]
    assert query["condition_4"] == ["FHAZ_LEFT_A,MAST_RIGHT:instrument:in"]


def test_cli_garbage_is_a_message_and_nonzero_exit(server, tmp_path, fast_http, capsys):
    server.fail_next(M20, "malformed")
    assert main(["--home", str(tmp_path / "home"), "scrape", "mars2020", "--api-root", server.root]) == 1
    err = capsys.readouterr().err
    assert "malformed JSON" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, words", [(["nasa-images", "--sol", "3"], "no sol"),
                                         (["msl", "--sol", "3", "--sol-min", "1"], "not both"),
                                         (["msl", "--sol-min", "9", "--sol-max", "2"], "empty"),
                                         (["msl", "--api-root", "ftp://x"], "not an http")])
def test_cli_bad_options_are_messages(tmp_path, capsys, argv, words):
    assert main(["--home", str(tmp_path / "home"), "scrape", *argv]) == 2
    assert words in capsys.readouterr().err


def test_killed_cli_run_resumes(server, tmp_path):
    """SIGKILL a real ``python -m marsviz scrape`` mid-run; the re-run finishes without re-fetching."""
    server.image_delay = 0.4
    home = tmp_path / "home"
    env = {**os.environ, **FAST, "MARSVIZ_HTTP_CONCURRENCY": "1", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "marsviz", "--home", str(home), "scrape", "mars2020",
               "--api-root", server.root]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        catalog = Catalog(home)
        deadline = time.monotonic() + 60
        while catalog.count() == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    kept = catalog.count()
    assert 1 <= kept <= 3
    fetched = len(server.image_requests())

    server.image_delay = 0.0
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert set(catalog.frame()["source_id"]) == M20_IDS
    # Only images not recorded before the kill are fetched again (an in-flight one may be repeated).
    assert len(server.image_requests()) - fetched == 3 - kept
    assert not list(home.rglob("*.part"))


def test_leftovers_of_a_dead_run_are_removed(server, catalog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = catalog.tmp_dir / f"download-{dead.pid}-abc.part"
    leftover.write_bytes(b"half an image")
    live = catalog.tmp_dir / f"download-{os.getpid()}-xyz.part"
    live.write_bytes(b"being written")
    scrape(server, catalog)
    assert not leftover.exists() and live.exists()


# -- broken bodies, trickling servers and cancel ---------------------------------------------------------
NLF = "/mars2020-raw-images/pub/ods/surface/sol/01484/ids/edr/browse/ncam/" \
      "NLF_1484_0798690000_123ECM_N0730000NCAM00500_01_295J_1200.jpg"


def test_a_download_broken_off_is_retried_within_the_run(server, catalog):
    server.fail_next(NLF, "truncate")
    report = scrape(server, catalog, retries=1)
    assert report.ok and len(report.added) == 3
    assert server.image_requests().count(NLF) == 2
    assert_consistent(catalog)


@pytest.mark.parametrize("path, fault, setting, words", [
    (NLF, "trickle", "MARSVIZ_HTTP_DEADLINE", "failed    NLF_1484"),
    (M20, "trickle-headers", "MARSVIZ_HTTP_JSON_DEADLINE", "marsviz: ")], ids=["download", "listing"])
def test_cli_scrape_of_a_trickling_server_ends_at_the_deadline(server, tmp_path, fast_http, monkeypatch, capsys,
                                                               path, fault, setting, words):
    monkeypatch.setenv("MARSVIZ_HTTP_TIMEOUT", "5")  # a byte a second never trips the per-read timeout
    monkeypatch.setenv(setting, "2")
    server.fail_next(path, fault)  # would trickle for 60 s
    started = time.monotonic()
    assert main(["--home", str(tmp_path / "home"), "scrape", "mars2020", "--api-root", server.root]) == 1
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "took longer than" in line]
    assert line.startswith(words) and "took longer than 2 s" in line and "Traceback" not in err
    assert server.requests_to(path) == 1
    assert not list((tmp_path / "home").rglob("*.part"))


@pytest.mark.parametrize("path, fault", [(NLF, "trickle"), (NLF, "trickle-headers"), (M20, "trickle")],
                         ids=["download-body", "download-headers", "listing"])
def test_cancel_stops_a_job_stuck_on_a_trickling_server_within_seconds(server, catalog, monkeypatch, path, fault):
    from marsviz.scrape import ScrapeJob

    for key, value in {**FAST, "MARSVIZ_HTTP_TIMEOUT": "5"}.items():
        monkeypatch.setenv(key, value)
    server.fail_next(path, fault)  # would trickle for 60 s; the deadline is the default 300 s
    job = ScrapeJob(catalog, "mars2020", Query(), api_root=server.root).start()
    others = 2 if path == NLF else 0  # the items that do not trickle
    waited = time.monotonic() + 60
    while (server.requests_to(path) == 0 or job.snapshot().done < others) and time.monotonic() < waited:
        time.sleep(0.05)
    time.sleep(0.5)
    assert job.running  # stuck on the trickle
    started = time.monotonic()
    job.cancel()
    assert job.wait(10) and time.monotonic() - started < 10
    report = job.snapshot()
    assert report.cancelled and not report.error and not report.failed
    assert catalog.count() == len(report.added) == others
    assert_consistent(catalog)


def test_a_run_records_who_started_it_on_every_image(server, catalog):
    report = scrape(server, catalog, added_by="ada@example.org")
    assert len(report.added) == 3
    assert set(catalog.frame()["added_by"]) == {"ada@example.org"}
    assert Catalog(catalog.home).get(report.added[0][0])["added_by"] == "ada@example.org"
