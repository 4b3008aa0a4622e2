"""Ranking-page queries over a large ranked catalog, in one process: ``python benchmarks/bench_query.py``.

A search, a filter and a sort over the whole table (what the Ranking page runs on each change,
:func:`marsviz.query.select`), each timed against the same question asked the straightforward
pandas way (``str.contains`` per column, boolean indexing, ``sort_values``) on the same table, in
alternating repeats.  The table is the 71 bundled samples' catalog rows tiled to ``--rows`` rows
with unique names and jittered feature values, then ranked as the app ranks it; nothing is written
to disk but the 71-image catalog in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from common import alternating_times

from marsviz import query, scoring
from marsviz.catalog import Catalog
from marsviz.registry import REGISTRY
from marsviz.samples import load_samples

QUERIES = {
    "search 'crater'": query.RankingQuery(search="crater"),
    "search two words": query.RankingQuery(search="hirise esp_01"),
    "filter: mission, score range, outliers": query.RankingQuery(
        mission=("Mars Reconnaissance Orbiter",), score=(0.4, 1.0), outliers_only=True),
    "sort by a feature, descending": query.RankingQuery(sort="edge_ratio", descending=True),
    "sort by name": query.RankingQuery(sort="name"),
    "search + filter + sort": query.RankingQuery(search="hirise", view=("orbital",), sort="colour_variation",
                                                 descending=True),
}


def ranked_catalog(rows: int, seed: int = 0) -> pd.DataFrame:
    """The samples' catalog frame tiled to `rows` rows (unique ids and names, jittered features), ranked."""
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(home)
        load_samples(catalog, workers=1)
        frame = catalog.frame()
    tiled = frame.iloc[np.arange(rows) % len(frame)].reset_index(drop=True)
    tiled["id"] = np.arange(1, rows + 1)
    tiled["name"] = [f"synthetic-{i:07d}-{name}" for i, name in enumerate(tiled["name"])]
    noise = np.random.default_rng(seed).normal(0, 0.05, (rows, len(REGISTRY)))
    for column, name in enumerate(REGISTRY):
        tiled[name] = (tiled[name] + noise[:, column]).clip(0, 1)
    return scoring.ranked(tiled)


def straightforward(table: pd.DataFrame, asked: query.RankingQuery) -> pd.DataFrame:
    """The same question the plain pandas way: the baseline."""
    keep = pd.Series(True, index=table.index)
    for word in asked.search.lower().split():
        hit = pd.Series(False, index=table.index)
        for column in query.SEARCHED_COLUMNS:
            hit |= table[column].fillna("").str.contains(word, case=False, regex=False)
        keep &= hit
    for column in query.CHOICE_COLUMNS:
        if getattr(asked, column):
            keep &= table[column].isin(getattr(asked, column))
    if asked.score is not None:
        keep &= table["score"].between(*asked.score)
    if asked.outliers_only:
        keep &= table["outlier"]
    shown = table[keep]
    return shown.sort_values(asked.sort, ascending=not asked.descending, kind="stable", na_position="last")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="ranked catalog rows")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats (best is kept)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = parser.parse_args()
    start = time.perf_counter()
    table = ranked_catalog(args.rows)
    figures = {"rows": len(table), "table_s": time.perf_counter() - start}
    start = time.perf_counter()
    index = query.search_index(table)
    figures["search_index_s"] = time.perf_counter() - start
    for label, asked in QUERIES.items():
        ours = query.select(table, asked, index)
        plain = straightforward(table, asked)
        if not np.array_equal(table["id"].to_numpy()[ours], plain["id"].to_numpy()):
            raise AssertionError(f"{label}: select and the baseline disagree")
        ours_s, plain_s = alternating_times([lambda: query.select(table, asked, index),
                                             lambda: straightforward(table, asked)], args.repeats)
        figures[label] = {"s": ours_s, "baseline_s": plain_s, "rows_matched": len(ours)}
        print(f"{label:>40}: {ours_s:.3f} s ({plain_s / ours_s:.1f}x faster than pandas' {plain_s:.3f} s), "
              f"{len(ours):,} rows", file=sys.stderr)
    print(f"{'search index (once per ranking)':>40}: {figures['search_index_s']:.2f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
