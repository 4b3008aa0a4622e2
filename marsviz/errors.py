"""The one exception tree of marsviz.

Pages and the command line catch :class:`MarsvizError` (or a child) and show its message;
anything else is a bug.
"""


class MarsvizError(Exception):
    """Base class of every error marsviz raises on purpose."""


class ImageRejected(MarsvizError):
    """A file is not an image marsviz accepts (format, size, corruption, bomb).

    Parameters
    ----------
    name : str
        The file's name as the user knows it (never used as a path).
    reason : str
        Why the file was refused, in words a user understands.
    """

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")

    def __reduce__(self):
        return type(self), (self.name, self.reason)


class SettingError(MarsvizError):
    """A ``MARSVIZ_*`` environment variable holds a value its setting does not accept."""


class CatalogError(MarsvizError):
    """The catalog cannot be read or written (disk full, read-only folder, corrupt file)."""


class SourceError(MarsvizError):
    """A NASA service could not be reached or answered something unusable."""


class FetchError(SourceError):
    """A download failed (network, status, size cap, not an image)."""


class ModelError(MarsvizError):
    """A trained model file is missing, corrupt or incompatible."""


class HTTPStatusError(SourceError):
    """A service answered with an HTTP error status.

    Parameters
    ----------
    message : str
        What happened, for a user.
    status : int
        The HTTP status code.
    """

    def __init__(self, message: str, status: int):
        self.status = status
        super().__init__(message)


class Cancelled(FetchError):
    """The request was stopped by :meth:`marsviz.fetch.NasaSession.abort` (a cancelled run), not by a fault."""


class LabelsError(MarsvizError):
    """A label, a labels file or a labeled image folder cannot be used (to label, import, evaluate, train)."""


class LabelConflict(MarsvizError):
    """A label was not saved: since the writer last saw it, someone else changed it, or its image is gone."""


class ClusterMismatch(MarsvizError):
    """A worker runs another marsviz feature set (another version or model files) than the run's own."""


class ProductLabelError(MarsvizError):
    """A product's label cannot be read on its own, as text (:mod:`marsviz.label_file`)."""


class DataSetError(MarsvizError):
    """A labeled data set could not be fetched, checked or laid out (:mod:`marsviz.datasets`)."""


def first_line(error: Exception, limit: int = 200) -> str:
    """The first line of `error`'s message (its type's name when it has none), at most `limit` characters:
    how a library's error is quoted in a refusal a person reads."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:limit]
