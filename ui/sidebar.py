"""Sidebar widgets shared by every page."""

from __future__ import annotations

import streamlit as st

from marsviz.registry import REGISTRY
from marsviz.presets import DEFAULT_PRESET, PRESETS
from marsviz.scoring import weights_of_preset

PRESET_KEY = "preset"
#: Where :func:`weights` keeps the weights it drew this run, for :func:`chosen_weights`.
CHOSEN_KEY = "chosen_weights"


def _slider_key(name: str) -> str:
    return f"weight_{name}"


def _apply_preset() -> None:
    for name, value in weights_of_preset(st.session_state.get(PRESET_KEY, DEFAULT_PRESET)).items():
        st.session_state[_slider_key(name)] = float(value)


def weights() -> dict[str, float]:
    """A preset choice and sliders for the composite score's weights; returns the current weights by feature name.

    Choosing a preset sets the sliders to its weights; "Reset weights" sets them back to the chosen preset's.
    """
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
        chosen[feature_name] = st.sidebar.slider(feature.label, 0.0, 3.0, float(defaults[feature_name]), 0.1,
                                                 key=_slider_key(feature_name), help=help_text)
    if chosen != defaults:
        st.sidebar.caption(f"Weights changed from the {PRESETS[name].label} preset.")
    if not any(chosen.values()):
        st.sidebar.warning("All weights are 0: no composite score can be computed.")
    st.session_state[CHOSEN_KEY] = chosen
    return chosen


def chosen_weights() -> dict[str, float]:
    """The weights the sidebar drew in this run (``app.py`` draws it before the page runs); the default
    preset's where no sidebar was drawn."""
    return dict(st.session_state.get(CHOSEN_KEY) or weights_of_preset(DEFAULT_PRESET))
