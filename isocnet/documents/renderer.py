"""Typst, the PDF engine: one compiler per template per process, data passed
as JSON, fonts embedded (Typst's own Libertinus Serif: OFL, Latin, Greek and
Cyrillic, so names like Łukasz print), system fonts ignored so that every
machine renders the same bytes. Chosen by measurement: bench/pdf_renderers.py.

A batch (``render_many``: the billing run's documents step, the receipts
after auto debit, a batch of emails) is compiled in DOCUMENT_RENDER_PROCESSES
worker processes (default: one per CPU), so that Typst, the QR codes and the
JSON all run on every core: threads alone left one core mostly idle
(docs/performance.md). The workers import nothing of Django: each job is a
template's path and its data. With one process (or one CPU), threads;
so too where workers cannot start (_processes_usable).
"""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path

import typst

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates" / "documents"
_local = threading.local()


def _template_path(name: str) -> Path:
    from django.conf import settings

    override = (
        Path(settings.TEMPLATE_OVERRIDES_DIR) / "documents" / name
        if settings.TEMPLATE_OVERRIDES_DIR
        else None
    )
    return override if override and override.exists() else TEMPLATES / name


def _compiler(path: str) -> typst.Compiler:
    """This thread's compiler for the template at ``path``. Typst releases
    the GIL while it compiles, so threads render in parallel; a compiler is
    never shared between threads (nothing says it may be)."""
    compilers = getattr(_local, "compilers", None)
    if compilers is None:
        compilers = _local.compilers = {}
    if path not in compilers:
        compilers[path] = typst.Compiler(
            path, root=str(Path(path).parent), ignore_system_fonts=True
        )
    return compilers[path]


def qr_later(text: str) -> dict:
    """A QR code of ``text`` (segno), drawn as SVG where the PDF is compiled
    (in a worker process for a batch): put this where the template reads
    the SVG's text."""
    return {_QR: text}


_QR = "__qr_svg__"


def _qr_svg(text: str) -> str:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", scale=2, border=0)
    return buffer.getvalue().decode()


def _drawn(value):
    """``value`` with every qr_later(...) replaced by its SVG."""
    if isinstance(value, dict):
        if len(value) == 1 and _QR in value:
            return _qr_svg(value[_QR])
        return {k: _drawn(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drawn(v) for v in value]
    return value


def _compile(path: str, data: dict) -> bytes:
    payload = json.dumps(_drawn(data), ensure_ascii=False, default=str)
    return _compiler(path).compile(format="pdf", sys_inputs={"data": payload}, timestamp=0)


def _compile_job(job: tuple[str, dict]) -> bytes:
    """A worker process's task (module level, so it can be pickled)."""
    return _compile(*job)


def render_pdf(template: str, data: dict) -> bytes:
    """Render ``template`` (a .typ file) with ``data``. Deterministic: the
    same data gives the same bytes (fixed timestamp), in this process or a
    worker."""
    return _compile(str(_template_path(template)), data)


@cache
def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="typst")


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _process_pool(processes: int) -> ProcessPoolExecutor:
    """The worker processes, started once (by a fork server: this process
    has threads, which a plain fork would copy in whatever state)."""
    with _pools_lock:
        pool = _pools.get(processes)
        if pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            pool = _pools[processes] = ProcessPoolExecutor(processes, mp_context=context)
        return pool


_processes_failed = False


def _processes_usable() -> bool:
    """Worker processes re-import this process's main module (multiprocessing
    does); one read from standard input or a file since gone cannot be,
    so such a process (a shell, a script piped in) renders on threads. So
    does a process whose workers died once: the batch is never lost, only
    rendered here."""
    if _processes_failed:
        return False
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


def render_many(jobs: list[tuple[str, dict]]) -> list[bytes]:
    """render_pdf for each (template, data), in DOCUMENT_RENDER_PROCESSES
    worker processes, or else on DOCUMENT_RENDER_THREADS threads; results
    in order. Should the workers die, the batch is rendered here on threads,
    and so is every later one in this process."""
    global _processes_failed
    from django.conf import settings

    if not jobs:
        return []
    tasks = [(str(_template_path(template)), data) for template, data in jobs]
    processes = settings.DOCUMENT_RENDER_PROCESSES
    if len(tasks) > 1 and processes > 1 and _processes_usable():
        pool = _process_pool(processes)
        try:
            return list(
                pool.map(_compile_job, tasks, chunksize=max(1, len(tasks) // (4 * processes)))
            )
        except BrokenProcessPool:
            log.warning(
                "the PDF worker processes stopped; rendering here on threads from now on (%s)",
                len(tasks),
            )
            _processes_failed = True
            with _pools_lock:
                _pools.pop(processes, None)
            pool.shutdown(wait=False, cancel_futures=True)
    threads = settings.DOCUMENT_RENDER_THREADS
    if len(tasks) <= 1 or threads <= 1:
        return [_compile_job(task) for task in tasks]
    return list(_executor(threads).map(_compile_job, tasks))
