"""Where an image came from: one record per image, stored beside its features in the catalog."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Provenance:
    """Origin of one image.  Every text field is untrusted and shown as plain text.

    Attributes
    ----------
    source : str
        Where it came from: ``upload``, ``sample``, ``file``, ``nasa-images``, ``mars2020``, ``msl``,
        ``pds-atlas4``, ``pds-atlas``.
    name : str
        The name a user knows it by: the original file name, or the source's id.
    source_id : str
        The id at the source (nasa_id, product id, image id); empty for local files.
    page_url, file_url : str
        The human page and the file downloaded, where known.
    title, description : str
        As given by the source.
    mission, instrument : str
        Mission and instrument or camera.
    sol : int or None
        Martian day of a rover image.
    date_taken : str
        ISO-8601 date or time the image was taken, where known.
    credit : str
        Who to credit.
    synthetic : bool
        True for rows made by benchmarks for scale tests; never mixed with a user's data.
    added_by : str
        Who added it in the app: the signed-in user's email (else their sign-in subject); empty from
        the command line or when nobody was signed in.
    """

    source: str
    name: str
    source_id: str = ""
    page_url: str = ""
    file_url: str = ""
    title: str = ""
    description: str = ""
    mission: str = ""
    instrument: str = ""
    sol: int | None = None
    date_taken: str = ""
    credit: str = ""
    synthetic: bool = False
    added_by: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


PROVENANCE_FIELDS = [f.name for f in fields(Provenance)]
