"""The Ranking page's search, filter and sort widgets, kept in the URL (:class:`marsviz.query.RankingQuery`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from marsviz.query import CHOICE_COLUMNS, NEW_TO_YOU, PARAMS, RankingQuery, sortable_columns
from marsviz.labels import shown
from ui import data, links

CHOICE_LABELS = {"source": "Source", "mission": "Mission", "instrument": "Instrument / camera", "view": "Shows",
                 "season": "Season"}
#: The choices in the filters' first row; the season sits with the place.
FIRST_ROW = tuple(column for column in CHOICE_COLUMNS if column != "season")
VIEW_HELP = ("What the view model sees in the image: orbital ground, a surface (rover or lander) view, rover "
             "hardware, or other (maps, globes, not Mars).")
SORT_LABELS = {"rank": "Rank (best score first)", "outlier_score": "Outlier score", "score": "Composite score",
               NEW_TO_YOU: "New to you (least like what you reviewed)"}
KINDS = {"colour": True, "grayscale": False}
REVIEWED = {"reviewed": True, "not reviewed": False}


def _key(field: str) -> str:
    return f"ranking_{field}"


def _seed_from_link() -> list[str]:
    """Set each widget from the URL where the widget has no state yet (a link just opened); returns what in
    the link was not understood, when it was read."""
    if _key("search") in st.session_state:
        return []
    query, problems = RankingQuery.from_params(links.link_params(PARAMS))
    seeds = {
        "search": query.search, "sort": query.sort, "descending": query.descending,
        "outliers_only": query.outliers_only, "label": list(query.label),
        "reviewed": None if query.reviewed is None else ("reviewed" if query.reviewed else "not reviewed"),
        "kind": None if query.colour is None else ("colour" if query.colour else "grayscale"),
        "score": query.score or (0.0, 1.0),
        **{column: [v for v in getattr(query, column)] for column in CHOICE_COLUMNS},
    }
    if query.sols is not None:
        seeds["sols"] = query.sols  # clamped to the catalog's sols where the slider is drawn
    if query.latitude is not None:
        seeds["latitude"] = query.latitude
    if query.scale is not None:
        seeds["scale"] = query.scale  # clamped to the catalog's scales where the slider is drawn
    for field, value in seeds.items():
        st.session_state.setdefault(_key(field), value)
    return problems


#: The latitude slider's span, degrees.
LATITUDE_SPAN = (-90.0, 90.0)


def _span(values: pd.Series, kind: type) -> tuple | None:
    """(smallest, largest) of the known `values` as `kind`, or None when fewer than two differ (no slider)."""
    known = values.dropna()
    return (kind(known.min()), kind(known.max())) if len(known) and known.min() < known.max() else None


def _filters_on(query: RankingQuery) -> list[str]:
    """The names of the filters of `query` that narrow the table, for the Filters label."""
    on = [CHOICE_LABELS[c].lower() for c in CHOICE_COLUMNS if getattr(query, c)]
    if query.colour is not None:
        on.append("colour" if query.colour else "grayscale")
    on += [name for name, active in (("score", query.score is not None), ("sol", query.sols is not None),
                                     ("latitude", query.latitude is not None), ("scale", query.scale is not None),
                                     ("outliers only", query.outliers_only)) if active]
    if query.reviewed is not None:
        on.append("reviewed" if query.reviewed else "not reviewed")
    if query.label:
        on.append("label")
    return on


def _query_from_state(spans: dict[str, tuple | None]) -> RankingQuery:
    """The query the widgets hold: their session state, which already has the change that caused this run.
    A range filter whose slider spans the whole catalog (or is not drawn: `spans` has None) keeps every row."""
    state = st.session_state
    score = tuple(state[_key("score")])

    def narrowed(field: str) -> tuple | None:
        value = tuple(state[_key(field)]) if spans[field] is not None else None
        return None if value == spans[field] else value

    return RankingQuery(search=" ".join(state[_key("search")].split()),
                        **{column: tuple(state[_key(column)]) for column in CHOICE_COLUMNS},
                        colour=None if state[_key("kind")] is None else KINDS[state[_key("kind")]],
                        sols=narrowed("sols"), latitude=narrowed("latitude"), scale=narrowed("scale"),
                        score=None if score == (0.0, 1.0) else score,
                        outliers_only=state[_key("outliers_only")],
                        reviewed=None if state[_key("reviewed")] is None else REVIEWED[state[_key("reviewed")]],
                        label=tuple(state[_key("label")]), sort=state[_key("sort")],
                        descending=state[_key("descending")])


def controls(table: pd.DataFrame) -> RankingQuery:
    """Draw the search, sort and filter widgets for a ranked `table` and return the query they make.

    A link's parameters set the widgets when the page opens; afterwards the widgets write the URL, so the
    address bar always holds the query shown.
    """
    spans = {"sols": _span(table["sol"], int), "latitude": LATITUDE_SPAN if table["latitude"].notna().any() else None,
             "scale": _span(table["scale_m_per_px"], float)}
    problems = _seed_from_link()
    options = {column: sorted(v for v in table[column].dropna().unique() if v != "") for column in CHOICE_COLUMNS}
    options["label"] = sorted(data.labels()["label"].unique())
    for column, values in options.items():
        known = [v for v in st.session_state[_key(column)] if v in values]
        if known != st.session_state[_key(column)]:  # a value from a link, or gone from the catalog
            st.session_state[_key(column)] = known
    for field, span in spans.items():
        if span is not None:
            low, high = st.session_state.get(_key(field), span)
            clamped = (min(max(low, span[0]), span[1]), max(min(high, span[1]), span[0]))
            if clamped != tuple(st.session_state.get(_key(field), ())):  # first shown, or the catalog changed
                st.session_state[_key(field)] = clamped
    query = _query_from_state(spans)
    labels = data.column_labels()

    search, sort, order = st.columns([3, 2, 1], vertical_alignment="bottom")
    search.text_input("Search", key=_key("search"), placeholder="name, title or product id",
                      help="Every word must occur in the image's name, title or source id (case does not matter).")
    sort.selectbox("Sort by", sortable_columns(), key=_key("sort"),
                   format_func=lambda c: SORT_LABELS.get(c) or labels.get(c) or c.replace("_", " ").capitalize(),
                   help="Sorts the whole catalog (a click on a column header sorts only the rows shown). New to "
                        "you puts first the images least like any you labeled, and changes as you label.")
    order.toggle("Descending", key=_key("descending"), help="Largest first; for rank, the worst first.")

    on = _filters_on(query)
    filters = st.expander(f"Filters · {len(on)} on: {', '.join(on)}" if on else "Filters", key=_key("filters_open"),
                          icon=":material/filter_list:")
    row = filters.columns([1, 1, 1, 1, 1], vertical_alignment="bottom")
    for slot, column in enumerate(FIRST_ROW):
        row[slot].multiselect(CHOICE_LABELS[column], options[column], key=_key(column), placeholder="all",
                              help=VIEW_HELP if column == "view" else None)
    row[4].segmented_control("Kind", list(KINDS), key=_key("kind"))
    ranges = filters.columns([2, 2, 1], vertical_alignment="bottom")
    ranges[0].slider("Composite score", 0.0, 1.0, step=0.01, key=_key("score"),
                     help="Images without a score are hidden once you narrow this.")
    if spans["sols"] is not None:
        ranges[1].slider("Sol (rover images)", *spans["sols"], key=_key("sols"),
                         help="Images without a sol are hidden once you narrow this.")
    ranges[2].toggle("Outliers only", key=_key("outliers_only"))
    if spans["latitude"] is not None or spans["scale"] is not None or options["season"]:
        place = filters.columns(3, vertical_alignment="bottom")
        if spans["latitude"] is not None:
            place[0].slider("Latitude (°, centre)", *spans["latitude"], step=1.0, key=_key("latitude"),
                            help="From an archive product's label, an MRO product id or a rover's landing site. "
                                 "Images whose place is not known are hidden once you narrow this.")
        if options["season"]:
            place[1].multiselect(CHOICE_LABELS["season"], options["season"], key=_key("season"), placeholder="all",
                                 help="The season in the image's hemisphere when it was taken (from its solar "
                                      "longitude, Mars24). Known where its place and time are.")
        if spans["scale"] is not None:
            place[2].slider("Scale (metres per pixel)", *spans["scale"], key=_key("scale"),
                            help="From archive products' labels. Images whose scale is not known are hidden once "
                                 "you narrow this.")
    review = filters.columns([2, 3], vertical_alignment="bottom")
    review[0].segmented_control("Review", list(REVIEWED), key=_key("reviewed"),
                                help="Images with a label (set in the viewer or with `marsviz label`), or without.")
    review[1].multiselect("Label", options["label"], key=_key("label"), placeholder="any", format_func=shown)

    for problem in problems:
        st.caption(f"Part of the link was not understood and left out: {problem}.")
    links.write_link(query.to_params(), PARAMS)
    return query
