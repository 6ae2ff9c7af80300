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
2. It runs each mutant of the sample, ``benchmarks/mutation_sample.txt``, against the
   tests that reach its function in-process (tests that only start ``rtsmig`` as a
   child process do not count: they are not traced). The sample is a file so that it
   stays fixed while the code changes: ``--draw N`` draws N mutants of ``--packages``
   (all mutants sorted by name, ``random.Random(--seed)``) and rewrites it; its header
   says from which commit and how many mutants it was drawn. A sampled name refers to
   the mutant of that number in its function today: where the function has changed,
   mutmut numbers its mutants anew.
3. It prints, per package, the mutants killed (a test failed, or the tests exceeded
   mutmut's time limit), survived, and not reached by any test; the kill rate
   killed / (sampled - equivalent); and every survivor with its diff.

Equivalent mutants (changes no test can see, because the behaviour is the same)
are listed with a reason in ``docs/testing.md``, in the table under "Known
survivors"; that table is the one list, and this script reads it. A listed mutant
that was killed, or no longer exists, is reported so that the list stays true.

Options: --draw 400 --seed 20261201 --packages rtsmig.models,rtsmig.weights
--jobs 2 --resume (run only the sampled mutants without a kill on record: new tests
can add kills, and mutmut itself resets the records of mutants whose function changed;
a test removed or weakened since is not seen, so a full check is ``rm -rf mutants``
first).

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
SAMPLE_FILE = Path(__file__).with_name("mutation_sample.txt")
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
    """``size`` mutants of ``packages``, and write them to SAMPLE_FILE with how they were drawn."""
    pool = sorted(n for n in names if any(n.startswith(p + ".") for p in packages))
    if size > len(pool):
        sys.exit(f"Error: only {len(pool)} mutants in {', '.join(packages)}; use --draw {len(pool)} or less")
    sample = sorted(random.Random(seed).sample(pool, size))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    header = f"# {size} of the {len(pool)} mutants of {','.join(packages)} at commit {commit}, seed {seed}\n"
    SAMPLE_FILE.write_text(header + "\n".join(sample) + "\n", encoding="utf-8")
    return sample


def read_sample() -> tuple[str, list[str]]:
    lines = SAMPLE_FILE.read_text(encoding="utf-8").splitlines()
    return lines[0].lstrip("# "), [line for line in lines[1:] if line.strip()]


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


def report(sample: list[str], codes: dict[str, int | None], equivalent: dict[str, str], drawn: str) -> int:
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
        elif code is None:  # not run yet (an interrupted run): counted as not killed
            tally["not run"] += 1
        else:
            tally["survived" if code in SURVIVED else "other"] += 1
            survivors.append(name)
    print(f"\nMutation testing: the sample of benchmarks/mutation_sample.txt ({drawn})\n")
    print("| package | sampled | killed | survived | unreached | not run | equivalent | kill rate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for package, tally in sorted(rows.items()) + [("all", sum(rows.values(), Counter()))]:
        sampled = sum(tally.values())
        rate = tally["killed"] / max(sampled - tally["equivalent"], 1)
        print(f"| {package} | {sampled} | {tally['killed']} | {tally['survived'] + tally['other']} "
              f"| {tally['unreached']} | {tally['not run']} | {tally['equivalent']} | {rate:.1%} |")
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
    parser.add_argument("--draw", type=int, metavar="N", help="draw a new sample of N mutants and stop")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--packages", default="rtsmig.models,rtsmig.weights")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--resume", action="store_true", help="run only sampled mutants not yet killed")
    parser.add_argument("--try", dest="try_", nargs="+", metavar="MUTANT TEST", help="one mutant against tests")
    args = parser.parse_args()
    if args.try_:
        code = try_mutant(args.try_[0], args.try_[1:])
        print(f"{args.try_[0]}: {'killed' if code else 'survived'}")
        sys.exit(0)
    generate(args.jobs)
    if args.draw:
        draw(list(read_meta()), args.packages.split(","), args.draw, args.seed)
        print(f"wrote {SAMPLE_FILE}")
        return
    drawn, sample = read_sample()
    codes = read_meta()
    for name in sorted(set(sample) - set(codes)):
        print(f"note: {name} of the sample no longer exists; draw a new sample")
    equivalent = known_survivors()
    for name in sorted(set(equivalent) - set(codes)):
        print(f"note: {name} is listed in docs/testing.md but no longer exists; take it off the list")
    todo = [n for n in sample if n in codes and n not in equivalent]
    if args.resume:
        todo = [n for n in todo if codes[n] not in KILLED]
    run_sample(todo, args.jobs)
    report(sample, read_meta(), equivalent, drawn)


if __name__ == "__main__":
    main()
