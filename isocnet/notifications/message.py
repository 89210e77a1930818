"""A rendered message (subject, text, HTML, recipients, attachment), before
it is stored on its outbox row, and the text part's tidying."""

from __future__ import annotations

from dataclasses import dataclass

from isocnet.documents.models import StoredDocument


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    to: str
    cc: list[str]
    attachment: tuple[str, bytes] | None
    document: StoredDocument | None = None  # the stored PDF attached, when there is one


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out) + "\n"
