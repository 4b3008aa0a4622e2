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


def test_points_on_one_spot_are_drawn_apart_and_the_others_stay():
    from marsviz.plots import OVERLAP_GRID, spread_overlaps

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, 40), rng.uniform(0, 1, 40)
    x[:6], y[:6] = 0.5, 0.5  # six images with the same features
    shown_x, shown_y = spread_overlaps(x, y)
    spots = {(round(a, 9), round(b, 9)) for a, b in zip(shown_x[:6], shown_y[:6])}
    assert len(spots) == 6
    cell = np.array([np.ptp(x) / OVERLAP_GRID[0], np.ptp(y) / OVERLAP_GRID[1]])
    gaps = [np.hypot(*((np.array(p) - np.array(q)) / cell)) for p in spots for q in spots if p < q]
    assert min(gaps) >= 0.9  # about a marker apart or more
    nearest = [np.delete(np.hypot((x[i] - x) / cell[0], (y[i] - y) / cell[1]), i).min() for i in range(40)]
    alone = [i for i in range(6, 40) if nearest[i] > 2]
    assert alone and np.array_equal(shown_x[alone], x[alone]) and np.array_equal(shown_y[alone], y[alone])
