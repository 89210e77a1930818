"""Money code never touches float or Python's round(): a scan of the source."""

import ast
from pathlib import Path

import isocnet

MONEY_PACKAGES = [
    "core",
    "catalog",
    "customers",
    "subscriptions",
    "invoicing",
    "payments",
    "deposits",
    "api",
]
ROOT = Path(isocnet.__file__).parent


def float_uses(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            found.append(f"line {node.lineno}: float literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in {"float", "round"}:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr == "FloatField":
            found.append(f"line {node.lineno}: FloatField")
    return found


def test_the_scanner_finds_floats():
    sample = "x = 0.1\ny = float('2')\nz = round(x, 2)\nfrom django.db import models\nf = models.FloatField()"
    assert len(float_uses(sample)) == 4


def test_no_float_in_money_code():
    offenders = {}
    for package in MONEY_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            uses = float_uses(path.read_text())
            # money.py names float only to refuse it
            uses = [u for u in uses if not (path.name == "money.py" and u.endswith(": float"))]
            if uses:
                offenders[str(path.relative_to(ROOT))] = uses
    assert offenders == {}
