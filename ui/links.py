"""Keeping a page's state in its URL, so that a link shows what the sender saw."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import streamlit as st


def link_values(name: str) -> list[str]:
    """Every value of URL parameter `name` (repeated parameters give several); empty when absent."""
    return list(st.query_params.get_all(name))


def link_params(names: Iterable[str]) -> dict[str, list[str]]:
    """The URL's values of each parameter in `names` that it has."""
    return {name: values for name in names if (values := link_values(name))}


def write_link(params: Mapping[str, str | list[str]], owned: Iterable[str]) -> None:
    """Make the URL's parameters in `owned` say `params`: set those that differ, remove those not given
    (or given as an empty string).

    Parameters outside `owned` (another widget's, the open image) are left alone, and an unchanged
    parameter is not written again.
    """
    for name in owned:
        wanted = params.get(name)
        wanted = [v for v in ([wanted] if isinstance(wanted, str) else wanted or []) if v != ""]
        if link_values(name) == wanted:
            continue
        if wanted:
            st.query_params[name] = wanted if len(wanted) > 1 else wanted[0]
        else:
            del st.query_params[name]
