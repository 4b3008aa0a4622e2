"""Who may change the catalog: the rule the app applies, kept free of Streamlit so it can be tested plainly.

Two deployment choices decide it.  The setting ``read_only`` (``MARSVIZ_READ_ONLY``) makes the app
browse-only for everyone, and its :class:`~marsviz.catalog.Catalog` is opened read-only so that no
request, however it is crafted, can write.  Sign-in (Streamlit's ``st.login``, configured by an
``[auth]`` section in ``.streamlit/secrets.toml``) makes changes wait until a user is signed in, and
each image they add records who they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from marsviz import config


@dataclass(frozen=True)
class WriteAccess:
    """Whether the current visitor may change the catalog.

    Attributes
    ----------
    allowed : bool
    reason : {"", "read_only", "sign_in"}
        Why not: the deployment is read-only, or changes need a signed-in user and nobody is signed in.
    added_by : str
        What to record as the author of the changes (see :func:`identity`).
    """

    allowed: bool
    reason: Literal["", "read_only", "sign_in"] = ""
    added_by: str = ""


def read_only() -> bool:
    """The setting ``read_only``: whether this deployment refuses every change."""
    return bool(config.get("read_only"))


def identity(user: Mapping) -> str:
    """Who a user is, for the catalog's ``added_by``: their email, else their sign-in subject.

    Parameters
    ----------
    user : mapping
        The user's claims as ``st.user`` holds them (``is_logged_in``, ``email``, ``sub``...).

    Returns
    -------
    str
        Empty unless the user is signed in.  Hosting platforms may fill in ``email`` without a
        sign-in; that is not trusted.
    """
    if not user.get("is_logged_in"):
        return ""
    return str(user.get("email") or user.get("sub") or "")


def write_access(user: Mapping, *, read_only: bool, sign_in_required: bool) -> WriteAccess:
    """Decide whether `user` may change the catalog.

    Parameters
    ----------
    user : mapping
        The user's claims (see :func:`identity`).
    read_only : bool
        The deployment refuses every change.
    sign_in_required : bool
        Changes need a signed-in user.

    Returns
    -------
    WriteAccess

    Examples
    --------
    >>> write_access({}, read_only=False, sign_in_required=False)
    WriteAccess(allowed=True, reason='', added_by='')
    >>> write_access({"is_logged_in": False}, read_only=False, sign_in_required=True).reason
    'sign_in'
    >>> write_access({"is_logged_in": True, "email": "ada@example.org"}, read_only=False,
    ...              sign_in_required=True).added_by
    'ada@example.org'
    >>> write_access({"is_logged_in": True, "email": "ada@example.org"}, read_only=True,
    ...              sign_in_required=True).allowed
    False
    """
    if read_only:
        return WriteAccess(False, "read_only")
    if sign_in_required and not user.get("is_logged_in"):
        return WriteAccess(False, "sign_in")
    return WriteAccess(True, "", identity(user))
