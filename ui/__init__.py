"""Streamlit helpers shared by the pages: cached loaders, the sidebar and the image viewer."""
