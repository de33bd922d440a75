# -*- coding: utf-8 -*-
"""make bench: speed targets as ratios against budgets and baselines measured in the same run.

  python -m tests.bench [engine|chain|deploy|apps ...]   the named sections only (default: all, in this order)
"""

from __future__ import annotations

import sys

from tests.bench import apps, chain, deploy, engine


def run_engine() -> bool:
    rows, ok = engine.run()
    for label, seconds, budget in rows:
        verdict = "" if budget is None else f"  {seconds / budget:.2f}x of the {budget} s budget {'OK' if seconds < budget else 'OVER'}"
        ok &= budget is None or seconds < budget
        print(f"{label}: {seconds:.3f} s{verdict}")
    return ok


SECTIONS = {
    "engine": ("policy engine", run_engine),
    "chain": ("two-tier chain: rendered configs vs bare configs (TLS target in the lab's internet namespace)", chain.run),
    "deploy": ("no-op deploy (everything converged)", deploy.run),
    "apps": ("apps stage vs kubectl apply --server-side", apps.run),
}


def main(names: list) -> int:
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        print(f"unknown section {unknown[0]!r}; sections: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    ok = True
    for name in names or list(SECTIONS):
        title, run = SECTIONS[name]
        print(f"== {title}", flush=True)
        ok &= run()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
