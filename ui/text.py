"""Showing untrusted text (file names, NASA metadata) so that it can never become markup or a link."""

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: object) -> str:
    """`text` with every Markdown-significant character backslash-escaped and line breaks flattened.

    Streamlit never renders raw HTML here (``unsafe_allow_html`` stays off); escaping also stops
    Markdown links, images and emphasis, so a title like ``[x](javascript:...)`` shows as typed.
    """
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def ordinal(number: int) -> str:
    """`number` with its English ordinal suffix.

    Examples
    --------
    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 31, 100, 102, 111)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '31st', '100th', '102nd', '111th']
    """
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
