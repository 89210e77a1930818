"""The forms of a page as a browser would submit them: each form's action,
method and the values it shows (inputs, checked boxes and radios, selected
options, text areas). Used by the crawler and the hostile-value matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    id: str
    values: list[tuple[str, str]] = field(default_factory=list)
    submits: list[tuple[str, str]] = field(default_factory=list)  # named buttons

    def data(self, **overrides) -> dict:
        out: dict[str, list[str]] = {}
        for name, value in self.values:
            out.setdefault(name, []).append(value)
        for name, value in overrides.items():
            out[name] = [value]
        return {k: v if len(v) > 1 else v[0] for k, v in out.items()}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a.get("id", ""))
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.values.append((name, a.get("value", "on")))
            elif kind in ("submit", "button", "image"):
                form.submits.append((name, a.get("value", "")))
            elif kind != "file":
                form.values.append((name, a.get("value", "")))
        elif tag == "button" and name:
            form.submits.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                form.values.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form.values.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.values.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def forms_of(html: str) -> list[Form]:
    reader = _Reader()
    reader.feed(html)
    return reader.forms


def form_with(html: str, field_name: str) -> Form:
    """The page's form that has ``field_name``."""
    for form in forms_of(html):
        if any(name == field_name for name, _ in form.values):
            return form
    raise AssertionError(f"no form with a {field_name} field")
