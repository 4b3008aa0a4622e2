"""marsviz.query: search, filters and sort over the whole ranked table, and the query in a link."""

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from marsviz.query import (RankingQuery, labels_of_rows, search_index, select, sortable_columns, to_csv,
                           to_parquet)


@pytest.fixture
def table() -> pd.DataFrame:
    """A ranked table of 60 rows: more than a page, with the interesting rows far down the ranking."""
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({
        "id": np.arange(100, 100 + n),
        "rank": np.arange(1, n + 1),
        "name": [f"img_{i:03d}.jpg" for i in range(n)],
        "title": ["" for _ in range(n)],
        "source_id": [f"PSP_{i:06d}_RED" if i % 3 == 0 else "" for i in range(n)],
        "score": np.linspace(0.95, 0.05, n),
        "outlier": [i in (41, 57) for i in range(n)],
        "outlier_score": rng.uniform(0, 5, n),
        "source": ["msl" if i % 2 else "pds-atlas" for i in range(n)],
        "mission": ["MSL" if i % 2 else "MRO" for i in range(n)],
        "instrument": ["MASTCAM" if i % 2 else "HiRISE" for i in range(n)],
        "view": ["surface" if i % 2 else "orbital" for i in range(n)],
        "is_color": [i % 4 == 1 for i in range(n)],
        "sol": pd.array([i * 10 if i % 2 else None for i in range(n)], dtype="Int64"),
        "date_taken": ["" for _ in range(n)],
        "edge_ratio": rng.uniform(0, 1, n),
    })
    frame.loc[50, "title"] = "Layered Deposits in Gale Crater"
    frame.loc[3, "score"] = np.nan
    return frame


def test_a_search_finds_rows_anywhere_in_the_ranking_by_name_title_or_source_id(table):
    assert table.iloc[select(table, RankingQuery(search="gale crater"))]["id"].tolist() == [150]
    assert table.iloc[select(table, RankingQuery(search="IMG_059"))]["name"].tolist() == ["img_059.jpg"]
    found = table.iloc[select(table, RankingQuery(search="psp_00005"))]
    assert found["source_id"].tolist() == ["PSP_000051_RED", "PSP_000054_RED", "PSP_000057_RED"]
    assert len(select(table, RankingQuery(search="gale nothing-like-this"))) == 0  # every word must match


def test_the_search_index_can_be_built_once_and_reused(table):
    index = search_index(table)
    for word in ("crater", "psp", "img_01"):
        query = RankingQuery(search=word)
        assert select(table, query, index).tolist() == select(table, query).tolist()


def test_filters_combine_and_keep_rank_order(table):
    query = RankingQuery(mission=("MSL",), colour=True, sols=(100, 400))
    kept = table.iloc[select(table, query)]
    assert len(kept) and kept["rank"].is_monotonic_increasing
    assert set(kept["mission"]) == {"MSL"} and kept["is_color"].all() and kept["sol"].between(100, 400).all()
    assert len(kept) == ((table["mission"] == "MSL") & table["is_color"] & table["sol"].between(100, 400)
                         .fillna(False)).sum()


def test_score_range_and_outliers_only_leave_out_rows_without_a_score(table):
    kept = table.iloc[select(table, RankingQuery(score=(0.0, 1.0)))]
    assert len(kept) == len(table) - 1 and kept["score"].notna().all()
    high = table.iloc[select(table, RankingQuery(score=(0.9, 1.0)))]
    assert (high["score"] >= 0.9).all() and len(high) == (table["score"] >= 0.9).sum()
    assert table.iloc[select(table, RankingQuery(outliers_only=True))]["id"].tolist() == [141, 157]


def test_sorting_orders_the_whole_table_not_one_page(table):
    by_sol = table.iloc[select(table, RankingQuery(sort="sol", descending=True))]
    assert by_sol["sol"].iloc[0] == table["sol"].max()  # row 59, far past a first page of 25
    assert by_sol["sol"].iloc[:30].is_monotonic_decreasing and by_sol["sol"].iloc[30:].isna().all()
    by_feature = table.iloc[select(table, RankingQuery(sort="edge_ratio"))]
    assert by_feature["edge_ratio"].is_monotonic_increasing
    worst_first = table.iloc[select(table, RankingQuery(sort="score"))]
    assert worst_first["score"].iloc[:-1].is_monotonic_increasing and np.isnan(worst_first["score"].iloc[-1])
    assert select(table, RankingQuery(sort="rank", descending=True)).tolist() == list(range(59, -1, -1))


def test_sorting_by_a_column_the_table_lacks_is_a_clear_error(table):
    with pytest.raises(ValueError, match="cannot sort by 'landmark_score'"):
        select(table, RankingQuery(sort="landmark_score"))


def test_a_link_carries_the_query_and_says_what_it_did_not_understand():
    query, problems = RankingQuery.from_params({
        "q": ["  dune "], "mission": ["MRO", "MRO", "MSL"], "kind": ["sepia"], "score": ["0.2-1.5"],
        "outliers": ["1"], "sort": ["DROP TABLE"], "order": ["desc"], "image": ["5"]})
    assert query == RankingQuery(search="dune", mission=("MRO", "MSL"), outliers_only=True, descending=True)
    assert problems == ["kind=sepia is neither colour nor grayscale",
                        "score=0.2-1.5 is not a range of scores (low-high, within 0-1)",
                        "sort=DROP TABLE is not a column this table can be sorted by"]


choices = st.lists(st.sampled_from(["MRO", "MSL", "Mars 2020", "upload", "a-b"]), unique=True, max_size=3)


@given(search=st.text(alphabet="abc XYZ-_.", max_size=12), mission=choices, view=choices,
       colour=st.sampled_from([None, True, False]),
       sols=st.one_of(st.none(), st.tuples(st.integers(0, 5000), st.integers(0, 5000)).map(sorted).map(tuple)),
       score=st.one_of(st.none(), st.tuples(st.sampled_from([0.0, 0.25, 0.5]), st.sampled_from([0.5, 0.75, 1.0]))),
       outliers=st.booleans(), reviewed=st.sampled_from([None, True, False]),
       label=st.lists(st.sampled_from(["crater", "not_interesting", "gully"]), unique=True, max_size=2),
       sort=st.sampled_from(sortable_columns()), descending=st.booleans())
def test_every_query_survives_a_round_trip_through_a_link(search, mission, view, colour, sols, score, outliers,
                                                         reviewed, label, sort, descending):
    query = RankingQuery(search=" ".join(search.split()), mission=tuple(mission), view=tuple(view), colour=colour,
                         sols=sols, score=score, outliers_only=outliers, reviewed=reviewed, label=tuple(label),
                         sort=sort, descending=descending)
    params = {k: v if isinstance(v, list) else [v] for k, v in query.to_params().items()}
    assert RankingQuery.from_params(params) == (query, [])


def test_review_filters_use_each_rows_label_over_the_whole_table(table):
    labels = pd.DataFrame({"id": [105, 158, 101, 999], "label": ["crater", "crater", "not_interesting", "spider"]})
    row_labels = labels_of_rows(pd.Index(table["id"]), labels)
    assert row_labels.notna().sum() == 3  # the label of an image not in the table is left out
    reviewed = select(table, RankingQuery(reviewed=True), row_labels=row_labels)
    assert table["id"].iloc[reviewed].tolist() == [101, 105, 158]  # rank order kept
    assert len(select(table, RankingQuery(reviewed=False), row_labels=row_labels)) == len(table) - 3
    craters = select(table, RankingQuery(label=("crater",), mission=("MSL",)), row_labels=row_labels)
    assert table["id"].iloc[craters].tolist() == [105]  # 158 is an MRO image
    assert len(select(table, RankingQuery(reviewed=True))) == 0  # no labels given: nothing is reviewed
    assert RankingQuery.from_params({"reviewed": ["maybe"]})[1] == ["reviewed=maybe is neither yes nor no"]


def test_exports_hold_every_filtered_row_with_its_values(table):
    rows = table.iloc[select(table, RankingQuery(mission=("MSL",), sort="sol", descending=True))]
    from_csv = pd.read_csv(io.BytesIO(to_csv(rows)))
    from_parquet = pd.read_parquet(io.BytesIO(to_parquet(rows)))
    for exported in (from_csv, from_parquet):
        assert exported["id"].tolist() == rows["id"].tolist()
        assert list(exported.columns[:4]) == ["rank", "id", "name", "score"]
        assert np.allclose(exported["edge_ratio"], rows["edge_ratio"])
    assert from_parquet["sol"].tolist() == rows["sol"].tolist()


def test_latitude_and_scale_filters_keep_known_places_in_range_and_go_in_the_link(table):
    n = len(table)
    table["latitude"] = [(-88.0 + 3 * i) if i % 5 else np.nan for i in range(n)]
    table["scale_m_per_px"] = [0.25 * (1 + i % 4) if i % 3 else np.nan for i in range(n)]
    query = RankingQuery(latitude=(-90.0, -60.0), scale=(0.25, 0.5))
    kept = table.iloc[select(table, query)]
    expected = table[table["latitude"].between(-90, -60) & table["scale_m_per_px"].between(0.25, 0.5)]
    assert len(kept) and kept["id"].tolist() == expected["id"].tolist()
    assert query.to_params() == {"lat": "-90..-60", "scale": "0.25..0.5"}
    again, problems = RankingQuery.from_params({k: [v] for k, v in query.to_params().items()})
    assert again == query and problems == []
    _, problems = RankingQuery.from_params({"lat": ["-100..10"], "scale": ["1-2"]})
    assert problems == ["lat=-100..10 is not a range of latitudes (south..north, degrees within -90..90)",
                        "scale=1-2 is not a range of scales (fine..coarse, metres per pixel)"]
