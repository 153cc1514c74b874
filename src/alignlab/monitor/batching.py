"""Group commit: many concurrent writers share one transaction.

A commit costs an fsync (PostgreSQL) or a WAL sync (SQLite) whatever its size, so under
load the web layer queues feedback here; one writer task takes everything queued, writes
it in one transaction on a worker thread and only then answers each waiting request. An
acknowledged event is therefore committed, exactly as without batching.

One bad row must never fail the others: when the batch's transaction fails, it is retried
row by row, so only the row that cannot be written gets the error. The error is logged by
its type only; its message may quote the rows (SQL parameters), i.e. request bodies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["GroupCommitter"]

log = logging.getLogger("alignlab.monitor.batching")

In = TypeVar("In")
Out = TypeVar("Out")


class GroupCommitter(Generic[In, Out]):
    """Batches :meth:`submit` calls into ``write(batch)`` calls of at most ``max_batch`` items.

    ``write`` returns one result per item; a result that is an exception is raised to
    that item's caller only. When ``write`` itself raises for a batch of several items,
    each item is written again on its own (:meth:`_isolate`).
    """

    def __init__(self, write: Callable[[Sequence[In]], Sequence[Out | Exception]], *, max_batch: int = 512) -> None:
        self._write, self._max = write, max_batch
        self._queue: asyncio.Queue[tuple[In, asyncio.Future[Out]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._busy = False

    def start(self) -> None:
        """Start the writer task (inside the running event loop)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write what is queued and what is being written, then stop."""
        while not self._queue.empty() or self._busy:
            await asyncio.sleep(0.01)
        if self._task is not None:
            task, self._task = self._task, None  # a late submit() now fails instead of waiting forever
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def submit(self, item: In) -> Out:
        """Queue ``item`` and wait until its batch is committed."""
        if self._task is None:
            raise RuntimeError("GroupCommitter.start() was not called")
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._busy = True
            while len(batch) < self._max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await run_in_threadpool(self._isolate, [item for item, _ in batch])
            finally:
                self._busy = False
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _isolate(self, items: list[In]) -> Sequence[Out | Exception]:
        """Write ``items`` in one transaction; if it fails, write each alone (on this worker thread)."""
        try:
            return self._write(items)
        except Exception as exc:
            if len(items) == 1:
                log.error("a write failed (%s); its caller gets the error", type(exc).__name__)
                return [exc]
            log.warning("a batch of %d writes failed (%s); retrying them one by one", len(items), type(exc).__name__)
        return [result for item in items for result in self._isolate([item])]
