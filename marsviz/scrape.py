"""A scrape run: list a source, download what is new in a bounded pool, add each file to the catalog.

Items already in the catalog (by source and source id) are skipped without downloading.  Each file
streams to a temporary file in the catalog's ``tmp`` folder, then :func:`marsviz.pipeline.add_file`
verifies and analyses it and moves it into the content-addressed store (or drops it as a duplicate
by content hash).  Every image is recorded as soon as it is added, so a stopped, cancelled or killed
run keeps what it fetched and a re-run resumes where it stopped.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, NamedTuple

from PIL import Image

from marsviz import config
from marsviz.catalog import Catalog
from marsviz.config import AnalysisSettings
from marsviz.errors import Cancelled, FetchError, MarsvizError, ProductLabelError
from marsviz.fetch import make_session, redact
from marsviz.label_file import label_info, label_text
from marsviz.pipeline import add_file
from marsviz.product_label import ProductInfo
from marsviz.products import MAX_LABEL_BYTES
from marsviz.sources import SourceItem
from marsviz.store import remove_stale_parts

#: The ledger of duplicate source ids that earlier versions kept beside the catalog; read once into it.
LEGACY_ALIASES_FILE = "scrape-duplicates.jsonl"


class FetchedLabel(NamedTuple):
    """An item's product label, fetched beside its image: what it says, its text, where it came from."""

    info: ProductInfo
    text: str
    url: str


@dataclass
class ScrapeReport:
    """What a run did.  Also the progress snapshot passed to the callback while it runs.

    Attributes
    ----------
    source : str
    considered : int
        Items listed by the source and looked at.
    total : int or None
        How many items the run expects to look at (the source's count, capped by the limit), if known.
    skipped : int
        Already in the catalog (by source id, or known duplicates by content), not downloaded.
    added : list of (int, str)
        Catalog id and name of each image added.
    duplicates : list of (int, str)
        Downloaded, but the same content was already in the catalog (its id, and the item's name).
    rejected, failed : list of (str, str)
        Name and reason: not an acceptable image / download failed.
    labelled : int
        Images added with what their product's label says (sources that offer labels).
    unlabelled : list of (str, str)
        Name and reason of images added without it: their label could not be fetched or read.
    error : str
        Why the run stopped early (service unreachable, garbage answers); empty if it did not.
    cancelled : bool
        The cancel flag stopped the run.
    last : str
        What happened to the most recent item, for a progress line.
    """

    source: str
    considered: int = 0
    total: int | None = None
    skipped: int = 0
    added: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    labelled: int = 0
    unlabelled: list = field(default_factory=list)
    error: str = ""
    cancelled: bool = False
    last: str = ""

    @property
    def done(self) -> int:
        """Items finished (skipped, added, duplicate, rejected or failed)."""
        return self.skipped + len(self.added) + len(self.duplicates) + len(self.rejected) + len(self.failed)

    @property
    def ok(self) -> bool:
        """True when the run went through without stopping early or losing an item."""
        return not self.error and not self.cancelled and not self.failed

    def counts(self) -> str:
        """What happened to the items, in one line for people (without why the run stopped)."""
        line = (f"{self.source}: {len(self.added)} added, {self.skipped} already there, "
                f"{len(self.duplicates)} duplicates, {len(self.rejected)} rejected, {len(self.failed)} failed")
        if self.labelled or self.unlabelled:
            line += f"; {self.labelled} with their label's metadata, {len(self.unlabelled)} without (label unreadable)"
        return line

    def progress_line(self) -> str:
        """How far a running scrape is, for a progress bar's label.

        Examples
        --------
        >>> ScrapeReport("msl").progress_line()
        'msl: asking the service for its list of images (slow answers and failed requests are retried)...'
        >>> ScrapeReport("msl", total=20, skipped=3).progress_line()
        'msl: 3 of 20 items done'
        """
        if not self.done and not self.considered:
            return (f"{self.source}: asking the service for its list of images (slow answers and failed requests "
                    "are retried)...")
        return f"{self.source}: {self.done} of {self.total if self.total else 'an unknown number of'} items done"

    def summary(self) -> str:
        """One line for people."""
        line = self.counts()
        if self.cancelled:
            line += "; cancelled"
        if self.error:
            line += f"; stopped: {self.error}"
        return line


def run_scrape(catalog: Catalog, source, session, *, limit: int | None = None, workers: int | None = None,
               progress: Callable[[ScrapeReport], None] | None = None,
               cancel: threading.Event | None = None, added_by: str = "") -> ScrapeReport:
    """Scrape `source` into `catalog`.

    Parameters
    ----------
    catalog : Catalog
    source : marsviz.sources.Source
        Lists the items (see :func:`marsviz.sources.make_source`).
    session : marsviz.fetch.NasaSession
        The session the source uses; downloads go through it too.
    limit : int, optional
        Look at no more than this many items of the source (new or not), so the same command is
        idempotent and a re-run after an interruption finishes the same set.
    workers : int, optional
        Downloads at once; default the ``http_concurrency`` setting.  The session's per-host limit
        applies on top.
    progress : callable, optional
        Called with the report after each item.
    cancel : threading.Event, optional
        When set, no new download starts; those in flight finish and are kept, unless the session is
        also aborted (:meth:`~marsviz.fetch.NasaSession.abort`, as :meth:`ScrapeJob.cancel` does): then
        they stop at once and leave nothing behind.
    added_by : str, optional
        Who started the run (a signed-in user of the app), recorded with every image it adds.

    Returns
    -------
    ScrapeReport
        Also when the run stopped early: then ``error`` says why, and everything added before stays.
    """
    return _Run(catalog, source, session, limit, workers, progress, cancel, added_by).run()


class ScrapeJob:
    """A scrape run in a background thread, for callers that must stay responsive (the app).

    Parameters
    ----------
    catalog : Catalog
    source_name : str
        One of :data:`marsviz.sources.SOURCE_NAMES`.
    query : marsviz.sources.Query
    api_root : str, optional
        Another server for the source.
    limit : int, optional
        As in :func:`run_scrape`.
    added_by : str, optional
        As in :func:`run_scrape`.

    Examples
    --------
    ``job = ScrapeJob(catalog, "msl", Query(sol_min=100, sol_max=100)); job.start()``, then poll
    :meth:`snapshot` until :attr:`running` is False; :meth:`cancel` asks it to stop.
    """

    def __init__(self, catalog: Catalog, source_name: str, query, *, api_root: str | None = None,
                 limit: int | None = None, added_by: str = ""):
        from marsviz.sources import make_source

        # Built here, not in the thread, so a bad option is an error for the caller right away.
        self.session = make_session(api_root)
        self.source = make_source(source_name, self.session, query, api_root=api_root)
        self.catalog = catalog
        self.limit = limit
        self.added_by = added_by
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._report = ScrapeReport(source_name)
        self._thread = threading.Thread(target=self._run, name="marsviz-scrape", daemon=True)

    def start(self) -> "ScrapeJob":
        """Start the run; returns self."""
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop the run within moments, keeping everything added before.

        No new request starts; those in flight (listing pages, downloads) are cut off through
        :meth:`~marsviz.fetch.NasaSession.abort` and their partial files removed.
        """
        self._cancel.set()
        self.session.abort()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run to end; True if it has."""
        self._thread.join(timeout)
        return not self.running

    def snapshot(self) -> ScrapeReport:
        """A copy of the report as it stands."""
        with self._lock:
            return _copy(self._report)

    def _publish(self, report: ScrapeReport) -> None:
        with self._lock:
            self._report = _copy(report)

    def _run(self) -> None:
        try:
            report = run_scrape(self.catalog, self.source, self.session, limit=self.limit,
                                progress=self._publish, cancel=self._cancel, added_by=self.added_by)
        except MarsvizError as error:
            report = self.snapshot()
            report.error = report.error or redact(str(error))
        except Exception as error:  # noqa: BLE001 - a thread has no caller to raise to; say what happened
            report = self.snapshot()
            report.error = redact(f"unexpected failure: {type(error).__name__}: {error}")
        self._publish(report)


def _copy(report: ScrapeReport) -> ScrapeReport:
    return replace(report, added=list(report.added), duplicates=list(report.duplicates),
                   rejected=list(report.rejected), failed=list(report.failed), unlabelled=list(report.unlabelled))


class _Run:
    def __init__(self, catalog, source, session, limit, workers, progress, cancel, added_by=""):
        self.added_by = added_by
        self.catalog = catalog
        self.source = source
        self.session = session
        self.limit = limit if limit and limit > 0 else None
        self.workers = max(1, workers or int(config.get("http_concurrency")))
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self.report = ScrapeReport(source.name)
        self.tmp_dir = catalog.tmp_dir
        import_legacy_aliases(catalog)
        self.pending: dict[Future, SourceItem] = {}
        self.stopped = False
        self.failures_in_a_row = 0
        self.max_failures = max(1, int(config.get("scrape_max_failures")))
        self.analysis_settings = AnalysisSettings.from_environment()

    def run(self) -> ScrapeReport:
        remove_stale_parts(self.tmp_dir.glob("download-*.part"))
        executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="marsviz-download")
        try:
            self._list_and_submit(executor)
            while self.pending:
                if self.cancel.is_set() or self.stopped:
                    for future in self.pending:
                        future.cancel()
                self._collect(wait(self.pending, return_when=FIRST_COMPLETED).done)
        except BaseException:  # e.g. Ctrl-C: cut the downloads in flight instead of waiting for them
            self.session.abort()
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            for future in self.pending:  # only left over when an exception escaped
                _discard(future)
        if self.cancel.is_set() and not self.report.error:
            self.report.cancelled = True
        return self.report

    def _list_and_submit(self, executor: ThreadPoolExecutor) -> None:
        items = self.source.items()
        seen: set[str] = set()
        while not self.stopped and not self.cancel.is_set():
            if self.limit is not None and self.report.considered >= self.limit:
                return
            while len(self.pending) >= 2 * self.workers:
                self._collect(wait(self.pending, return_when=FIRST_COMPLETED).done)
                if self.stopped or self.cancel.is_set():
                    return
            try:
                item = next(items)
            except StopIteration:
                return
            except MarsvizError as error:
                if not isinstance(error, Cancelled):
                    self._stop(str(error))
                return
            self.report.considered += 1
            self._update_total()
            key = item.provenance.source_id
            if key in seen or self.catalog.find_by_source_id(self.source.name, key) is not None:
                self.report.skipped += 1
                self._notify(f"already there: {item.provenance.name}")
                continue
            seen.add(key)
            self.pending[executor.submit(self._fetch, item)] = item

    def _fetch(self, item: SourceItem) -> tuple[Path, str, FetchedLabel | str | None]:
        """Runs in the pool: find the file (if the listing did not say) and download it, and read its label.

        Returns the file, its URL, and its label (None: no label offered; text: why it is unread).
        """
        url = item.url()
        if not url:
            raise FetchError(f"{item.provenance.name}: the source offers no image file for it")
        # The pipeline refuses files over max_upload_bytes; downloading more than that would be wasted.
        cap = min(int(config.get("max_download_bytes")), int(config.get("max_upload_bytes")))
        path = self.session.download(url, self.tmp_dir, max_bytes=cap)
        try:
            return path, url, self._label(item, path)
        except BaseException:  # cancelled while reading the label
            path.unlink(missing_ok=True)
            raise

    def _label(self, item: SourceItem, image: Path) -> FetchedLabel | str | None:
        """The item's product label and what it says about the `image` downloaded (a reduced copy of the
        product: its scale is the copy's); why it could not be read; None when the source offers no label."""
        if not item.label_url:
            return None
        try:
            text = label_text(self.session.read_start(item.label_url, MAX_LABEL_BYTES))
            return FetchedLabel(label_info(text, image_size=_size(image)), text, item.label_url)
        except Cancelled:
            raise
        except (FetchError, ProductLabelError) as error:
            return f"its label: {redact(str(error))}"

    def _collect(self, finished) -> None:
        for future in finished:
            item = self.pending.pop(future)
            if future.cancelled():
                continue
            name = item.provenance.name
            try:
                path, url, label = future.result()
            except FetchError as error:
                if isinstance(error, Cancelled):
                    continue
                self.report.failed.append((name, redact(str(error))))
                self.failures_in_a_row += 1
                if self.failures_in_a_row >= self.max_failures:
                    self._stop(f"{self.failures_in_a_row} downloads failed in a row; the last: {error}")
                self._notify(f"failed: {name}")
                continue
            except MarsvizError as error:  # e.g. a Retry-After longer than allowed: the service says stop
                self._stop(str(error))
                continue
            self.failures_in_a_row = 0
            try:
                provenance = replace(item.provenance, file_url=url, added_by=self.added_by)
                result = add_file(self.catalog, path, provenance, move=True, settings=self.analysis_settings,
                                  product=label.info if isinstance(label, FetchedLabel) else None)
            except MarsvizError as error:
                self._stop(str(error))
                continue
            finally:
                path.unlink(missing_ok=True)
            if result.status == "added":
                self.report.added.append((result.image_id, name))
                if isinstance(label, FetchedLabel):
                    self.catalog.keep_product_label(self.catalog.get(result.image_id)["sha256"], label.text, label.url)
                    self.report.labelled += 1
                elif label:
                    self.report.unlabelled.append((name, label))
            elif result.status == "duplicate":
                self.report.duplicates.append((result.image_id, name))
                if result.image_id is not None:
                    self.catalog.add_source_aliases([(self.source.name, item.provenance.source_id, result.image_id)])
            else:
                self.report.rejected.append((name, result.reason))
            self._notify(f"{result.status}: {name}")

    def _stop(self, message: str) -> None:
        if not self.report.error:
            self.report.error = redact(message)
        self.stopped = True

    def _update_total(self) -> None:
        total = getattr(self.source, "total", None)
        if self.limit is not None:
            total = self.limit if total is None else min(total, self.limit)
        self.report.total = total

    def _notify(self, message: str) -> None:
        self.report.last = message
        if self.progress is not None:
            self.progress(self.report)


def import_legacy_aliases(catalog: Catalog) -> int:
    """Move the duplicate ledger of earlier versions (JSON lines beside the catalog) into the catalog.

    Returns the number of entries read; the file is deleted once they are stored.  A line cut short by
    a killed run, or naming no image, is skipped: it only costs a repeated download.
    """
    ledger = Path(catalog.home) / LEGACY_ALIASES_FILE
    try:
        lines = ledger.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    aliases = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("image_id"), int) and entry.get("source"):
            aliases.append((str(entry["source"]), str(entry.get("source_id", "")), entry["image_id"]))
    catalog.add_source_aliases(aliases)
    ledger.unlink(missing_ok=True)
    return len(aliases)


def _size(image: Path) -> tuple[int, int]:
    """Width and height of an image file, from its header; (0, 0) when it cannot be read (the pipeline says why)."""
    try:
        with Image.open(image) as opened:
            return opened.size
    except Exception:  # noqa: BLE001 - any unreadable header: the size is unknown, and so is the copy's scale
        return 0, 0


def _discard(future: Future) -> None:
    if future.done() and not future.cancelled() and future.exception() is None:
        Path(future.result()[0]).unlink(missing_ok=True)
