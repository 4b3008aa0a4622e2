"""Page-level write checks: read-only deployments, and sign-in with Streamlit's own ``st.login``.

The rule itself is :func:`marsviz.access.write_access` (:func:`read_only` is re-exported from there);
this module feeds it the setting, the secrets and ``st.user``, and draws what a visitor who may not
write sees instead of the controls.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit import config as streamlit_config
from streamlit.errors import StreamlitAuthError

from marsviz.access import WriteAccess, identity, read_only, write_access
from ui.text import escape_markdown

READ_ONLY_MESSAGE = ("This deployment is read-only: you can browse, rank and explore the catalog and open links "
                     "to images, but nothing can be added here.")


def sign_in_configured() -> bool:
    """Whether sign-in is set up (an ``[auth]`` section in ``.streamlit/secrets.toml``): changes then need it.

    A secrets file that exists but cannot be read counts as configured, so a broken file closes
    changes instead of opening them to everyone.
    """
    if st.secrets.load_if_toml_exists():
        return "auth" in st.secrets
    return any(Path(path).exists() for path in streamlit_config.get_option("secrets.files"))


def current() -> WriteAccess:
    """Whether the visitor of this session may change the catalog, and who to record if so."""
    return write_access(st.user.to_dict(), read_only=read_only(), sign_in_required=sign_in_configured())


def require_writer(action: str) -> str:
    """Stop the page unless its visitor may change the catalog; return who to record as the author.

    A read-only deployment shows :data:`READ_ONLY_MESSAGE`; a visitor who must sign in first sees a
    "Sign in to `action`" button (``st.login``) and nothing else of the page.

    Parameters
    ----------
    action : str
        What the page does, for the message and button: ``"upload"``, ``"scrape"``.

    Returns
    -------
    str
        The ``added_by`` to store with each image (empty when sign-in is not configured).
    """
    allowed = current()
    if allowed.reason == "read_only":
        st.info(READ_ONLY_MESSAGE)
        st.stop()
    if allowed.reason == "sign_in":
        st.info(f"Sign in to {action}: on this deployment only signed-in members add images, and each image "
                "records who added it.")
        if st.button(f"Sign in to {action}", type="primary", icon=":material/login:", key=f"sign_in_{action}"):
            try:
                st.login()
            except StreamlitAuthError as error:
                st.error(f"Sign-in is not set up correctly on this server: {error}")
        st.stop()
    return allowed.added_by


def sidebar_status() -> None:
    """In the sidebar: that the deployment is read-only, or who is signed in, with a sign-out button."""
    if read_only():
        st.sidebar.caption("Read-only deployment: browse, rank and explore; images are added by its maintainers.")
    elif st.user.get("is_logged_in") and sign_in_configured():
        st.sidebar.caption(f"Signed in as {escape_markdown(identity(st.user.to_dict()))}")
        if st.sidebar.button("Sign out", icon=":material/logout:", key="sign_out"):
            st.logout()
