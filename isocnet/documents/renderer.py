"""Typst, the PDF engine: one compiler per template per process, data passed
as JSON, fonts embedded (Typst's own Libertinus Serif: OFL, Latin, Greek and
Cyrillic, so names like Łukasz print), system fonts ignored so that every
machine renders the same bytes. Chosen by measurement: bench/pdf_renderers.py.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import typst

TEMPLATES = Path(__file__).parent / "templates" / "documents"
_lock = threading.Lock()


@lru_cache(maxsize=8)
def _compiler(name: str) -> typst.Compiler:
    from django.conf import settings

    override = (
        Path(settings.TEMPLATE_OVERRIDES_DIR) / "documents" / name
        if settings.TEMPLATE_OVERRIDES_DIR
        else None
    )
    path = override if override and override.exists() else TEMPLATES / name
    return typst.Compiler(str(path), root=str(path.parent), ignore_system_fonts=True)


def render_pdf(template: str, data: dict) -> bytes:
    """Render ``template`` (a .typ file) with ``data``. Deterministic: the
    same data gives the same bytes (fixed timestamp)."""
    payload = json.dumps(data, ensure_ascii=False, default=str)
    compiler = _compiler(template)
    with _lock:  # one compile at a time per process; processes scale out
        return compiler.compile(format="pdf", sys_inputs={"data": payload}, timestamp=0)
