"""The image viewer: the image with toggleable feature overlays, values, provenance and neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from marsviz import product_label
from marsviz.context import location
from marsviz.catalog import ID_RANGE, PLACE_COLUMNS, PRODUCT_COLUMNS
from marsviz.errors import MarsvizError
from marsviz.overlays import colour_name, zoom_window
from marsviz.provenance import PROVENANCE_FIELDS
from marsviz.learn import LEARNED_LABEL
from marsviz.registry import LEARNED_SCORE, REGISTRY, feature_labels
from marsviz.report import ImageReport, score_parts
from marsviz.view.model import VIEW_MEANINGS
from ui import data, layout, review
from ui.text import escape_markdown

#: The viewer heading shows at most this many characters of an image's name (the metadata has all of it).
HEADING_CHARS = 120

#: Session-state keys: the image open in the viewer, and the page the last run drew.
OPEN_KEY, PAGE_KEY = "viewer_open_image", "viewer_page"


def follow_link(page: str) -> None:
    """Keep the open image and the URL's ``?image=<id>`` in step; the app calls this on every run, before the page.

    The URL names the image when it is new to the session: on its first run (a shared link) and on
    a run that arrives from another page by a page link. The sidebar's navigation names none: the
    image open on one page stays open on the next. Afterwards the session holds the open image and
    the URL follows it: a rerun that a click sets off while the previous open is
    still under way carries the URL from before that open, and reading it would reopen that image.

    Parameters
    ----------
    page : str
        The URL path of the page this run draws.
    """
    state = st.session_state
    if OPEN_KEY not in state:
        state[OPEN_KEY] = _image_in_link()
    elif state.get(PAGE_KEY) != page:
        # Arriving from another page: a page link names its image; the sidebar's navigation names none,
        # and the pages share the open image (opened on the map, it is open on Explore too).
        linked = _image_in_link()
        state[OPEN_KEY] = linked if linked is not None else state[OPEN_KEY]
    state[PAGE_KEY] = page
    if state[OPEN_KEY] is not None and st.query_params.get("image") != str(state[OPEN_KEY]):
        st.query_params["image"] = str(state[OPEN_KEY])


def _image_in_link() -> int | None:
    raw = st.query_params.get("image")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def selected_image_id() -> int | None:
    """The image open in the viewer (see :func:`follow_link`), or None.

    A number outside SQLite's 64-bit range is returned as it is; :func:`show` then says no such image
    exists, as for any other unknown id, without asking the catalog.
    """
    return st.session_state.get(OPEN_KEY)


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
    st.session_state[OPEN_KEY] = int(image_id)
    st.query_params["image"] = str(int(image_id))


def show(image_id: int | None, weights: dict[str, float], key: str,
         hint: str = "Click a point in the plot to open an image here.", order: np.ndarray | None = None) -> None:
    """Draw the viewer for `image_id`, in a pane (:func:`ui.layout.pane_key`) that stays in view beside
    a list and is scrolled on screen once per image opened.

    Parameters
    ----------
    image_id : int or None
        The image to show; None shows a hint.
    weights : dict
        Current composite weights (the ranking's rank and score, and the neighbours shown).
    key : str
        Prefix for widget keys, unique per page, ending in ``_viewer``.
    hint : str
        What to do to open an image, shown while none is open.
    order : ndarray of int, optional
        Image ids in the order the page shows them, for the review's Next (:func:`ui.review.status`).
    """
    pane = layout.pane_key(key)
    with st.container(key=pane):
        if image_id is None:
            st.info(hint)
            return
        _show_image(image_id, weights, key, order)
        # Once per open (a row, a point, a neighbour, a link): bring the viewer on screen if it is not.
        if st.session_state.get(f"{key}_scrolled_to") != image_id:
            st.session_state[f"{key}_scrolled_to"] = image_id
            layout.scroll_into_view(pane, str(image_id))


def _show_image(image_id: int, weights: dict[str, float], key: str, order: np.ndarray | None) -> None:
    catalog = data.get_catalog()
    row = catalog.get(image_id) if image_id in ID_RANGE else None
    if row is None:
        st.warning(f"There is no image with id {int(image_id)} in this catalog.")
        return
    ranked_row = data.rows_by_id(weights, [image_id])
    ranked_row = ranked_row.iloc[0] if len(ranked_row) else None

    st.markdown(f"#### {escape_markdown(shorten(row['name']))}")
    if ranked_row is not None:
        badges = f"Rank **{int(ranked_row['rank'])}** of {len(data.ranked_table(weights))}"
        if pd.notna(ranked_row["score"]):
            badges += f" · score **{ranked_row['score']:.3f}**"
        if ranked_row["outlier"]:
            badges += f" · :red[**outlier**] (outlier score {ranked_row['outlier_score']:.1f})"
        st.markdown(badges)
    label = catalog.label_of(image_id)  # read once: the status and the controls show the same label
    review.status(image_id, label, order, key, open_image)

    try:
        report = data.report(row, weights)
        display = data.display_pixels(row, report.pixels)
    except MarsvizError as error:
        st.error(f"This image cannot be shown: {error}")
        return
    except FileNotFoundError:
        st.error("The stored file of this image is missing from the data folder.")
        return
    labels = feature_labels()
    mapped = [name for name, feature in REGISTRY.items() if feature.has_overlay]
    chosen = st.pills("Overlays", mapped, format_func=labels.get, selection_mode="multi", wrap=True,
                      key=f"{key}_overlays", help="Draw where in the image each feature's value comes from.")
    height, width = report.pixels.shape[:2]
    shown_height, shown_width = display.shape[:2]
    sizes = (f"{row['width']} x {row['height']} px original" + ("" if (shown_width, shown_height) == (
        row["width"], row["height"]) else f", shown at {shown_width} x {shown_height} px"))
    shown, part = _zoomed(row, report, display, list(chosen or []), f"{key}_{image_id}")
    st.image(shown, width="stretch", output_format="JPEG",
             caption=f"{sizes}{part} · features measured at {width} x {height} px · "
                     f"{'colour' if row['is_color'] else 'grayscale'}")
    if chosen:
        st.caption(" · ".join(f"{labels[n]} in {colour_name(REGISTRY[n].overlay_colour)}" for n in chosen))
    review.controls(image_id, label, key)
    review.new_to_you(image_id)

    st.markdown(_view_line(row))
    said = product_label.summary(row)
    if said:
        st.caption(f"From its label: {escape_markdown(said)}")
    st.caption(f"Where and when: {escape_markdown(location.describe(row))}")
    st.markdown("**Features**")
    st.table(_feature_table(report), hide_index=True, border="horizontal")
    parts = score_parts(report.features)
    if parts:
        st.caption(parts)
    _learned_line(ranked_row)
    for note in report.notes:
        st.caption(note)
    if report.outlier_reasons:
        st.caption("Unusual in: " + ", ".join(f"{labels[n]} (z = {z:+.1f})" for n, z in report.outlier_reasons))
    for score, why in report.explanations.items():
        _terrain_explanation(why, labels[score])

    with st.expander("Metadata and provenance", expanded=False):
        st.table(_provenance_table(row), hide_index=True, border="horizontal")
        if row.get("description"):
            st.text(row["description"])
    label_text = data.product_label(row)
    if label_text:
        with st.expander("Product label", expanded=False):
            st.code(label_text, language=None, wrap_lines=True, height=360)
    _neighbours(report, weights, key)


#: Magnifications offered by the viewer's zoom.
ZOOMS = (1, 2, 4, 8)


def _zoomed(row: dict, report: ImageReport, display: np.ndarray, overlays: list[str],
            key: str) -> tuple[np.ndarray, str]:
    """A zoom control; the image with its `overlays`, whole or the part the control chose, and a caption
    fragment naming that part in the original's pixels.  Each image (`key`) starts whole."""
    zoom_column, across_column, down_column = st.columns(3)
    zoom = zoom_column.select_slider("Zoom", ZOOMS, format_func=lambda z: f"{z}x", key=f"{key}_zoom",
                                     help="Enlarge part of the image (overlays too); choose the part with Across "
                                          "and Down. The part is cut from the original at up to "
                                          f"{data.ZOOM_MAX_SIDE} px; parts of larger JPEG, PNG and TIFF originals "
                                          "are read from the file at full resolution.")
    across = across_column.slider("Across", 0, 100, 50, format="%d%%", key=f"{key}_across", disabled=zoom == 1)
    down = down_column.slider("Down", 0, 100, 50, format="%d%%", key=f"{key}_down", disabled=zoom == 1)
    if zoom == 1:
        return report.overlay(overlays, display), ""
    centre = (across / 100, down / 100)
    read = data.full_resolution_part(row, zoom, centre)
    if read is not None:  # a large original: the part read from the file itself, with more detail
        pixels, part = read
        shape = part[0]
        how = "read from the original" + ("" if shape == (row["height"], row["width"]) else
                                          f" at 1/{round(row['height'] / shape[0])} resolution")
        return report.overlay(overlays, pixels, part=part), _part_text(row, zoom, *part, how)
    try:
        source = data.zoom_pixels(row, display)
    except (MarsvizError, FileNotFoundError) as error:  # the display decode of the same file worked
        st.warning(f"This image cannot be decoded at a higher resolution ({error}); zooming into what is shown.")
        source = display
    rows, columns = zoom_window(source.shape[:2], zoom, centre)
    shown = report.overlay(overlays, source[rows, columns], part=(source.shape[:2], rows, columns))
    how = "" if source.shape[:2] == (row["height"], row["width"]) else \
        f"from a {source.shape[1]} x {source.shape[0]} px rendition"
    return shown, _part_text(row, zoom, source.shape[:2], rows, columns, how)


def _part_text(row: dict, zoom: int, shape: tuple[int, int], rows: slice, columns: slice, how: str) -> str:
    """The caption fragment naming a zoomed part (`rows`, `columns` of the image at `shape`) in the original's
    pixels, with `how` it was made."""
    scale_y, scale_x = row["height"] / shape[0], row["width"] / shape[1]
    part = (f" · zoomed {zoom}x: x {round(columns.start * scale_x)}-{round(columns.stop * scale_x)}, "
            f"y {round(rows.start * scale_y)}-{round(rows.stop * scale_y)}")
    return part + (f" ({how})" if how else "")


def _learned_line(ranked_row: pd.Series | None) -> None:
    """The image's "Your labels, trained" score and what the fit was, once a score was fitted."""
    model = data.label_model()
    if model is None or ranked_row is None:
        return
    value = ranked_row.get(LEARNED_SCORE)
    shown = f"**{value:.3f}**" if pd.notna(value) else "none (no stored descriptors: `python -m marsviz analyze`)"
    st.caption(f"{LEARNED_LABEL}: {shown}; {model.describe()}.")


def _view_line(row: dict) -> str:
    view = row.get("view")
    if not view:
        return "**Shows:** not classified (too small, or analysed before the view model; `python -m marsviz analyze`)"
    confidence = row.get("view_confidence")
    sure = "" if confidence is None else f" (probability {float(confidence):.2f})"
    return f"**Shows:** {view}: {VIEW_MEANINGS.get(view, view)}{sure}"


def _feature_table(report: ImageReport) -> pd.DataFrame:
    lines = report.features
    return pd.DataFrame({
        "feature": [line.label for line in lines],
        "value": [f"n/a ({line.not_applied})" if line.not_applied else _number(line.value) for line in lines],
        "weight": [f"{line.weight:.1f}" for line in lines],
        "adds to score": ["replaced" if line.replaced_by else _number(line.adds) for line in lines],
    })


#: Shown for a value that does not exist (a table cell is Markdown: a lone "-" would draw a bullet).
NO_VALUE = "–"


def _number(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.3f}"


def _terrain_explanation(why: dict, label: str) -> None:
    with st.expander(f"Why this {label.lower()}?"):
        likeliest, probability = why["likeliest"]
        st.markdown(f"Best tile (row {why['tile'][0] + 1}, column {why['tile'][1] + 1}; turn on the "
                    f"*{label}* overlay to see every tile): score **{why['score']:.2f}**, most like "
                    f"**{likeliest.replace('_', ' ')}** (probability {probability:.2f}).")
        rows = [{"descriptor": d["label"], "pushed": direction,
                 "value": NO_VALUE if d["value"] is None else f"{d['value']:.3g}",
                 "log-odds": f"{d['contribution']:+.2f}"}
                for direction, items in (("up", why["up"]), ("down", why["down"])) for d in items]
        if rows:
            st.table(pd.DataFrame(rows), hide_index=True, border="horizontal")
        st.caption("Trained and validated on grayscale HiRISE crops only (see the Method page); on other views "
                   "the composite leaves this score out.")


def _provenance_table(row: dict) -> pd.DataFrame:
    """The provenance fields of `row`, escaped: ``st.table`` renders each cell as Markdown, and these values
    come from uploads and NASA metadata."""
    fields = [f for f in PROVENANCE_FIELDS if f not in ("description", "synthetic", "added_by")]
    fields += [f for f in [*PRODUCT_COLUMNS, *PLACE_COLUMNS] if row.get(f) not in (None, "")]
    extra = ["sha256", "added_at"]
    return pd.DataFrame({"field": [escape_markdown(f) for f in fields + extra],
                         "value": ["" if row.get(f) is None else escape_markdown(row.get(f)) for f in fields + extra]})


def _neighbours(report: ImageReport, weights: dict[str, float], key: str) -> None:
    distances = dict(report.neighbours)
    neighbours = data.rows_by_id(weights, list(distances)).to_dict(orient="records")
    if not neighbours:
        return
    st.markdown("**Nearest neighbours in feature space**")
    columns = st.columns(3)
    for slot, neighbour in enumerate(neighbours):
        with columns[slot % 3]:
            tile_card(neighbour, f"{key}_neighbour_{neighbour['id']}",
                      neighbour["name"], f"distance {distances[neighbour['id']]:.2f}")


def tile_card(row: dict, key: str, name: str, detail: str, is_open: bool = False) -> None:
    """A square thumbnail of catalog row `row`, an Open button under it and its (shortened) name below: the
    buttons of a row of cards line up whatever the images' shapes or names."""
    tile = data.tile(row)
    if tile is not None:
        st.image(tile, width="stretch")
    else:
        st.caption("(no thumbnail)")
    st.button("Open", key=key, on_click=open_image, args=(int(row["id"]),), width="stretch",
              type="primary" if is_open else "secondary", disabled=is_open,
              help="Shown in the viewer" if is_open else None)
    st.caption(f"{escape_markdown(shorten(name, 40))} · {detail}", help=name if len(name) > 40 else None)
