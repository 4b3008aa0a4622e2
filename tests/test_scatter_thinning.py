"""The Explore scatter draws one point per spot of a large catalog, and every spot that holds images."""

import numpy as np
import pandas as pd

from ui.data import thin_for_display


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "y": rng.normal(size=n),
                          "outlier": rng.random(n) < 0.05})
    return table  # in "rank" order: id 0 is the best


def _cells(table, grid, reference):
    cx = np.minimum(((table.x - reference.x.min()) / (reference.x.max() - reference.x.min()) * grid[0]).astype(int),
                    grid[0] - 1)
    cy = np.minimum(((table.y - reference.y.min()) / (reference.y.max() - reference.y.min()) * grid[1]).astype(int),
                    grid[1] - 1)
    return cx * grid[1] + cy


def test_small_catalog_is_drawn_whole():
    table = _table(500)
    assert thin_for_display(table, "x", "y", above=1000) is table


def test_one_point_per_occupied_cell_outlier_first_else_best_ranked():
    grid = (40, 30)
    table = _table(20_000)
    drawn = thin_for_display(table, "x", "y", above=1000, grid=grid)
    cells_all, cells_drawn = _cells(table, grid, table), _cells(drawn, grid, table)
    assert cells_drawn.is_unique
    assert set(cells_drawn) == set(cells_all)
    for cell, row in zip(cells_drawn, drawn.itertuples()):
        members = table[cells_all == cell]
        expected = members[members.outlier].id.min() if members.outlier.any() else members.id.min()
        assert row.id == expected
    assert list(drawn.id) == sorted(drawn.id)  # still in rank order


def test_points_without_coordinates_are_left_out():
    table = _table(3000)
    table.loc[::7, "x"] = np.nan
    drawn = thin_for_display(table, "x", "y", above=100, grid=(20, 20))
    assert drawn.x.notna().all() and len(drawn) <= 400
