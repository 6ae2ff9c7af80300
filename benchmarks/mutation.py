"""Mutation testing of the numerical core on a fixed, seeded sample of mutants.

A benchmark, not a test, and not part of CI: ``python benchmarks/mutation.py``
(about 15-30 minutes on two cores; the first run adds about 6 minutes in which
mutmut traces which tests reach which function). Needs the ``mutation`` extra
(``pip install -e '.[test,mutation]'``, which pins mutmut 3.8.1: this script
calls its mutant generator directly).

What it does:

1. mutmut (configured in ``pyproject.toml`` under ``[tool.mutmut]``) copies the tree
   to ``mutants/`` and writes every mutant of ``rtsmig/models/``, ``rtsmig/weights/``
   and ``rtsmig/mediation/``: each is one small change to one function (an operator,
   a constant, a comparison, a string, an argument dropped).
2. From all mutants of ``--packages`` (sorted by name) it draws ``--sample`` of them
   with ``random.Random(--seed)``, and runs each against the tests that reach its
   function in-process (tests that only start ``rtsmig`` as a child process do not
   count: they are not traced).
3. It prints, per package, the mutants killed (a test failed, or the tests exceeded
   mutmut's time limit), survived, and not reached by any test; the kill rate
   killed / (sampled - equivalent); and every survivor with its diff.

Equivalent mutants (changes no test can see, because the behaviour is the same)
are listed with a reason in ``docs/testing.md``, in the table under "Known
survivors"; that table is the one list, and this script reads it. A listed mutant
that was killed, or no longer exists, is reported so that the list stays true.

Options: --sample 400 --seed 20261201 --packages rtsmig.models,rtsmig.weights
--jobs 2 --list (draw and print the sample only).

``--try MUTANT TEST...`` runs the given tests (files or node ids of tests/) against one
mutant, after copying tests/ into mutants/ again: the way to see a new test kill a
survivor before the next full run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
TESTING_DOC = ROOT / "docs" / "testing.md"
MUTMUT = [sys.executable, "-m", "mutmut"]
# mutmut's exit codes per mutant (mutmut/stats.py): 1 and 3 are failures of the
# tests, the timeouts are the tests exceeding the limit (an infinite loop, say).
KILLED = {1, 3, 24, -24, 36, 152, 255}
SURVIVED = {0}
UNREACHED = {5, 33}
GENERATE = """
from os import makedirs
from mutmut.__main__ import create_mutants
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths
set_mutant_under_test("mutant_generation")
makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths()
create_mutants({jobs})
"""


def generate(jobs: int) -> None:
    """Write every mutant into mutants/ (mutmut's own generator; unchanged functions are kept)."""
    subprocess.run([sys.executable, "-c", GENERATE.format(jobs=jobs)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def read_meta() -> dict[str, int | None]:
    """Every mutant's name and last exit code, from mutmut's per-file records."""
    codes: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.glob("rtsmig/**/*.py.meta")):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def draw(names: list[str], packages: list[str], size: int, seed: int) -> list[str]:
    pool = sorted(n for n in names if any(n.startswith(p + ".") for p in packages))
    if size > len(pool):
        sys.exit(f"Error: only {len(pool)} mutants in {', '.join(packages)}; use --sample {len(pool)} or less")
    return sorted(random.Random(seed).sample(pool, size))


def known_survivors() -> dict[str, str]:
    """The table under "Known survivors" in docs/testing.md: mutant -> reason (equivalent ones only)."""
    text = TESTING_DOC.read_text(encoding="utf-8") if TESTING_DOC.exists() else ""
    section = text.partition("## Known survivors")[2].split("\n## ")[0]
    rows = re.findall(r"^\|\s*`([\w.]+)`\s*\|\s*(\w+)\s*\|\s*(.+?)\s*\|\s*$", section, flags=re.MULTILINE)
    return {name: reason for name, kind, reason in rows if kind == "equivalent"}


def run_sample(sample: list[str], jobs: int) -> None:
    # mutmut exits non-zero when a mutant survives; the results are read from its records.
    subprocess.run([*MUTMUT, "run", "--max-children", str(jobs), *sample], check=False, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def package_of(name: str) -> str:
    return ".".join(name.split(".")[:2])


def report(sample: list[str], codes: dict[str, int | None], equivalent: dict[str, str], seed: int) -> int:
    """Print the table and the survivors; return the number of unlisted survivors."""
    rows: dict[str, Counter] = {}
    survivors = []
    for name in sample:
        code = codes.get(name)
        tally = rows.setdefault(package_of(name), Counter())
        if name in equivalent:
            tally["equivalent"] += 1
            if code in KILLED:
                print(f"note: {name} is listed as equivalent but was killed; take it off the list")
        elif code in KILLED:
            tally["killed"] += 1
        elif code in UNREACHED:
            tally["unreached"] += 1
            survivors.append(name)
        else:
            tally["survived" if code in SURVIVED else "other"] += 1
            survivors.append(name)
    print(f"\nMutation testing: {len(sample)} mutants drawn with seed {seed}\n")
    print("| package | sampled | killed | survived | unreached | equivalent | kill rate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for package, tally in sorted(rows.items()) + [("all", sum(rows.values(), Counter()))]:
        sampled = sum(tally.values())
        rate = tally["killed"] / max(sampled - tally["equivalent"], 1)
        print(f"| {package} | {sampled} | {tally['killed']} | {tally['survived'] + tally['other']} "
              f"| {tally['unreached']} | {tally['equivalent']} | {rate:.1%} |")
    for name in survivors:
        diff = subprocess.run([*MUTMUT, "show", name], check=False, cwd=ROOT, capture_output=True, text=True).stdout
        changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        print(f"\nsurvivor {name} ({'no test reaches it' if codes.get(name) in UNREACHED else 'survived'}):")
        print("\n".join("    " + line.strip() for line in changed))
    return len(survivors)


TRY = """
import sys
import pytest
from mutmut.mutation.trampoline import set_mutant_under_test
set_mutant_under_test(sys.argv[1])
sys.exit(pytest.main(["-q", "-x", "-p", "no:cacheprovider", *sys.argv[2:]]))
"""


def try_mutant(mutant: str, tests: list[str]) -> int:
    """Run ``tests`` against ``mutant`` in mutants/; returns pytest's exit code (non-zero: killed)."""
    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(MUTANTS)}
    return subprocess.run([sys.executable, "-c", TRY, mutant, *tests], cwd=MUTANTS, env=env, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--packages", default="rtsmig.models,rtsmig.weights")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="print the sample and stop")
    parser.add_argument("--try", dest="try_", nargs="+", metavar="MUTANT TEST", help="one mutant against tests")
    args = parser.parse_args()
    if args.try_:
        code = try_mutant(args.try_[0], args.try_[1:])
        print(f"{args.try_[0]}: {'killed' if code else 'survived'}")
        sys.exit(0)
    generate(args.jobs)
    sample = draw(list(read_meta()), args.packages.split(","), args.sample, args.seed)
    if args.list:
        print("\n".join(sample))
        return
    equivalent = known_survivors()
    missing = sorted(set(equivalent) - set(read_meta()))
    for name in missing:
        print(f"note: {name} is listed in docs/testing.md but no longer exists; take it off the list")
    run_sample([n for n in sample if n not in equivalent], args.jobs)
    report(sample, read_meta(), equivalent, args.seed)


if __name__ == "__main__":
    main()
