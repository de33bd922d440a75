# -*- coding: utf-8 -*-
"""make bench: speed targets as ratios against budgets and baselines measured in the same run."""

from __future__ import annotations

import sys

from tests.bench import apps, chain, deploy, engine


def main() -> int:
    ok = True
    print("== policy engine")
    rows, parsed = engine.run()
    ok &= parsed
    for label, seconds, budget in rows:
        verdict = "" if budget is None else f"  {seconds / budget:.2f}x of the {budget} s budget {'OK' if seconds < budget else 'OVER'}"
        ok &= budget is None or seconds < budget
        print(f"{label}: {seconds:.3f} s{verdict}")
    print("== two-tier chain: rendered configs vs bare configs (TLS target in the lab's internet namespace)")
    ok &= chain.run()
    print("== no-op deploy (everything converged)")
    ok &= deploy.run()
    print("== apps stage vs kubectl apply --server-side")
    ok &= apps.run()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
