"""The sidebar's "Your labels" panel: how many there are, and the button that fits "Your labels, trained"."""

from __future__ import annotations

import streamlit as st

from marsviz.errors import MarsvizError
from marsviz.labels import moment, shown
from marsviz.learn import LEARNED_LABEL, MIN_PER_CLASS, train_from_catalog
from ui import access, data, review
from ui.text import escape_markdown

#: Session-state keys: the label to learn to find, and the outcome of the last fit.
POSITIVE_KEY, MESSAGE_KEY = "learn_positive", "learn_message"


def _train(positive: str) -> None:
    try:
        model = train_from_catalog(data.get_catalog(), [positive], fitted_by=review.reviewer())
        st.session_state[MESSAGE_KEY] = ("success", f"Fitted: {model.describe()}.")
    except MarsvizError as error:
        st.session_state[MESSAGE_KEY] = ("error", str(error))


def sidebar_panel() -> None:
    """Draw the panel: the latest fit (what on, its cross-validated ROC AUC, when, by whom), a choice of the
    label to learn to find, and "Train" once there are :data:`MIN_PER_CLASS` images of each class."""
    labels = data.labels()
    if labels.empty:
        return
    sidebar = st.sidebar
    sidebar.subheader("Your labels")
    counts = labels["label"].value_counts()
    sidebar.caption(" · ".join(f"{shown(name)} {count}" for name, count in counts.items()))
    model = data.label_model()
    if model is not None:
        by = f" by {escape_markdown(model.fitted_by)}" if model.fitted_by else ""
        newer = int((labels["labeled_at"] > model.fitted_at).sum())
        since = f" {newer} labels were set since: refit to learn from them." if newer else ""
        sidebar.caption(f"**{LEARNED_LABEL}**: {model.describe()}. Fitted {moment(model.fitted_at)}{by}; it is a "
                        f"column of the Ranking and an axis of Explore.{since}")
    options = sorted(counts.index)
    if st.session_state.get(POSITIVE_KEY) not in options:
        st.session_state[POSITIVE_KEY] = "interesting" if "interesting" in options else options[0]
    positive = sidebar.selectbox("Learn to find", options, format_func=shown, key=POSITIVE_KEY,
                                 help="The images with this label, against every image with another label.")
    have, others = int(counts[positive]), int(counts.sum() - counts[positive])
    ready = min(have, others) >= MIN_PER_CLASS
    allowed = access.current().allowed
    sidebar.button("Refit on your labels" if model is not None else "Train on your labels", key="learn_train",
                   on_click=_train, args=(positive,), disabled=not (ready and allowed),
                   icon=":material/model_training:",
                   help=("Fits a score to your labels on the images' descriptors, cross-validated with source images "
                         "held out; every fit is recorded." if ready else
                         f"Needs at least {MIN_PER_CLASS} images labeled {shown(positive)} and {MIN_PER_CLASS} with "
                         f"another label; there are {have} and {others}."))
    kind, text = st.session_state.pop(MESSAGE_KEY, (None, ""))
    if kind == "error":
        sidebar.error(text)
    elif kind == "success":
        sidebar.success(text)
