"""New to you: the images least like anything reviewed come first, with the descriptors that make them new."""

import numpy as np
import pytest

from marsviz.catalog import Catalog
from marsviz.novelty import (Standardisation, catalog_novelty, catalog_reviewed_model, descriptor_standardisation,
                             novelty_order, reviewed_model)
from tests.test_app import run_app

DIMENSIONS = 40
NAMES = [f"d{i}" for i in range(DIMENSIONS)]


def standardisation(rows):
    return Standardisation(rows.mean(axis=0), rows.std(axis=0))


def clusters(seed=0):
    """Two kinds of images, 30 of A and 10 of B: descriptors that vary together (three underlying factors, as
    real descriptors do), B's d4 shifted."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(3, DIMENSIONS))

    def kind(n):
        return rng.normal(size=(n, 3)) @ loadings + 0.1 * rng.normal(size=(n, DIMENSIONS))

    a, b = kind(30), kind(10)
    b[:, 4] += 3.0
    return a, b


def test_images_unlike_the_reviewed_ones_come_first_and_say_why():
    a, b = clusters()
    everything = np.vstack([a, b])
    model = reviewed_model(a[:12], standardisation(everything))
    values = model.novelty(everything)
    places = novelty_order(values)
    assert set(np.flatnonzero(places <= 10)) == set(range(30, 40))  # every B image before any A image
    (name, residual), (_, second), _ = model.why(b[0], NAMES)
    assert name == "d4" and residual > 2 * abs(second) > 0  # more of d4 than anything reviewed, above all else


def test_reviewing_a_kind_makes_it_old():
    a, b = clusters(1)
    everything = np.vstack([a, b])
    scaling = standardisation(everything)
    def b_against_a(model):  # how much newer the unreviewed B images are than the unreviewed A images
        return model.novelty(b[3:]).mean() / model.novelty(a[12:]).mean()

    assert b_against_a(reviewed_model(a[:12], scaling)) > 1.5
    assert b_against_a(reviewed_model(np.vstack([a[:12], b[:3]]), scaling)) < 1.25  # three B labeled: B is old


def test_with_nothing_reviewed_the_order_is_distance_from_the_catalogs_mean():
    a, b = clusters(2)
    everything = np.vstack([a, b])
    scaling = standardisation(everything)
    model = reviewed_model(np.empty((0, DIMENSIONS)), scaling)
    assert model.reviewed == 0
    assert np.allclose(model.novelty(everything), np.sqrt(np.mean(scaling.apply(everything) ** 2, axis=1)))


def test_catalog_novelty_reads_the_stored_descriptors(small_catalog_home):
    catalog = Catalog()
    frame = catalog.frame()
    orbital = frame.loc[frame["view"] == "orbital", "id"].tolist()
    model = catalog_reviewed_model(catalog, orbital, descriptor_standardisation())
    ids, values = catalog_novelty(catalog, model)
    assert sorted(ids.tolist()) == sorted(frame["id"].tolist())
    views = frame.set_index("id").loc[ids, "view"].to_numpy()
    assert values[views != "orbital"].mean() > values[views == "orbital"].mean()


@pytest.mark.parametrize("via_link", [False, True])
def test_the_ranking_sorted_new_to_you_puts_unreviewed_kinds_first(small_catalog_home, via_link):
    catalog = Catalog()
    frame = catalog.frame()
    orbital = frame.loc[frame["view"] == "orbital", "id"].tolist()
    assert 3 <= len(orbital) < len(frame)
    for image_id in orbital:
        catalog.set_label(image_id, "orbital")
    if via_link:
        app = run_app("app_pages/ranking.py", sort="new_to_you")
    else:
        app = run_app("app_pages/ranking.py")
        app.selectbox(key="ranking_sort").select("new_to_you").run()
    assert not app.exception
    shown = app.dataframe[0].value
    others = len(frame) - len(orbital)
    assert set(shown["view"].head(others)) == set(frame["view"]) - {"orbital"}  # every other kind first
    assert app.query_params["sort"] == "new_to_you"

    viewer = run_app("app_pages/ranking.py", image=str(int(frame["id"].iloc[0])))
    assert any(c.value.startswith("New to you: ") and f"from the {len(orbital)} images reviewed" in c.value
               for c in viewer.caption)


def test_rank_new_to_you_on_the_command_line_orders_by_novelty_and_says_why(small_catalog_home):
    import json
    import subprocess
    import sys

    from tests.test_cli import ROOT

    catalog = Catalog()
    frame = catalog.frame()
    for image_id in frame.loc[frame["view"] == "orbital", "id"]:
        catalog.set_label(int(image_id), "orbital")
    done = subprocess.run([sys.executable, "-m", "marsviz", "--home", str(small_catalog_home), "rank", "--new-to-you",
                           "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    values = [r["new_to_you"] for r in records]
    assert values == sorted(values, reverse=True) and len(records) == len(frame)
    assert records[0]["view"] != "orbital" and records[0]["new_in"].count(" sd") == 3
    table = subprocess.run([sys.executable, "-m", "marsviz", "--home", str(small_catalog_home), "rank", "--new-to-you"],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert table.stdout.startswith("New to you") and records[0]["name"][:40] in table.stdout
