"""Where the chunks of :mod:`geo.chunked` are analysed besides this process: local worker processes
started with the run, or the workers of a ``dask.distributed`` cluster; their results come back in
chunk order."""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice

from geo._errors import GeoEnvironmentError
from geo._plan import RunPlan, plan_run

log = logging.getLogger("geo")


#: How long a dask scheduler may take to answer, s.
DASK_CONNECT_S = 10


#: Plans built in this process for the run whose chunks it analyses (a worker process or a dask
#: worker), by run: built on a run's first chunk, dropped when another run starts.
_PLANS: dict[str, RunPlan] = {}


def _in_order(jobs: Iterator, submit, ahead: int) -> Iterator:
    """Submit jobs at most ``ahead`` at a time and yield their results in job order.

    The next job is made (its earlier rows' boxes read) while the submitted ones run, so that a worker
    which finishes a chunk finds the next one waiting rather than waiting for it to be made.
    """
    pending = deque(submit(job) for job in islice(jobs, ahead))
    more = next(jobs, None)
    while pending:
        part = pending.popleft().result()
        if more is not None:
            pending.append(submit(more))
            more = next(jobs, None)
        yield part


def _plan_in_worker(run: str, plan_args: dict) -> None:
    """Build the run's plan in a worker process before its first chunk comes (see :func:`_work`)."""
    if run not in _PLANS:
        _PLANS.clear()
        _PLANS[run] = plan_run(**plan_args)


@contextmanager
def _worker_pool(workers: int, run: str, plan_args: dict) -> Iterator[ProcessPoolExecutor]:
    """``workers`` local processes, started at once: each imports geo and builds the run's plan while
    this process builds its own.  Chunks not yet started are cancelled when the run fails; after a
    run, the processes end in the background."""
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    pool = ProcessPoolExecutor(workers, mp_context=context)
    try:
        for _ in range(workers):
            pool.submit(_plan_in_worker, run, plan_args)
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=False)  # every chunk is done: the processes end while the figures are derived


@contextmanager
def dask_client(scheduler: str, workers: int):
    """A ``dask.distributed`` client: of the scheduler at ``scheduler`` (``tcp://host:port``), or with
    ``"local"`` of a local cluster of ``workers`` processes, closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise GeoEnvironmentError(
            "--engine dask needs dask.distributed: pip install 'geo[dask]' (or dask[distributed])"
        ) from exc
    if scheduler == "local":
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_S)
    except (OSError, TimeoutError) as exc:
        raise GeoEnvironmentError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield client


__all__ = ["DASK_CONNECT_S", "dask_client"]
