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
