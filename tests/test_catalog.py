"""The SQLite catalog on real temporary data folders."""

import multiprocessing
import sqlite3

import pytest

from marsviz.catalog import Catalog
from marsviz.errors import CatalogError
from marsviz.registry import REGISTRY, feature_set_version
from marsviz.provenance import Provenance

SHA = "ab" * 32


def insert(catalog, sha=SHA, **provenance):
    return catalog.insert(sha256=sha, extension=".png", width=10, height=20, is_color=True,
                          provenance=Provenance(**{"source": "file", "name": "x.png", **provenance}),
                          features={n: 0.5 for n in REGISTRY}, feature_version=feature_set_version())


def test_uses_marsviz_home_and_wal_mode(home):
    catalog = Catalog()
    assert catalog.path == home / "catalog.sqlite" and catalog.path.exists()
    with sqlite3.connect(catalog.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_insert_get_and_find(home):
    catalog = Catalog()
    image_id = insert(catalog, source="nasa-images", source_id="PIA02818", mission="MGS", sol=12)
    row = catalog.get(image_id)
    assert row["mission"] == "MGS" and row["sol"] == 12 and row["dark_spot_ratio"] == 0.5
    assert catalog.find_by_sha(SHA) == image_id
    assert catalog.find_by_source_id("nasa-images", "PIA02818") == image_id
    assert catalog.find_by_source_id("msl", "PIA02818") is None


def test_same_content_is_not_added_twice(home):
    catalog = Catalog()
    assert insert(catalog) is not None
    assert insert(catalog, name="renamed.png") is None
    assert catalog.count() == 1


def test_revision_grows_with_every_write_only(home):
    catalog = Catalog()
    first = catalog.revision()
    catalog.frame()
    assert catalog.revision() == first
    insert(catalog)
    assert catalog.revision() > first


def test_frame_has_provenance_and_every_feature_column(home):
    catalog = Catalog()
    insert(catalog)
    frame = catalog.frame()
    assert {"id", "name", "source", "mission", "instrument", "credit", *REGISTRY} <= set(frame.columns)
    assert len(frame) == 1 and bool(frame.loc[0, "is_color"])


def test_synthetic_rows_can_be_left_out(home):
    catalog = Catalog()
    insert(catalog)
    insert(catalog, sha="cd" * 32, synthetic=True)
    assert catalog.count() == 2 and catalog.count(include_synthetic=False) == 1
    assert len(catalog.frame(include_synthetic=False)) == 1


def test_stale_rows_follow_the_feature_set_version(home):
    catalog = Catalog()
    image_id = insert(catalog)
    assert catalog.stale(feature_set_version()) == [] and catalog.stale_count(feature_set_version()) == 0
    assert [r["id"] for r in catalog.stale("older")] == [image_id] and catalog.stale_count("older") == 1


def test_an_empty_catalog_says_so_until_it_holds_an_image(home):
    catalog = Catalog()
    assert catalog.is_empty()
    insert(catalog)
    assert not catalog.is_empty()


def test_new_registry_features_get_columns_in_an_old_catalog(home, monkeypatch):
    Catalog()
    import dataclasses

    extra = dataclasses.replace(next(iter(REGISTRY.values())), name="brand_new_feature")
    monkeypatch.setitem(REGISTRY, "brand_new_feature", extra)
    assert "brand_new_feature" in Catalog().frame().columns


def test_an_unusable_data_folder_is_a_catalog_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CatalogError):
        Catalog(blocker / "home")


def test_ids_by_sha_finds_only_stored_content(home):
    catalog = Catalog()
    image_id = insert(catalog)
    others = [f"{i:064x}" for i in range(1200)]  # more than one query's worth
    assert catalog.ids_by_sha([SHA, *others, SHA]) == {SHA: image_id}
    assert catalog.ids_by_sha([]) == {}


def _open_when_told(home: str, go, errors) -> None:
    go.wait()
    try:
        Catalog(home)
    except CatalogError as error:
        errors.put(str(error))


def test_processes_creating_one_new_catalog_at_once_all_open_it(tmp_path):
    # Before the fix, about one trial in eight had a process refused with "database is locked" (the switch
    # to write-ahead logging does not wait for a busy database): 40 trials all passing by luck is < 1%.
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    for trial in range(40):
        go = context.Event()
        processes = [context.Process(target=_open_when_told, args=(str(tmp_path / f"home{trial}"), go, errors))
                     for _ in range(6)]
        for process in processes:
            process.start()
        go.set()
        for process in processes:
            process.join(timeout=120)
        assert [process.exitcode for process in processes] == [0] * 6
    assert errors.empty(), errors.get()
