"""Sidebar widgets shared by every page."""

from __future__ import annotations

import streamlit as st

from marsviz.features import REGISTRY
from marsviz.scoring import default_weights


def weights() -> dict[str, float]:
    """Sliders for the composite score's weights; returns the current weights by feature name."""
    st.sidebar.subheader("Score weights")
    defaults = default_weights()
    if st.sidebar.button("Reset weights", key="reset_weights"):
        for name, value in defaults.items():
            st.session_state[f"weight_{name}"] = float(value)
    chosen = {}
    for name, feature in REGISTRY.items():
        chosen[name] = st.sidebar.slider(feature.label, 0.0, 3.0, float(defaults[name]), 0.1,
                                         key=f"weight_{name}", help=feature.measures)
    if not any(chosen.values()):
        st.sidebar.warning("All weights are 0: no composite score can be computed.")
    return chosen


def weights_key(chosen: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """Weights as a hashable, ordered cache key."""
    return tuple((name, float(chosen[name])) for name in REGISTRY)


def current_weights() -> dict[str, float]:
    """The weights the sidebar sliders hold now (defaults before they are first drawn)."""
    defaults = default_weights()
    return {name: float(st.session_state.get(f"weight_{name}", defaults[name])) for name in REGISTRY}
