"""A person's labels: stored by content in the catalog, safe under concurrent writers, moved by file."""

import multiprocessing
import sqlite3

import numpy as np
import pandas as pd
import pytest

from marsviz.catalog import Catalog
from marsviz.errors import CatalogError, LabelConflict, LabelsError
from marsviz.labels import labels_csv, next_unreviewed, normalise_label, read_labels_csv, with_labels
from marsviz.pipeline import add_paths, reanalyse
from marsviz.registry import feature_set_version
from marsviz.samples import SAMPLES_DIR
from tests.test_catalog import insert


def test_a_label_is_set_read_and_replaced_and_its_history_kept(home):
    catalog = Catalog()
    image_id = insert(catalog)
    first = catalog.set_label(image_id, " Dark  dune", "fans on frost", "ana")
    assert catalog.label_of(image_id) == first
    assert (first.label, first.note, first.labeled_by) == ("dark_dune", "fans on frost", "ana")
    second = catalog.set_label(image_id, "spider", labeled_by="bo")
    assert second.change > first.change
    assert catalog.label_of(image_id).label == "spider"
    assert catalog.clear_label(image_id, "ana") is True
    assert catalog.label_of(image_id) is None and catalog.clear_label(image_id) is False
    assert [(c["label"], c["labeled_by"]) for c in catalog.label_history(image_id)] == [
        ("", "ana"), ("spider", "bo"), ("dark_dune", "ana")]


def test_labeling_changes_the_label_revision_and_not_the_catalog_revision(home):
    # The app's ranking is cached per catalog revision: a label click must not rebuild it.
    catalog = Catalog()
    image_id = insert(catalog)
    revision, labels_revision = catalog.revision(), catalog.labels_revision()
    catalog.set_label(image_id, "interesting")
    assert catalog.revision() == revision and catalog.labels_revision() > labels_revision


@pytest.mark.parametrize("text, reason", [("   ", "empty"), ("x" * 61, "at most 60"), ("a\x1bb", "control")])
def test_an_invalid_label_is_refused_and_nothing_is_written(home, text, reason):
    catalog = Catalog()
    image_id = insert(catalog)
    with pytest.raises(LabelsError, match=reason):
        catalog.set_label(image_id, text)
    assert catalog.label_of(image_id) is None and catalog.labels_revision() == 0


def test_a_stale_writer_gets_a_clear_message_and_the_other_label_is_kept(home):
    catalog = Catalog()
    image_id = insert(catalog)
    shown = catalog.label_of(image_id)  # both sessions show the image unlabeled
    catalog.set_label(image_id, "crater", labeled_by="ana", expected=shown)
    with pytest.raises(LabelConflict, match="ana labeled it “crater” at .* UTC.*not saved"):
        catalog.set_label(image_id, "interesting", labeled_by="bo", expected=shown)
    assert catalog.label_of(image_id).label == "crater"
    seen_now = catalog.label_of(image_id)
    catalog.clear_label(image_id, "ana", expected=seen_now)
    with pytest.raises(LabelConflict, match="ana removed its label"):
        catalog.set_label(image_id, "interesting", expected=seen_now)
    assert catalog.set_label(image_id, "interesting", expected=None).label == "interesting"


def test_labeling_an_image_that_is_gone_says_so(home):
    catalog = Catalog()
    image_id = insert(catalog)
    with sqlite3.connect(catalog.path) as conn:  # removed by another tool since it was shown
        conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
    with pytest.raises(LabelConflict, match=f"no image with id {image_id}"):
        catalog.set_label(image_id, "crater", expected=None)


def test_a_read_only_catalog_refuses_labels(home):
    image_id = insert(Catalog())
    with pytest.raises(CatalogError, match="read-only"):
        Catalog(read_only=True).set_label(image_id, "crater")


def test_labels_survive_reanalysis_a_new_feature_version_and_a_re_add(home):
    catalog = Catalog()
    sample = SAMPLES_DIR / "mro_hirise_spider_ESP_049509_1075_RED-0010.jpg"
    [added] = add_paths(catalog, [sample], workers=1)
    catalog.set_label(added.image_id, "spider", "seasonal fans")
    catalog.update_features([(added.image_id, {})], "an-older-feature-version")
    assert reanalyse(catalog, workers=1).updated == 1
    assert catalog.get(added.image_id)["feature_version"] == feature_set_version()
    [again] = add_paths(catalog, [sample], workers=1)
    assert again.status == "duplicate"
    kept = catalog.label_of(added.image_id)
    assert (kept.label, kept.note) == ("spider", "seasonal fans")


def test_labels_move_between_catalogs_by_content_not_by_id(tmp_path):
    names = ["mro_hirise_spider_ESP_049509_1075_RED-0010.jpg", "mgs_moc_na_calibrated.png",
             "viking_orbiter_PIA00407.jpg"]
    source, target = Catalog(tmp_path / "a"), Catalog(tmp_path / "b")
    ids = {r.name: r.image_id for r in add_paths(source, [SAMPLES_DIR / n for n in names], workers=1)}
    target_ids = {r.name: r.image_id for r in add_paths(target, [SAMPLES_DIR / n for n in reversed(names[:2])],
                                                         workers=1)}
    assert target_ids[names[0]] != ids[names[0]]  # added in another order: other ids
    source.set_label(ids[names[0]], "spider", "a, \"quoted\" note\nover two lines", "ana")
    source.set_label(ids[names[2]], "other")  # not in the target catalog
    target.set_label(target_ids[names[1]], "crater")
    file = tmp_path / "labels.csv"
    file.write_text(labels_csv(source.labels()), encoding="utf-8")

    counts = target.import_labels(read_labels_csv(file), "importer")
    assert counts == {"set": 1, "replaced": 0, "unchanged": 0, "not_in_catalog": 1}
    moved = target.label_of(target_ids[names[0]])
    assert (moved.label, moved.note, moved.labeled_by) == ("spider", "a, \"quoted\" note\nover two lines", "ana")
    assert moved.labeled_at == source.label_of(ids[names[0]]).labeled_at
    assert target.label_of(target_ids[names[1]]).label == "crater"
    assert target.import_labels(read_labels_csv(file))["unchanged"] == 1


@pytest.mark.parametrize("content, message", [
    ("label\ncrater\n", "needs the columns sha256 and label"),
    (f"sha256,label\n{'ab' * 32},crater\nnot-a-hash,crater\n", "line 3: 'not-a-hash' is not a SHA-256"),
    (f"sha256,label\n{'ab' * 32},\n", "line 2: a label cannot be empty"),
])
def test_a_bad_labels_file_is_refused_whole_naming_its_line(tmp_path, content, message):
    file = tmp_path / "labels.csv"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(LabelsError, match=message):
        read_labels_csv(file)


def test_with_labels_adds_the_label_columns_by_id(home):
    catalog = Catalog()
    first, second = insert(catalog), insert(catalog, sha="cd" * 32)
    catalog.set_label(second, "crater", "rim", "ana")
    table = with_labels(pd.DataFrame({"id": [first, second], "name": ["a", "b"]}), catalog.labels())
    assert table["label"].tolist() == [None, "crater"] and table["note"].tolist() == [None, "rim"]


def test_next_unreviewed_walks_the_order_skipping_labeled_images_and_wraps():
    order = np.array([10, 20, 30, 40, 50])
    assert next_unreviewed(order, 10, np.array([20, 30])) == 40
    assert next_unreviewed(order, 50, np.array([10])) == 20  # wraps to the top
    assert next_unreviewed(order, 99, np.array([])) == 10  # not in this order: from the top
    assert next_unreviewed(order, 30, np.array([10, 20, 40, 50])) is None  # only the open one is left
    assert normalise_label("Not-Interesting") == "not_interesting"


def _label_many(home: str, worker: int, ids: list[int], go) -> None:
    go.wait()
    catalog = Catalog(home)
    for image_id in ids:
        catalog.set_label(image_id, f"class_{worker}", labeled_by=f"worker {worker}")


def test_labelers_in_several_processes_at_once_lose_nothing(tmp_path):
    catalog = Catalog(tmp_path / "home")
    ids = [insert(catalog, sha=f"{i:064x}") for i in range(65)]
    context = multiprocessing.get_context("fork")
    go = context.Event()
    # Four writers: each labels its own 15 images, and every writer also labels the 5 shared ones.
    shared = ids[:5]
    own = [ids[5 + 15 * w:5 + 15 * (w + 1)] for w in range(4)]
    processes = [context.Process(target=_label_many, args=(str(catalog.home), w, shared + own[w], go))
                 for w in range(4)]
    for process in processes:
        process.start()
    go.set()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * 4
    labels = catalog.labels().set_index("id")
    assert len(labels) == 65  # every image labeled once, the shared ones by whoever came last
    for w in range(4):
        assert (labels.loc[own[w], "label"] == f"class_{w}").all()
    assert sum(len(catalog.label_history(i)) for i in ids) == 4 * 20  # every change is in the history
