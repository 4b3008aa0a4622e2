"""The Method page's account of the composite presets: what each asks, its weights, and how well it ranks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from marsviz.registry import REGISTRY
from marsviz.presets import DEFAULT_PRESET, PRESETS

_TASKS = {"ice_terrain": "ice terrain vs rest (held-out HiRISE crops)",
          "landmark": "any landmark vs other (held-out HiRISE crops)",
          "terrain_vs_hardware": "rover terrain vs hardware (later sols)"}


def measured_rows(evaluations: list[dict | None]) -> list[dict]:
    """The ``presets`` rows of the given evaluation summaries (missing summaries skipped)."""
    return [row for evaluation in evaluations if evaluation for row in evaluation.get("presets", [])]


def show(terrain_evaluation: dict | None, view_evaluation: dict | None) -> None:
    """One block per preset: its question, why these weights, the weights, and its measured ROC AUCs.

    A figure measured with weights other than the preset's own is not shown as the preset's: the evaluation
    files are then older than the presets, and the page says to train again.
    """
    rows = measured_rows([terrain_evaluation, view_evaluation])
    for name, preset in PRESETS.items():
        with st.container(border=True):
            st.subheader(preset.label + (" (the default)" if name == DEFAULT_PRESET else ""))
            weights = ", ".join(f"{REGISTRY[n].label} {w:g}" + (" (gates the others)" if REGISTRY[n].gates else "")
                                for n, w in preset.weights.items())
            st.markdown(f"**Asks.** {preset.question}\n\n**Why these weights.** {preset.reasoning}\n\n"
                        f"**Weights.** {weights}; every other feature 0.")
            own = [row for row in rows if row["preset"] == name]
            current = [row for row in own if row.get("weights") == {k: w for k, w in preset.weights.items() if w}]
            if not own:
                st.caption("Not measured yet: run `python -m marsviz train` and `train-view`.")
                continue
            if len(current) < len(own):
                st.warning("Some figures for this preset were measured with other weights; they are not shown. "
                           "Run `python -m marsviz train` and `train-view` again to measure these weights.")
            st.dataframe(pd.DataFrame([_table_row(row) for row in current]), hide_index=True)


def _table_row(row: dict) -> dict:
    scales = row.get("auc_at_scale") or {}
    return {"question": _TASKS.get(row["task"], row["task"]),
            "ROC AUC": f"{row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]",
            "average precision": f"{row['average_precision']:.3f}",
            "at 0.5x / 2x": " / ".join(f"{scales[k]:.3f}" for k in ("0.5", "2") if scales.get(k) is not None) or "-",
            "positives": f"{row['n_positive']} of {row['n_positive'] + row['n_negative']}"}
