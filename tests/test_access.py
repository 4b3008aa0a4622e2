"""Who may change things: read-only deployments, sign-in for changes, and who added each image.

The catalog side is tested directly; the pages through streamlit.testing.v1.AppTest, whose ``user``
attribute is what the app reads as ``st.user`` and whose ``secrets`` stand in for secrets.toml.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hostile.corpus import bands, encode
from test_app import run_app
from marsviz.access import identity, write_access
from marsviz.catalog import Catalog
from marsviz.errors import CatalogError
from marsviz.pipeline import add_bytes, reanalyse
from marsviz.provenance import Provenance

#: An [auth] section as secrets.toml would hold it (never contacted: the tests do not sign in for real).
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-only-secret",
        "client_id": "marsviz-test", "client_secret": "test-only", "server_metadata_url":
        "http://127.0.0.1:9/.well-known/openid-configuration"}
ADA = {"is_logged_in": True, "email": "ada@example.org", "sub": "oidc|1815", "name": "Ada"}


def png(seed: int = 0) -> bytes:
    return encode(bands("RGB", (80, 64), (200, 40 + seed, 30), (30, 60, 200 - seed)), "PNG")


def stored_files(home: Path) -> set[str]:
    """Every file in the data folder but SQLite's own (-wal, -shm) and the server log."""
    return {p.relative_to(home).as_posix() for p in home.rglob("*")
            if p.is_file() and not p.name.startswith("catalog.sqlite") and p.name != "streamlit.log"}




# -- the catalog refuses writes when opened read-only ------------------------------------------------------
def test_a_read_only_catalog_refuses_an_upload_and_stores_no_file(small_catalog_home):
    writer = Catalog(small_catalog_home)
    before_files, before, count = stored_files(small_catalog_home), writer.revision(), writer.count()
    catalog = Catalog(small_catalog_home, read_only=True)
    with pytest.raises(CatalogError, match="deployment is read-only"):
        add_bytes(catalog, png(), Provenance(source="upload", name="new.png"))
    with pytest.raises(CatalogError, match="read-only"):
        catalog.tmp_dir  # where a scrape downloads to
    with pytest.raises(CatalogError, match="read-only"):
        catalog.update_features([(1, {})], "v-new")
    assert stored_files(small_catalog_home) == before_files
    assert writer.revision() == before and writer.count() == count


def test_a_read_only_catalog_does_not_refresh_stale_features(small_catalog_home):
    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET feature_version = 'old' WHERE id <= 2")
    with pytest.raises(CatalogError, match="read-only"):
        reanalyse(Catalog(small_catalog_home, read_only=True), workers=1)
    assert (Catalog(small_catalog_home).frame()["feature_version"] == "old").sum() == 2


def test_a_read_only_catalog_sees_what_another_writer_adds(small_catalog_home):
    reader = Catalog(small_catalog_home, read_only=True)
    count = reader.count()
    assert add_bytes(Catalog(small_catalog_home), png(), Provenance(source="file", name="cli.png")).status == "added"
    assert reader.count() == count + 1


def test_opening_read_only_creates_nothing(tmp_path):
    home = tmp_path / "nothing-here"
    with pytest.raises(CatalogError, match="no catalog in .* yet, and this deployment is read-only"):
        Catalog(home, read_only=True)
    assert not home.exists()


def test_an_older_catalog_gets_the_added_by_column(tmp_path):
    home = tmp_path / "home"
    image_id = add_bytes(Catalog(home), png(), Provenance(source="file", name="old.png")).image_id
    with sqlite3.connect(home / "catalog.sqlite") as conn:
        conn.execute("ALTER TABLE images DROP COLUMN added_by")
    with pytest.raises(CatalogError, match="older marsviz version"):
        Catalog(home, read_only=True)  # a read-only catalog cannot be brought up to date
    assert Catalog(home).get(image_id)["added_by"] == ""
    assert Catalog(home, read_only=True).frame()["added_by"].tolist() == [""]


def test_an_image_records_who_added_it(tmp_path):
    catalog = Catalog(tmp_path / "home")
    result = add_bytes(catalog, png(), Provenance(source="upload", name="a.png", added_by="ada@example.org"))
    assert catalog.get(result.image_id)["added_by"] == "ada@example.org"


# -- the rule -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user, read_only, sign_in, expected", [
    ({}, False, False, (True, "", "")),
    ({"email": "platform@example.org"}, False, False, (True, "", "")),  # an email without sign-in is not trusted
    ({"is_logged_in": False}, False, True, (False, "sign_in", "")),
    ({}, False, True, (False, "sign_in", "")),
    (ADA, False, True, (True, "", "ada@example.org")),
    ({"is_logged_in": True, "sub": "oidc|42"}, False, True, (True, "", "oidc|42")),
    (ADA, True, True, (False, "read_only", "")),
    ({}, True, False, (False, "read_only", "")),
])
def test_write_access(user, read_only, sign_in, expected):
    decision = write_access(user, read_only=read_only, sign_in_required=sign_in)
    assert (decision.allowed, decision.reason, decision.added_by) == expected


def test_identity_is_the_email_else_the_subject_of_a_signed_in_user():
    assert identity(ADA) == "ada@example.org"
    assert identity({**ADA, "email": ""}) == "oidc|1815"
    assert identity({**ADA, "is_logged_in": False}) == ""


# -- read-only mode in the app ---------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["app_pages/upload.py", "app_pages/scrape.py"])
def test_read_only_mode_has_no_upload_or_scrape_page(small_catalog_home, monkeypatch, page):
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    app = run_app()
    assert not app.exception
    with pytest.raises(ValueError, match="not a registered page|registered"):
        app.switch_page(page)


@pytest.mark.parametrize("page", ["app_pages/ranking.py", "app_pages/explore.py", "app_pages/method.py"])
def test_read_only_mode_browses_without_write_controls(small_catalog_home, monkeypatch, page):
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    image_id = int(Catalog().frame()["id"].iloc[2])
    before = Catalog().revision()
    app = run_app(page, image=str(image_id))
    assert not app.exception
    assert len(app.get("file_uploader")) == 0
    assert not [b for b in app.button if b.label in ("Start scrape", "Sign in to upload", "Sign in to scrape")]
    assert any("Read-only deployment" in c.value for c in app.sidebar.caption)
    if page != "app_pages/method.py":
        assert [m for m in app.markdown if m.value.startswith("####")]  # the deep link opened the viewer
    assert Catalog().revision() == before


def test_read_only_mode_does_not_load_the_samples_into_an_empty_catalog(home, monkeypatch):
    Catalog(home)
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    app = run_app()
    assert not app.exception
    assert any("empty, and this deployment is read-only" in i.value for i in app.info)
    assert Catalog(home).count() == 0 and stored_files(home) == set()


def test_read_only_mode_without_a_catalog_says_so_and_creates_nothing(home, monkeypatch):
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    app = run_app()
    assert not app.exception
    assert any("no catalog in" in e.value and "read-only" in e.value for e in app.error)
    assert not home.exists()


def test_read_only_mode_leaves_stale_features_and_says_so(small_catalog_home, monkeypatch):
    with sqlite3.connect(small_catalog_home / "catalog.sqlite") as conn:
        conn.execute("UPDATE images SET feature_version = 'old' WHERE id <= 3")
    monkeypatch.setenv("MARSVIZ_READ_ONLY", "1")
    app = run_app()
    assert not app.exception
    assert any("read-only here" in w.value and "python -m marsviz analyze" in w.value for w in app.warning)
    assert (Catalog().frame()["feature_version"] == "old").sum() == 3


# -- sign-in for changes ---------------------------------------------------------------------------------------
def test_signed_out_upload_page_shows_the_sign_in_button_and_no_uploader(small_catalog_home):
    app = run_app("app_pages/upload.py", user={"is_logged_in": False}, secrets={"auth": AUTH})
    assert not app.exception
    assert "Sign in to upload" in [b.label for b in app.button]
    assert len(app.get("file_uploader")) == 0


def test_a_sign_in_that_cannot_start_says_why_instead_of_the_error_page(small_catalog_home, monkeypatch):
    import streamlit as st
    from streamlit.errors import StreamlitAuthError

    def broken_login(*args, **kwargs):  # as st.login fails without Authlib or with a bad [auth] section
        raise StreamlitAuthError("To use authentication features, you need to install Authlib>=1.3.2")

    monkeypatch.setattr(st, "login", broken_login)  # AppTest runs the page in this process
    app = run_app("app_pages/upload.py", user={"is_logged_in": False}, secrets={"auth": AUTH})
    [b for b in app.button if b.label == "Sign in to upload"][0].click().run()
    assert not app.exception
    assert any(e.value.startswith("Sign-in is not set up correctly on this server") for e in app.error)
    assert len(app.get("file_uploader")) == 0


def test_signed_in_upload_records_who_added_the_image(small_catalog_home):
    app = run_app("app_pages/upload.py", user=ADA, secrets={"auth": AUTH})
    assert not app.exception
    assert any("Signed in as ada@example\\.org" in c.value for c in app.sidebar.caption)
    app.file_uploader[0].set_value([("mine.png", png(7), "image/png")]).run()
    assert not app.exception
    frame = Catalog().frame()
    assert frame.loc[frame["name"] == "mine.png", "added_by"].tolist() == ["ada@example.org"]
    assert set(frame.loc[frame["name"] != "mine.png", "added_by"]) == {""}


def test_without_sign_in_configured_an_upload_records_nobody(small_catalog_home):
    app = run_app("app_pages/upload.py")  # AppTest's default user has an email but is not signed in
    app.file_uploader[0].set_value([("anon.png", png(9), "image/png")]).run()
    assert not app.exception
    frame = Catalog().frame()
    assert frame.loc[frame["name"] == "anon.png", "added_by"].tolist() == [""]


def test_signed_out_scrape_page_shows_the_sign_in_button_and_no_form(small_catalog_home):
    app = run_app("app_pages/scrape.py", user={"is_logged_in": False}, secrets={"auth": AUTH})
    assert not app.exception
    assert "Sign in to scrape" in [b.label for b in app.button]
    assert "Start scrape" not in [b.label for b in app.button]
    assert len(app.main.selectbox) == 0  # no scrape form (the sidebar holds the preset choice)


# -- URLs and names that used to break the viewer --------------------------------------------------------------
@pytest.mark.parametrize("page", ["app_pages/ranking.py", "app_pages/explore.py"])
@pytest.mark.parametrize("raw", ["9223372036854775808", "-99999999999999999999", "9223372036854775807"])
def test_an_image_id_outside_sqlite_integers_is_no_such_image(small_catalog_home, page, raw):
    app = run_app(page, image=raw)
    assert not app.exception
    assert any(f"no image with id {raw} in this catalog" in w.value for w in app.warning)


def test_a_very_long_name_is_cut_in_the_heading_and_kept_in_the_metadata(home):
    name = "ESP_" + "0123456789" * 2100 + ".png"  # 21,008 characters
    image_id = add_bytes(Catalog(home), png(3), Provenance(source="upload", name=name)).image_id
    app = run_app("app_pages/explore.py", image=str(image_id))
    assert not app.exception
    (heading,) = [m.value for m in app.markdown if m.value.startswith("####")]
    shown = heading.removeprefix("#### ").replace("\\", "")
    assert len(shown) <= 120 and shown.endswith("…") and name.startswith(shown[:-1])
    (metadata,) = [e for e in app.expander if e.label == "Metadata and provenance"]
    fields = metadata.table[0].value.set_index("field")["value"].str.replace("\\", "")  # Markdown-escaped
    assert fields["name"] == name
    assert "added_by" not in fields.index  # an email address is not shown to every visitor
