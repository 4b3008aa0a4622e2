"""Tables as plain JSON records: the one rule for missing values (NaN becomes ``null``) and rounding."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def json_value(value, digits: int | None = None):
    """`value` as JSON holds it: a missing number (None, NaN) becomes None, a float is rounded to `digits`.

    Examples
    --------
    >>> json_value(float("nan")), json_value(0.12345678, 6), json_value(3), json_value("x")
    (None, 0.123457, 3, 'x')
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return float(value) if digits is None else round(float(value), digits)
    return value


def json_records(table: pd.DataFrame, digits: int | None = None) -> list[dict]:
    """One dict per row of `table`, every value through :func:`json_value`."""
    return [{key: json_value(value, digits) for key, value in row.items()} for row in table.to_dict(orient="records")]
