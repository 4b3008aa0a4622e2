"""Feature extraction on an existing Dask distributed cluster (``python -m marsviz analyze --dask ADDRESS``).

Dask is an optional extra (``pip install 'marsviz[dask]'`` or ``-r requirements-dask.txt``), imported
only here and only when used.  The client reads each image file and ships its bytes with the task, so
workers need marsviz (same version) but no access to the catalog's folder; the catalog is written by
this process alone.  The client's analysis settings travel with each task, and each worker checks that
its feature set is the client's, so the values are the ones the local process pool would compute.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

from marsviz import config
from marsviz.config import AnalysisSettings
from marsviz.decode import read_bounded
from marsviz.errors import ClusterMismatch, ImageRejected, MarsvizError
from marsviz.registry import feature_set_version

#: Tasks in flight per worker thread: enough to hide the network, few enough to keep memory flat.
IN_FLIGHT_PER_THREAD = 4


def features_on_worker(data: bytes, name: str, settings: AnalysisSettings,
                       expected_version: str) -> dict[str, float] | ImageRejected:
    """The task run on a worker: feature values of one encoded image, or its rejection.

    Parameters
    ----------
    data : bytes
        The image file's content.
    name : str
        The file's name, for messages.
    settings : AnalysisSettings
        The client's, so that every worker analyses as the client would, whatever its own environment.
    expected_version : str
        The client's :func:`marsviz.registry.feature_set_version` of `settings`.

    Raises
    ------
    ClusterMismatch
        If this worker's feature set differs from the client's (another marsviz version installed).
    """
    from marsviz import registry
    from marsviz.pipeline import analyse_features

    own_version = registry.feature_set_version(settings)
    if own_version != expected_version:
        raise ClusterMismatch(f"a Dask worker has feature set {own_version}, the client {expected_version}: install "
                              "the same marsviz version and model files on the workers")
    try:
        return analyse_features(data, name, settings)
    except ImageRejected as error:
        return error


def connect(address: str, timeout: float | None = None):
    """A :class:`dask.distributed.Client` connected to the scheduler at `address`.

    Raises
    ------
    MarsvizError
        If Dask is not installed or the scheduler cannot be reached.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise MarsvizError("--dask needs the optional Dask extra: pip install 'marsviz[dask]' "
                           "(or pip install -r requirements-dask.txt)") from None
    timeout = timeout if timeout is not None else float(config.get("dask_connect_timeout"))
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise MarsvizError(f"cannot reach the Dask scheduler at {address} ({error})") from None


def dask_runner(address_or_client) -> Callable[[list[Path], AnalysisSettings], Iterator[tuple[Path, object]]]:
    """A runner for :func:`marsviz.pipeline.reanalyse` that computes features on a Dask cluster.

    Parameters
    ----------
    address_or_client : str or dask.distributed.Client
        The scheduler's address (``tcp://host:8786``), or a connected client (left open).

    Returns
    -------
    callable
        ``runner(paths, settings)`` yielding ``(path, feature values or ImageRejected)`` in input order,
        with a bounded number of images in flight.

    Raises
    ------
    MarsvizError
        When iterated: Dask missing, the scheduler unreachable, a worker with another feature set
        (:class:`ClusterMismatch`), or a worker lost.
    """
    def run(paths: list[Path], settings: AnalysisSettings) -> Iterator[tuple[Path, object]]:
        own_client = isinstance(address_or_client, str)
        client = connect(address_or_client) if own_client else address_or_client
        try:
            yield from _run(client, paths, settings)
        finally:
            if own_client:
                client.close()
    return run


def _run(client, paths: list[Path], settings: AnalysisSettings) -> Iterator[tuple[Path, object]]:
    version = feature_set_version(settings)
    threads = sum(client.nthreads().values()) or 1
    pending: deque = deque()
    remaining = iter(paths)

    def submit(path: Path):
        try:
            data = read_bounded(path, path.name)
        except ImageRejected as error:
            return path, error
        return path, client.submit(features_on_worker, data, path.name, settings, version, pure=False)

    try:
        pending.extend(submit(p) for p in islice(remaining, threads * IN_FLIGHT_PER_THREAD))
        while pending:
            path, outcome = pending.popleft()
            if not isinstance(outcome, ImageRejected):
                try:
                    outcome = outcome.result()
                except MarsvizError:
                    raise
                except Exception as error:  # a lost worker or a cancelled task: either way the run stopped
                    raise MarsvizError(f"the Dask cluster failed on {path.name} "
                                       f"({type(error).__name__}: {error})") from None
            pending.extend(submit(p) for p in islice(remaining, 1))
            yield path, outcome
    finally:
        unfinished = [outcome for _, outcome in pending if not isinstance(outcome, ImageRejected)]
        if unfinished:
            client.cancel(unfinished)
