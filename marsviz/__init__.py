"""marsviz: triage Mars images by features that hint at water, ice or unusual terrain."""

from marsviz.errors import CatalogError, FetchError, ImageRejected, MarsvizError, ModelError, SourceError

__version__ = "0.1.0"

__all__ = ["MarsvizError", "ImageRejected", "CatalogError", "SourceError", "FetchError", "ModelError"]
