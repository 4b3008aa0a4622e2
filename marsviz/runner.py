"""Where per-item work runs: one bounded, ordered map, over a local process pool or a Dask cluster.

A runner has one method, ``map(task, items)``, yielding ``(item, task(item))`` in input order with a
bounded number of items in flight, so memory stays flat however long the batch.  :class:`LocalRunner`
runs in this process (one worker) or a process pool; :class:`DaskRunner` on an existing Dask cluster
(``python -m marsviz analyze --dask ADDRESS``).  Dask is an optional extra (``pip install 'marsviz[dask]'``
or ``-r requirements-dask.txt``), imported only when a :class:`DaskRunner` is used.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

from marsviz import config
from marsviz.decode import EncodedFile
from marsviz.errors import ImageRejected, MarsvizError

Item = TypeVar("Item")

#: Items handed to a local pool ahead of the one being yielded, per worker process: enough to keep every
#: worker busy, few enough that memory does not grow with the batch (results wait in order to be yielded).
IN_FLIGHT_PER_WORKER = 8

#: Tasks in flight per Dask worker thread: enough to hide the network, few enough to keep memory flat.
IN_FLIGHT_PER_THREAD = 4


class Runner(Protocol):
    """What runs a batch: ``map(task, items)`` yields ``(item, task(item))`` in input order."""

    def map(self, task: Callable[[Any], Any], items: Iterable[Item]) -> Iterator[tuple[Item, Any]]:
        ...


def bounded_map(submit: Callable[[Item], Future], items: Iterable[Item],
                in_flight: int) -> Iterator[tuple[Item, Any]]:
    """Submit items as earlier ones finish, at most `in_flight` at a time; yield results in input order.

    Parameters
    ----------
    submit : callable
        ``submit(item)`` returning a future (anything with ``result()`` and ``cancel()``).
    items : iterable
        Consumed lazily: an item is only submitted when a slot is free.
    in_flight : int
        Items submitted ahead of the one being yielded, at least 1.

    Yields
    ------
    (item, result)
        A task's exception is raised here, at its item; the items not yet yielded are cancelled when the
        iteration stops early.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     list(bounded_map(lambda n: pool.submit(pow, n, 2), range(4), in_flight=2))
    [(0, 0), (1, 1), (2, 4), (3, 9)]
    """
    pending: deque = deque()
    remaining = iter(items)
    try:
        pending.extend((item, submit(item)) for item in islice(remaining, max(1, in_flight)))
        while pending:
            item, future = pending.popleft()
            outcome = future.result()
            pending.extend((following, submit(following)) for following in islice(remaining, 1))
            yield item, outcome
    finally:
        for _, future in pending:
            future.cancel()


def worker_count(requested: int | None = None) -> int:
    """Processes to use: `requested`, else setting ``workers``, else one per core."""
    count = requested or int(config.get("workers")) or (os.cpu_count() or 1)
    return max(1, count)


@dataclass(frozen=True)
class LocalRunner:
    """Runs tasks on this machine: in this process for one worker, else in a pool of processes.

    Parameters
    ----------
    workers : int, optional
        See :func:`worker_count`.  With a pool, tasks and items must be picklable (a module-level
        function, or an instance of a module-level class).
    """

    workers: int | None = None

    def map(self, task: Callable[[Any], Any], items: Iterable[Item]) -> Iterator[tuple[Item, Any]]:
        """``(item, task(item))`` in input order.

        Raises
        ------
        MarsvizError
            If a worker process dies (for instance killed for lack of memory).
        """
        items = list(items)
        workers = min(worker_count(self.workers), max(1, len(items)))
        if workers == 1:
            for item in items:
                yield item, task(item)
            return
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                yield from bounded_map(lambda item: pool.submit(task, item), items, workers * IN_FLIGHT_PER_WORKER)
        except BrokenProcessPool:
            raise MarsvizError("a worker process stopped unexpectedly (out of memory?); "
                               "everything finished before it is kept") from None


class DaskRunner:
    """Runs tasks over image files on an existing Dask distributed cluster.

    Each item is a file path: it is read here, and its bytes travel with the task as an
    :class:`~marsviz.decode.EncodedFile`, so the workers need marsviz (the same version) but no access to
    this machine's folders.  A file refused when read here (missing, over the size limit) is yielded as
    its :class:`~marsviz.errors.ImageRejected` without reaching the cluster.

    Parameters
    ----------
    address_or_client : str or dask.distributed.Client
        The scheduler's address (``tcp://host:8786``), connected to for each :meth:`map` and closed
        after it; or a connected client, left open.
    """

    def __init__(self, address_or_client):
        self.address_or_client = address_or_client

    def map(self, task: Callable[[EncodedFile], Any], items: Iterable[str | Path]) -> Iterator[tuple[Any, Any]]:
        """``(path, task(EncodedFile of path))`` in input order.

        Raises
        ------
        MarsvizError
            Dask missing, the scheduler unreachable, or a task that failed on the cluster (a lost worker,
            a cancelled task); a task's own :class:`MarsvizError` (such as
            :class:`~marsviz.errors.ClusterMismatch`) as it is.
        """
        own_client = isinstance(self.address_or_client, str)
        client = connect(self.address_or_client) if own_client else self.address_or_client
        try:
            yield from self._map(client, task, items)
        finally:
            if own_client:
                client.close()

    @staticmethod
    def _map(client, task, items) -> Iterator[tuple[Any, Any]]:
        def submit(path):
            try:
                shipped = EncodedFile.read(path)
            except ImageRejected as error:
                done: Future = Future()
                done.set_result(error)
                return done
            return client.submit(task, shipped, pure=False)

        threads = sum(client.nthreads().values()) or 1
        try:
            yield from bounded_map(submit, items, threads * IN_FLIGHT_PER_THREAD)
        except MarsvizError:
            raise
        except Exception as error:  # a lost worker or a cancelled task: either way the run stopped
            raise MarsvizError(f"the Dask cluster failed ({type(error).__name__}: {error}); "
                               "everything finished before it is kept") from None


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
