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
