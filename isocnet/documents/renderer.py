"""Typst, the PDF engine: one compiler per template per process, data passed
as JSON, fonts embedded (Typst's own Libertinus Serif: OFL, Latin, Greek and
Cyrillic, so names like Łukasz print), system fonts ignored so that every
machine renders the same bytes. Chosen by measurement: bench/pdf_renderers.py.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import typst

TEMPLATES = Path(__file__).parent / "templates" / "documents"
_local = threading.local()


def _compiler(name: str) -> typst.Compiler:
    """This thread's compiler for ``name``. Typst releases the GIL while it
    compiles, so threads render in parallel; a compiler is never shared
    between threads (nothing says it may be)."""
    compilers = getattr(_local, "compilers", None)
    if compilers is None:
        compilers = _local.compilers = {}
    if name not in compilers:
        from django.conf import settings

        override = (
            Path(settings.TEMPLATE_OVERRIDES_DIR) / "documents" / name
            if settings.TEMPLATE_OVERRIDES_DIR
            else None
        )
        path = override if override and override.exists() else TEMPLATES / name
        compilers[name] = typst.Compiler(str(path), root=str(path.parent), ignore_system_fonts=True)
    return compilers[name]


def render_pdf(template: str, data: dict) -> bytes:
    """Render ``template`` (a .typ file) with ``data``. Deterministic: the
    same data gives the same bytes (fixed timestamp)."""
    payload = json.dumps(data, ensure_ascii=False, default=str)
    return _compiler(template).compile(format="pdf", sys_inputs={"data": payload}, timestamp=0)


@cache
def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="typst")


def render_many(jobs: list[tuple[str, dict]]) -> list[bytes]:
    """render_pdf for each (template, data), on DOCUMENT_RENDER_THREADS
    threads at once; results in order."""
    from django.conf import settings

    threads = settings.DOCUMENT_RENDER_THREADS
    if len(jobs) <= 1 or threads <= 1:
        return [render_pdf(template, data) for template, data in jobs]
    return list(_executor(threads).map(lambda job: render_pdf(*job), jobs))
