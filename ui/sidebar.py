"""Sidebar widgets shared by every page: the preset and the score weights, kept in the URL."""

from __future__ import annotations

import streamlit as st

from marsviz.registry import REGISTRY
from marsviz.presets import DEFAULT_PRESET, PRESETS
from marsviz.scoring import weights_of_preset
from ui import links

PRESET_KEY = "preset"
#: Where :func:`weights` keeps the weights it drew this run, for :func:`chosen_weights`.
CHOSEN_KEY = "chosen_weights"
#: URL parameters: the preset (when not the default) and the weights that differ from it.
PRESET_PARAM, WEIGHTS_PARAM = "preset", "weights"
WEIGHT_RANGE = (0.0, 3.0)


def _slider_key(name: str) -> str:
    return f"weight_{name}"


def _apply_preset() -> None:
    for name, value in weights_of_preset(st.session_state.get(PRESET_KEY, DEFAULT_PRESET)).items():
        st.session_state[_slider_key(name)] = float(value)


def weights_param(weights: dict[str, float], preset: dict[str, float]) -> str:
    """The weights that differ from the preset's, as a URL parameter value (empty when none differ).

    Examples
    --------
    >>> weights_param({"edge_ratio": 1.5, "dark_spot_ratio": 1.0}, {"edge_ratio": 1.0, "dark_spot_ratio": 1.0})
    'edge_ratio:1.5'
    """
    return ",".join(f"{name}:{value:g}" for name, value in weights.items() if value != preset.get(name))


def parse_weights_param(text: str) -> dict[str, float]:
    """Weights by feature name from a :func:`weights_param` value; unknown names and values that are not
    numbers are left out, others are clamped to the sliders' range and step (0 to 3, by 0.1).

    Examples
    --------
    >>> parse_weights_param("edge_ratio:1.46,nonsense:2,dark_spot_ratio:x,colour_variation:9")
    {'edge_ratio': 1.5, 'colour_variation': 3.0}
    """
    parsed = {}
    for item in text.split(","):
        name, _, value = item.partition(":")
        try:
            number = float(value)
        except ValueError:
            continue
        if name in REGISTRY and number == number:
            parsed[name] = round(min(max(number, WEIGHT_RANGE[0]), WEIGHT_RANGE[1]), 1)
    return parsed


def _seed_from_link() -> None:
    """On a session's first run, set the preset and sliders from the URL (or the default preset)."""
    if PRESET_KEY in st.session_state:
        return
    asked = (links.link_values(PRESET_PARAM) or [DEFAULT_PRESET])[-1]
    st.session_state[PRESET_KEY] = asked if asked in PRESETS else DEFAULT_PRESET
    weights = {**weights_of_preset(st.session_state[PRESET_KEY]),
               **parse_weights_param((links.link_values(WEIGHTS_PARAM) or [""])[-1])}
    for name, value in weights.items():
        st.session_state[_slider_key(name)] = float(value)


def weights() -> dict[str, float]:
    """A preset choice and sliders for the composite score's weights; returns the current weights by feature name.

    Choosing a preset sets the sliders to its weights; "Reset weights" sets them back to the chosen preset's.
    A link's ``preset`` and ``weights`` parameters set them when a session starts, and the URL then
    follows every change.
    """
    _seed_from_link()
    st.sidebar.subheader("Score weights")
    name = st.sidebar.selectbox("Preset", list(PRESETS), format_func=lambda key: PRESETS[key].label,
                                key=PRESET_KEY, on_change=_apply_preset,
                                help="Sets every weight below for one question; the Method page gives each "
                                     "preset's measured ROC AUC.")
    st.sidebar.caption(PRESETS[name].question)
    defaults = weights_of_preset(name)
    st.sidebar.button("Reset weights", key="reset_weights", on_click=_apply_preset)
    chosen = {}
    for feature_name, feature in REGISTRY.items():
        help_text = feature.measures
        if feature.gates:
            help_text += (" Every other feature counts only as far as the frame is likely to show terrain (its value "
                          "is multiplied by this probability), and this probability counts with its weight too; "
                          "at 0 it is not used.")
        # The value lives in session state only (seeded above), so setting it from a callback never
        # conflicts with a default passed here.
        st.session_state.setdefault(_slider_key(feature_name), float(defaults[feature_name]))
        chosen[feature_name] = st.sidebar.slider(feature.label, *WEIGHT_RANGE, step=0.1,
                                                 key=_slider_key(feature_name), help=help_text)
    if chosen != defaults:
        st.sidebar.caption(f"Weights changed from the {PRESETS[name].label} preset.")
    if not any(chosen.values()):
        st.sidebar.warning("All weights are 0: no composite score can be computed.")
    st.session_state[CHOSEN_KEY] = chosen
    links.write_link({PRESET_PARAM: "" if name == DEFAULT_PRESET else name,
                      WEIGHTS_PARAM: weights_param(chosen, defaults)}, (PRESET_PARAM, WEIGHTS_PARAM))
    return chosen


def chosen_weights() -> dict[str, float]:
    """The weights the sidebar drew in this run (``app.py`` draws it before the page runs); the default
    preset's where no sidebar was drawn."""
    return dict(st.session_state.get(CHOSEN_KEY) or weights_of_preset(DEFAULT_PRESET))


def warn_if_unweighted(weights: dict[str, float]) -> None:
    """At the top of a page: say that with every weight at 0 the order shown is the catalog's, not a ranking."""
    if not any(weights.values()):
        st.warning("Every weight is 0, so there is no composite score: images are listed in the order they were "
                   "added, not ranked. Set a weight in the sidebar, or choose a preset.", icon=":material/warning:")
