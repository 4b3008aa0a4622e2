"""Every setting is documented in the README and can be overridden from the environment."""

from pathlib import Path

import pytest

from marsviz import config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(config.SETTINGS))
def test_every_setting_is_documented(name):
    setting = config.SETTINGS[name]
    assert f"`{setting.env_var}`" in README
    assert setting.help.strip()


def test_environment_overrides_keep_the_type(monkeypatch):
    monkeypatch.setenv("MARSVIZ_ANALYSIS_MAX_SIDE", "300")
    assert config.get("analysis_max_side") == 300
    monkeypatch.setenv("MARSVIZ_HOME", "/tmp/somewhere")
    assert config.home() == Path("/tmp/somewhere")


def test_readme_commands_match_ci():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_command = "pip install -e . -r requirements-dev.txt && python -m pytest"
    assert test_command in README and test_command in ci
    assert "pip install -e . && streamlit run app.py" in README


#: Values of the hardening issue that gave tracebacks or blamed the image, and one of each other kind.
BAD_VALUES = [("MARSVIZ_ANALYSIS_MAX_SIDE", "abc", "a whole number of 64 or more"),
              ("MARSVIZ_THUMBNAIL_SIDE", "0", "a whole number of 16 or more"),
              ("MARSVIZ_WORKERS", "two", "a whole number of 0 or more"),
              ("MARSVIZ_HTTP_TIMEOUT", "-1", "a number above 0"),
              ("MARSVIZ_HTTP_TIMEOUT", "0", "a number above 0"),
              ("MARSVIZ_HTTP_BACKOFF", "nan", "a number of 0 or more"),
              ("MARSVIZ_MAX_UPLOAD_BYTES", "-5", "a whole number of 1 or more"),
              ("MARSVIZ_MAX_IMAGE_PIXELS", "1.5e8", "a whole number"),
              ("MARSVIZ_HOME", " ", "text that is not only spaces")]


@pytest.mark.parametrize("variable, value, accepts", BAD_VALUES)
def test_a_bad_value_names_the_variable_and_what_it_accepts(monkeypatch, variable, value, accepts):
    monkeypatch.setenv(variable, value)
    name = variable.removeprefix("MARSVIZ_").lower()
    with pytest.raises(config.SettingError) as raised:
        config.get(name)
    assert str(raised.value).startswith(f"{variable}={value!r} is not accepted")
    assert accepts in str(raised.value)
    with pytest.raises(config.SettingError, match=variable):
        config.check()


@pytest.mark.parametrize("variable, value, accepts", BAD_VALUES)
def test_the_command_line_says_which_setting_is_bad_and_exits_2(monkeypatch, capsys, tmp_path, variable, value,
                                                                accepts):
    from marsviz.cli import main

    image = tmp_path / "frame.png"
    from PIL import Image

    Image.new("RGB", (64, 48), "red").save(image)
    monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)
    assert main(["--home", str(tmp_path / "home"), "add", str(image)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"marsviz: {variable}={value!r} is not accepted: it takes {accepts}"
                                + err.split(accepts, 1)[1].splitlines()[0]]
    assert "Traceback" not in err and "image" not in err.split(" It sets:")[0]
    assert not (tmp_path / "home").exists() and not (tmp_path / " ").exists()


def test_every_bad_setting_is_listed_at_once(monkeypatch):
    monkeypatch.setenv("MARSVIZ_WORKERS", "two")
    monkeypatch.setenv("MARSVIZ_HTTP_TIMEOUT", "-1")
    with pytest.raises(config.SettingError) as raised:
        config.check()
    lines = str(raised.value).splitlines()
    assert len(lines) == 2 and lines[0].startswith("MARSVIZ_HTTP_TIMEOUT") and lines[1].startswith("MARSVIZ_WORKERS")


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("Yes", True), (" on ", True),
                                             ("0", False), ("false", False), ("NO", False), ("off", False)])
def test_switches_read_the_usual_words(value, expected):
    switch = config.Setting("example_switch", False, "An example.")
    assert switch.parse(value) is expected


def test_a_switch_refuses_other_words():
    with pytest.raises(config.SettingError, match="1, true, yes or on; 0, false, no or off"):
        config.Setting("example_switch", False, "An example.").parse("maybe")


def test_good_values_and_bounds_are_accepted(monkeypatch):
    monkeypatch.setenv("MARSVIZ_WORKERS", "0")
    monkeypatch.setenv("MARSVIZ_HTTP_RATE", "0")
    monkeypatch.setenv("MARSVIZ_HTTP_TIMEOUT", " 2.5 ")
    config.check()
    assert (config.get("workers"), config.get("http_rate"), config.get("http_timeout")) == (0, 0.0, 2.5)


def test_the_app_shows_the_bad_setting_instead_of_a_traceback(home, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MARSVIZ_THUMBNAIL_SIDE", "0")
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert "setting" in app.error[0].value
    assert "MARSVIZ_THUMBNAIL_SIDE='0' is not accepted" in app.code[0].value
    assert not home.exists()  # nothing was written before the check


@pytest.mark.parametrize("name", list(config.SETTINGS))
def test_the_readme_states_each_default_and_what_it_accepts(name):
    setting = config.SETTINGS[name]
    row = next(line for line in README.splitlines() if line.startswith(f"| `{setting.env_var}` |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == f"`{setting.default}`" and cells[2] == setting.accepts


def test_analysis_settings_are_read_once_from_the_environment_and_checked(monkeypatch):
    assert config.AnalysisSettings() == config.AnalysisSettings(max_side=512, tile_side=227)
    monkeypatch.setenv("MARSVIZ_TERRAIN_TILE_SIDE", "150")
    settings = config.AnalysisSettings.from_environment()
    assert settings == config.AnalysisSettings(tile_side=150)
    assert settings.version_parts() == ["analysis_max_side=512", "terrain_tile_side=150"]
    monkeypatch.setenv("MARSVIZ_TERRAIN_TILE_SIDE", "abc")
    with pytest.raises(config.SettingError, match="MARSVIZ_TERRAIN_TILE_SIDE='abc'"):
        config.AnalysisSettings.from_environment()
    for bad in [dict(max_side=63), dict(tile_side=150.0), dict(tile_side=True)]:
        with pytest.raises(config.SettingError, match="is not accepted: it takes a whole number"):
            config.AnalysisSettings(**bad)
