"""The image viewer: the image with toggleable feature overlays, values, provenance and neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from marsviz import scoring
from marsviz.errors import MarsvizError
from marsviz.registry import REGISTRY
from marsviz.overlays import colour_name, render_overlays
from marsviz.provenance import PROVENANCE_FIELDS
from marsviz.terrain.features import SCORES as TERRAIN_SCORES
from marsviz.view.model import VIEW_MEANINGS
from ui import data
from ui.text import escape_markdown

NEIGHBOURS = 6
#: The viewer heading shows at most this many characters of an image's name (the metadata has all of it).
HEADING_CHARS = 120
#: Catalog ids are SQLite integers: anything outside this range names no image.
SQLITE_INT_RANGE = range(-2**63, 2**63)


def selected_image_id() -> int | None:
    """The image named in the URL (``?image=<id>``), or None.

    A number outside SQLite's 64-bit range is returned as it is; :func:`show` then says no such image
    exists, as for any other unknown id, without asking the catalog.
    """
    raw = st.query_params.get("image")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def shorten(text: str, limit: int = HEADING_CHARS) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut.

    Examples
    --------
    >>> shorten("a" * 10, 4)
    'aaa…'
    >>> shorten("crater.jpg")
    'crater.jpg'
    """
    return text if len(text) <= limit else text[:limit - 1] + "…"


def open_image(image_id: int) -> None:
    """Show `image_id` in the viewer and put it in the URL, so the link opens it again."""
    st.query_params["image"] = str(int(image_id))


def show(image_id: int | None, table: pd.DataFrame, weights: dict[str, float], key: str) -> None:
    """Draw the viewer for `image_id`.

    Parameters
    ----------
    image_id : int or None
        The image to show; None shows a hint.
    table : DataFrame
        The ranked table (:func:`ui.data.ranked_table`), for rank, score and neighbours.
    weights : dict
        Current composite weights.
    key : str
        Prefix for widget keys, unique per page.
    """
    if image_id is None:
        st.info("Click a point in the plot (or choose a row in the ranking) to open an image here.")
        return
    catalog = data.get_catalog()
    row = catalog.get(image_id) if image_id in SQLITE_INT_RANGE else None
    if row is None:
        st.warning(f"There is no image with id {int(image_id)} in this catalog.")
        return
    ranked_row = table.loc[table["id"] == image_id]
    ranked_row = ranked_row.iloc[0] if len(ranked_row) else None

    st.markdown(f"#### {escape_markdown(shorten(row['name']))}")
    if ranked_row is not None:
        badges = f"Rank **{int(ranked_row['rank'])}** of {len(table)}"
        if pd.notna(ranked_row["score"]):
            badges += f" · score **{ranked_row['score']:.3f}**"
        if ranked_row["outlier"]:
            badges += f" · :red[**outlier**] (outlier score {ranked_row['outlier_score']:.1f})"
        st.markdown(badges)

    try:
        pixels, results = data.feature_maps(row["sha256"], str(catalog.image_path(row)))
    except MarsvizError as error:
        st.error(f"This image cannot be shown: {error}")
        return
    except FileNotFoundError:
        st.error("The stored file of this image is missing from the data folder.")
        return
    labels = {name: feature.label for name, feature in REGISTRY.items()}
    mapped = [name for name, feature in REGISTRY.items() if feature.has_overlay]
    chosen = st.pills("Overlays", mapped, format_func=labels.get, selection_mode="multi", wrap=True,
                      key=f"{key}_overlays", help="Draw where in the image each feature's value comes from.")
    st.image(render_overlays(pixels, results, list(chosen or [])), width="stretch",
             caption=f"{row['width']} x {row['height']} px original · shown at {pixels.shape[1]} x "
                     f"{pixels.shape[0]} px (analysis resolution) · {'colour' if row['is_color'] else 'grayscale'}")
    if chosen:
        st.caption(" · ".join(f"{labels[n]} in {colour_name(REGISTRY[n].overlay_colour)}" for n in chosen))

    st.markdown(_view_line(row))
    st.markdown("**Features**")
    st.dataframe(_feature_table(row, weights), hide_index=True, width="stretch")
    for name, instead in _superseded(_usable(row), weights).items():
        st.caption(f"{REGISTRY[name].label} is replaced here: it stands in for {instead} only where that score "
                   "does not apply, and on this image it does.")
    for feature in REGISTRY.values():
        if feature.not_validated_on(row.get("view")):
            st.caption(feature.why_not_applied(bool(row["is_color"]), row.get("view")))
    reasons = _outlier_reasons(image_id)
    if reasons:
        st.caption("Unusual in: " + ", ".join(f"{labels[n]} (z = {z:+.1f})" for n, z in reasons))

    for score in TERRAIN_SCORES:
        if not REGISTRY[score].not_validated_on(row.get("view")):
            _terrain_explanation(row, score, labels[score])

    with st.expander("Metadata and provenance", expanded=False):
        st.dataframe(_provenance_table(row), hide_index=True, width="stretch")
        if row.get("description"):
            st.text(row["description"])
    _neighbours(image_id, table, key)


def _view_line(row: dict) -> str:
    view = row.get("view")
    if not view:
        return "**Shows:** not classified (too small, or analysed before the view model; `python -m marsviz analyze`)"
    confidence = row.get("view_confidence")
    sure = "" if confidence is None else f" (probability {float(confidence):.2f})"
    return f"**Shows:** {view}: {VIEW_MEANINGS.get(view, view)}{sure}"


def _not_applied_note(feature, row: dict) -> str:
    if not feature.applies_to(bool(row["is_color"])):
        return "n/a (grayscale)"
    return f"n/a ({row.get('view')} view)"


def _applicable(row: dict) -> dict[str, bool]:
    return {n: REGISTRY[n].applies_to(bool(row["is_color"]), row.get("view")) for n in REGISTRY}


def _usable(row: dict) -> pd.Series:
    """The image's feature values, NaN where a feature does not apply to it (as the ranking has them)."""
    return scoring.applicable_values(pd.DataFrame([row])).iloc[0]


def _feature_table(row: dict, weights: dict[str, float]) -> pd.DataFrame:
    applicable, usable = _applicable(row), _usable(row)
    share = scoring.contributions(usable, weights, scoring.gate_names(), scoring.stand_in_map())
    superseded = _superseded(usable, weights)
    return pd.DataFrame({
        "feature": [REGISTRY[n].label for n in REGISTRY],
        "value": [_number(row.get(n)) if applicable[n] else _not_applied_note(REGISTRY[n], row) for n in REGISTRY],
        "weight": [f"{weights.get(n, 0.0):.1f}" for n in REGISTRY],
        "adds to score": [_share(n, share, superseded) for n in REGISTRY],
    })


def _share(name: str, share: dict[str, float], superseded: dict[str, str]) -> str:
    """Score points a feature adds; "replaced" for a weighted stand-in whose trained score counts here."""
    if name in share:
        return _number(share[name])
    return "replaced" if name in superseded else "-"


def _superseded(usable: pd.Series, weights: dict[str, float]) -> dict[str, str]:
    """Weighted stand-ins the composite leaves out of this image, each with the trained score counting instead."""
    stand_ins = scoring.stand_in_map()
    counted = scoring.counted_values(usable.to_frame().T, weights, stand_ins).iloc[0]
    left_out = [n for n in stand_ins if weights.get(n) and pd.notna(usable.get(n)) and pd.isna(counted[n])]
    return {n: next(REGISTRY[p].label for p in stand_ins[n] if weights.get(p) and pd.notna(usable.get(p)))
            for n in left_out}


def _number(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.3f}"


def _terrain_explanation(row: dict, score: str, label: str) -> None:
    with st.expander(f"Why this {label.lower()}?"):
        why = data.terrain_explanation(row["sha256"], str(data.get_catalog().image_path(row)), score)
        likeliest, probability = why["likeliest"]
        st.markdown(f"Best tile (row {why['tile'][0] + 1}, column {why['tile'][1] + 1}; turn on the "
                    f"*{label}* overlay to see every tile): score **{why['score']:.2f}**, most like "
                    f"**{likeliest.replace('_', ' ')}** (probability {probability:.2f}).")
        rows = [{"descriptor": d["label"], "pushed": direction, "value": f"{d['value']:.3g}",
                 "log-odds": f"{d['contribution']:+.2f}"}
                for direction, items in (("up", why["up"]), ("down", why["down"])) for d in items]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Trained and validated on grayscale HiRISE crops only (see the Method page); on other views "
                   "the composite leaves this score out.")


def _provenance_table(row: dict) -> pd.DataFrame:
    fields = [f for f in PROVENANCE_FIELDS if f not in ("description", "synthetic", "added_by")]
    extra = ["sha256", "added_at"]
    return pd.DataFrame({"field": fields + extra,
                         "value": ["" if row.get(f) is None else str(row.get(f)) for f in fields + extra]})


def _robust_z_of(image_id: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(ids, robust z-scores) of the catalog and the row of `image_id` in them (None if absent)."""
    ids, z = data.robust_z_table(data.version())
    index = np.flatnonzero(ids == image_id)
    return ids, z, int(index[0]) if len(index) else None


def _outlier_reasons(image_id: int) -> list[tuple[str, float]]:
    _, z, index = _robust_z_of(image_id)
    if index is None:
        return []
    z_row = z[index]
    names = list(REGISTRY)
    return [(n, float(z_row[names.index(n)])) for n in scoring.outlier_reasons(z_row, names)]


def _neighbours(image_id: int, table: pd.DataFrame, key: str) -> None:
    ids, z, index = _robust_z_of(image_id)
    if index is None or len(ids) < 2:
        return
    st.markdown("**Nearest neighbours in feature space**")
    neighbours = scoring.nearest_neighbours(z, index, NEIGHBOURS)
    catalog = data.get_catalog()
    columns = st.columns(3)
    for slot, (row_index, distance) in enumerate(neighbours):
        neighbour = catalog.get(int(ids[row_index]))
        if neighbour is None:
            continue
        with columns[slot % 3]:
            thumbnail = catalog.thumbnail_path(neighbour)
            if thumbnail.exists():
                st.image(str(thumbnail), width="stretch")
            st.caption(f"{escape_markdown(neighbour['name'][:40])} (distance {distance:.2f})")
            if st.button("Open", key=f"{key}_neighbour_{neighbour['id']}"):
                open_image(neighbour["id"])
                st.rerun()
