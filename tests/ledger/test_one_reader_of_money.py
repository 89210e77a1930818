"""Issue #30: the ledger floor is the one reader of money. No module outside
isocnet/ledger/ sums allocations or account-credit entries — not with
``.aggregate``/``.annotate`` on their managers, nor with a ``Sum`` that
reaches them through a relation (``Sum("allocations__amount_minor")``).
Reading rows (a receipt's lines, a statement's, a return's reversals) is
fine; adding them up is the ledger's."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "isocnet"
LEDGER_MODELS = {"Allocation", "CreditEntry"}
RELATIONS = ("allocations__", "credit_entries__", "allocation__", "creditentry__")


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def sums_outside_the_ledger(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("aggregate", "annotate")
            and _root_name(func.value) in LEDGER_MODELS
        ):
            found.append(f"line {node.lineno}: {_root_name(func.value)}…{func.attr}()")
        if isinstance(func, ast.Name) and func.id in ("Sum", "Count", "Avg"):
            for arg in node.args:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and arg.value.startswith(RELATIONS)
                ):
                    found.append(f"line {node.lineno}: {func.id}({arg.value!r})")
    return found


def test_no_module_outside_the_ledger_sums_allocations_or_credit():
    offenders = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "ledger" or "migrations" in relative.parts:
            continue
        found = sums_outside_the_ledger(path.read_text())
        if found:
            offenders[str(relative)] = found
    assert offenders == {}


def test_the_scan_finds_what_it_looks_for():
    assert sums_outside_the_ledger(
        "CreditEntry.objects.filter(customer=c).aggregate(s=Sum('amount_minor'))"
    )
    assert sums_outside_the_ledger("qs.annotate(paid=Sum('allocations__amount_minor'))")
    assert not sums_outside_the_ledger("list(Allocation.objects.filter(invoice=i))")
