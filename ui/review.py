"""The viewer's review controls: one-click labels, a note, and "Next" through the images not yet reviewed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from marsviz.errors import MarsvizError
from marsviz.labels import QUICK_LABELS, Label, moment, next_unreviewed, shown
from ui import access, data
from ui.text import escape_markdown

#: Session-state key of the reviewer's name, where sign-in does not say who they are; its input widget's key
#: is another (a widget's state is dropped on a page that does not draw it, and this must outlive that).
REVIEWER_KEY, REVIEWER_INPUT_KEY = "reviewer_name", "reviewer_name_input"


def _message_key(key: str) -> str:
    return f"{key}_review_message"


def reviewer() -> str:
    """Who labels in this session: the signed-in user, else the name typed into the review controls."""
    return access.current().added_by or st.session_state.get(REVIEWER_KEY, "").strip()


def _save(image_id: int, key: str, label: str | None, note: str | None, expected: Label | None) -> None:
    """Set (or, with `label` None, remove) the label of `image_id`; the outcome is shown on the next run."""
    catalog = data.get_catalog()
    try:
        if label is None:
            catalog.clear_label(image_id, reviewer(), expected=expected)
            outcome = ("success", "Label removed.")
        else:
            kept = expected.note if expected is not None and note is None else (note or "")
            saved = catalog.set_label(image_id, label, kept, reviewer(), expected=expected)
            outcome = ("success", f"Labeled “{shown(saved.label)}”.")
    except MarsvizError as error:
        outcome = ("error", str(error))
    st.session_state[_message_key(key)] = outcome


def _picked(image_id: int, key: str, widget: str, expected: Label | None) -> None:
    _save(image_id, key, st.session_state.get(widget), None, expected)


def _typed(image_id: int, key: str, form: str, expected: Label | None) -> None:
    text, note = st.session_state[f"{form}_label"].strip(), st.session_state[f"{form}_note"]
    if not text:
        st.session_state[_message_key(key)] = ("error", "Type a label first (or use Remove label).")
        return
    _save(image_id, key, text, note, expected)


def _keep_reviewer() -> None:
    st.session_state[REVIEWER_KEY] = st.session_state[REVIEWER_INPUT_KEY].strip()


def _open_next(order: np.ndarray, image_id: int, open_image: Callable[[int], None]) -> None:
    """Open the next image of `order` after `image_id` without a label, as the labels are now (another
    session may have labeled the one the button was drawn for)."""
    next_id = next_unreviewed(order, image_id, data.labels()["id"].to_numpy())
    if next_id is not None:
        open_image(next_id)


def status(image_id: int, label: Label | None, order: np.ndarray | None, key: str,
           open_image: Callable[[int], None]) -> None:
    """Above the image: its label (who, when, the note) and "Next not reviewed".

    Parameters
    ----------
    image_id : int
        The image open in the viewer.
    label : Label or None
        Its label, as read for this run (:meth:`marsviz.catalog.Catalog.label_of`).
    order : ndarray of int or None
        Ids in the order the page shows them: Next opens the first image after this one in it that
        has no label.  None: no Next button.
    key : str
        The viewer's widget-key prefix.
    open_image : callable
        Opens an image by id in the viewer (Next calls it).
    """
    line, next_column = st.columns(2, vertical_alignment="center")
    if label is not None:
        by = f" by {escape_markdown(label.labeled_by)}" if label.labeled_by else ""
        note = f" · *{escape_markdown(label.note)}*" if label.note else ""
        line.markdown(f"**Your label:** {escape_markdown(shown(label.label))}{by}, {moment(label.labeled_at)}{note}")
    else:
        line.caption("Not reviewed yet (labels are under the image).")
    if order is not None:
        next_id = next_unreviewed(order, image_id, data.labels()["id"].to_numpy())
        next_column.button("Next not reviewed", key=f"{key}_next", icon=":material/skip_next:", width="stretch",
                           on_click=_open_next, args=(order, image_id, open_image), disabled=next_id is None,
                           help="Open the next image in this page's order that has no label yet."
                           if next_id is not None else "Every image in this order has a label.")


def controls(image_id: int, label: Label | None, key: str) -> None:
    """Under the image: quick label buttons, a note or another label, and what the last change did.

    `label` is the image's label as :func:`status` showed it in this run.  A label change checks that the
    label is still that one (another session may have changed it): if not, nothing is saved and the
    message says who changed it.  A read-only deployment, or one where the visitor must sign in first,
    says so instead.
    """
    kind, text = st.session_state.pop(_message_key(key), (None, ""))
    allowed = access.current()
    if not allowed.allowed:
        st.caption("Labels can be read here but not set: " + (
            "this deployment is read-only." if allowed.reason == "read_only" else "sign in (Upload page) to label."))
        return
    change = label.change if label is not None else 0
    widget = f"{key}_label_{image_id}_{change}"
    st.pills("Label", QUICK_LABELS, format_func=shown, key=widget,
             default=label.label if label is not None and label.label in QUICK_LABELS else None,
             on_change=_picked, args=(image_id, key, widget, label),
             help="One click sets this image's label (kept by its content: re-analysis keeps it); a click on "
                  "the chosen one removes it. Other labels and notes: Note or another label.")
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind == "success":
        st.caption(text)
    with st.popover("Note or another label", icon=":material/edit_note:"):
        form = f"{key}_label_form_{image_id}_{change}"
        with st.form(form, border=False):
            st.text_input("Label", value=label.label if label is not None else "", key=f"{form}_label",
                          placeholder="e.g. gully, recurring slope lineae")
            st.text_area("Note", value=label.note if label is not None else "", key=f"{form}_note", height=80)
            st.form_submit_button("Save", on_click=_typed, args=(image_id, key, form, label), type="primary")
        if not allowed.added_by:
            st.text_input("Your name", value=st.session_state.get(REVIEWER_KEY, ""), key=REVIEWER_INPUT_KEY,
                          on_change=_keep_reviewer, help="Kept with each label you set in this session.")
        if label is not None:
            st.button("Remove label", key=f"{key}_clear_{image_id}_{change}", on_click=_save,
                      args=(image_id, key, None, None, label))
        history = data.get_catalog().label_history(image_id)
        if len(history) > 1 or (history and label is None):
            st.caption("History: " + "; ".join(
                f"{escape_markdown(shown(c['label'])) if c['label'] else 'removed'}"
                f"{' by ' + escape_markdown(c['labeled_by']) if c['labeled_by'] else ''}, {moment(c['labeled_at'])}"
                for c in history))


def new_to_you(image_id: int) -> None:
    """Once images are reviewed: how unlike them image `image_id` is, and in which descriptors."""
    reviewed = len(data.labels())
    found = data.why_new(image_id) if reviewed else None
    if found is None:
        return
    distance, why = found
    unlike = ", ".join(f"{name} ({residual:+.1f} sd)" for name, residual in why)
    st.caption(f"New to you: {distance:.2f} sd from the {reviewed} images reviewed; most unlike them in {unlike}. "
               "(Ranking: sort by New to you.)")
