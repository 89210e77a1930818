"""Old code against new code, on this machine, in one sitting: the old
commit is checked out in a `git worktree` (under var/bench-old/), given
this checkout's bench/ (so both are measured by the same code), and
bench/pipeline.py runs on each in turn, on the same data set (rebuilt for
each). Prints every row with old, new, the change, the goal and how much of
it is met.

    python bench/compare.py OLD_COMMIT          (what `make bench` runs)
    BENCH_N=100000 BENCH_STEPS=generate,portal python bench/compare.py OLD_COMMIT
    BENCH_REUSE_OLD=1 ...   (the old side's figures of the last run, var/bench-old.json,
                             when only the new side is to be measured again)

Both runs use the same environment (BENCH_N, BENCH_STEPS, ...), except the
auto debit against a 300 ms gateway: the old code makes those calls one
after another (3 a second), so it runs on BENCH_LATENCY_N_OLD customers
(default 300: about 210 cards) — the rate is what is compared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def worktree(commit: str) -> Path:
    path = ROOT / "var" / "bench-old" / commit[:12]
    if not (path / "isocnet").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)  # noqa: S607
        subprocess.run(  # noqa: S603
            ["git", "worktree", "add", "--force", "--detach", str(path), commit],  # noqa: S607
            cwd=ROOT,
            check=True,
        )
    for item in (ROOT / "bench").iterdir():  # the same measuring code for both
        if item.is_file():
            shutil.copy2(item, path / "bench" / item.name)
    return path


def measure(tree: Path, label: str, extra: dict) -> dict:
    out = ROOT / "var" / f"bench-{label}.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_JSON": str(out), "VAR_DIR": str(tree / "var" / "bench"), **extra}
    print(f"\n===== {label}: {tree} =====", flush=True)
    subprocess.run(  # noqa: S603
        [sys.executable, str(tree / "bench" / "pipeline.py")], env=env, cwd=tree, check=True
    )
    return json.loads(out.read_text())


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - git, with our own arguments
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def rate(row) -> float:
    _, _, count, seconds = row
    return count / seconds if seconds else 0.0


def main() -> None:
    from pipeline import GOALS

    commit = sys.argv[1]
    old_tree = worktree(commit)
    kept = ROOT / "var" / "bench-old.json"
    if os.environ.get("BENCH_REUSE_OLD") and kept.exists():  # the new side failed last time
        old = json.loads(kept.read_text())
        print(f"old figures reused from {kept} (N = {old['n']})", flush=True)
    else:
        old = measure(
            old_tree, "old", {"BENCH_LATENCY_N": os.environ.get("BENCH_LATENCY_N_OLD", "300")}
        )
    new = measure(ROOT, "new", {})
    head = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    print(
        f"\nN = {new['n']}, {os.cpu_count()} cores; old = {commit[:9]}, new = {head}"
        f"{' + uncommitted changes' if dirty else ''}; figures a second unless said"
    )
    print(f"{'step':50} {'old':>8} {'new':>8} {'change':>7} {'goal':>6} {'new/goal':>9}")
    print(
        f"{'0. COPY floor, invoices of ~10 rows (psycopg)':50} {old['floor'] or 0:>8.0f}"
        f" {new['floor'] or 0:>8.0f}"
    )
    old_rows = {row[0]: row for row in old["rows"]}
    for row in new["rows"]:
        key, name = row[0], row[1]
        before = old_rows.get(key)
        if key == "2c-double":
            print(f"{name:50} {before[2] if before else '':>8} {row[2]:>8} {'':>7} {0:>6}")
            continue
        now, was = rate(row), rate(before) if before else None
        goal = GOALS.get(key)
        change = f"{now / was:>6.2f}x" if was else ""
        met = f"{now / goal:>8.0%}" if goal else ""
        print(
            f"{name:50} {was or 0:>8.0f} {now:>8.0f} {change:>7} {goal or '':>6} {met:>9}",
            flush=True,
        )
        if key == "1" and new["floor"]:
            third = new["floor"] / 3
            print(
                f"{'   new generation as a share of the COPY floor':50} "
                f"{rate(before) / old['floor'] if before and old['floor'] else 0:>8.0%}"
                f" {now / new['floor']:>8.0%} {'':>7} {third:>6.0f} {now / third:>8.0%}"
                "  (goal: a third of the floor)"
            )
    for page, figures in new["portal"].items():
        was = old["portal"].get(page, {})
        print(
            f"{'4. portal, ' + page + ', requests/s':50} {was.get('per_second', 0):>8.0f}"
            f" {figures['per_second']:>8.0f}"
            f" {figures['per_second'] / was['per_second'] if was else 0:>6.2f}x"
            f" {GOALS['portal']:>6} {figures['per_second'] / GOALS['portal']:>8.0%}"
        )
        print(
            f"{'   p99 ms':50} {was.get('p99', 0):>8.0f} {figures['p99']:>8.0f} {'':>7}"
            f" {150:>6} {150 / figures['p99'] if figures['p99'] else 0:>8.0%}"
        )
    print(
        f"peak RSS MB (goal <= 300): old {_rss(old['rss'])}; new {_rss(new['rss'])}",
        flush=True,
    )


def _rss(rss: dict) -> str:
    parts = [f"main {rss['main']:.0f}"]
    if rss["workers"]:
        parts.append("workers " + "/".join(f"{v:.0f}" for v in rss["workers"]))
    if rss["web"]:
        parts.append("web " + "/".join(f"{v:.0f}" for v in rss["web"]))
    return ", ".join(parts)


if __name__ == "__main__":
    main()
