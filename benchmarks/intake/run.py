"""CyberTipline import benchmark (issue 13), one command:

    .venv/bin/python -m benchmarks.intake                      # 100,000 referrals, ~1 GB XML
    .venv/bin/python -m benchmarks.intake --referrals 500 --no-results   # a smoke run

It writes one synthetic XML file of N referrals (streamed; about 10 KB each: a reported user
with screen name, profile URL, IP capture events, a device id, an estimated location, and a
dozen files with MD5 and SHA-256 hashes and EXIF pairs; a tenth of the referrals share a screen
name or an IP with others), then, on a fresh SQLite database and on a fresh PostgreSQL database
(`muhafiz_bench_intake` on 127.0.0.1:5432, created and dropped), runs
`muhafiz intake import-cybertips FILE` and measures wall time, CPU and the peak resident memory
of the process (benchmarks/proctree.py). Figures go to the intake section of
benchmarks/RESULTS.md with the machine and the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- intake:start -->", "<!-- intake:end -->"
PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "muhafiz_bench_intake"
CITIES = ["Lahore", "Kasur", "Pindi", "Faisalabad", "Multan", "Peshawar", "Quetta", "Karachi", ""]


def write_referrals(path: Path, total: int, files_per_referral: int, seed: int = 13) -> int:
    """Write `total` synthetic referrals to `path`; returns the file's size in bytes."""
    sys.path.insert(0, str(ROOT / "src"))
    from muhafiz.intake.tests.synthetic_tips import SyntheticTip, write_xml

    rng = random.Random(seed)

    def tips() -> Iterator[Any]:
        for n in range(total):
            shared = rng.random() < 0.1
            group = rng.randrange(max(1, total // 50)) if shared else None
            yield SyntheticTip(
                report_id=str(100_000_000 + n),
                screen_name=f"user_{group}" if group is not None else f"user_x{n}",
                profile_url=f"https://social.example.invalid/u/{n}",
                ips=[f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"]
                + ([f"203.0.113.{group % 250}"] if group is not None else []),
                device=f"35{n:013d}",
                city=rng.choice(CITIES),
                region="Punjab",
                extra_files=files_per_referral,
            )

    with path.open("w", encoding="utf-8") as handle:
        write_xml(handle, tips())
    return path.stat().st_size


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MUHAFIZ_DATA_DIR": str(data_dir),
            "MUHAFIZ_PROFILE": "development",
            "MUHAFIZ_DEBUG": "false",
            "MUHAFIZ_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "muhafiz.settings",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def run_import(
    kind: str, xml: Path, workdir: Path, *, code: Path | None = None
) -> dict[str, float | str]:
    """Import `xml` on a fresh database of `kind`, with this tree's code or the `src` folder
    `code` (the baseline)."""
    from benchmarks.proctree import measure

    data_dir = Path(tempfile.mkdtemp(prefix=f"data-{kind}-", dir=workdir))
    url = ""
    if kind == "postgresql":
        _admin_sql(f"DROP DATABASE IF EXISTS {PG_DB}")
        _admin_sql(f"CREATE DATABASE {PG_DB}")
        url = f"{PG}/{PG_DB}"
    env = _environment(url, data_dir)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    muhafiz = [sys.executable, "-m", "muhafiz"]
    subprocess.run(
        [*muhafiz, "manage", "migrate", "--no-input"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    old_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryFile() as out:
            run = measure([*muhafiz, "intake", "import-cybertips", str(xml)], stdout=out.fileno())
            out.seek(0)
            summary = out.read().decode().strip().splitlines()[-1]
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    load_after = os.getloadavg()
    if kind == "postgresql":
        _admin_sql(f"DROP DATABASE IF EXISTS {PG_DB}")
    return {
        "seconds": run.seconds,
        "cpu": run.cpu_seconds,
        "peak_mb": run.peak_rss_mb,
        "summary": summary,
        "load": f"{load_before[0]:.1f} → {load_after[0]:.1f}",
    }


def baseline_code(ref: str, workdir: Path) -> Path:
    """The `src` folder of commit `ref`, unpacked beside the run."""
    target = workdir / "baseline"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--files-per-referral", type=int, default=12)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument(
        "--baseline",
        default="0477d09",
        help="commit whose import is run beside this one on a smaller file ('' for none)",
    )
    parser.add_argument("--baseline-referrals", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="muhafiz-intake-bench-", dir=args.workdir))
    xml = workdir / "referrals.xml"
    began = time.perf_counter()
    size = write_referrals(xml, args.referrals, args.files_per_referral)
    generated = time.perf_counter() - began
    print(
        f"wrote {args.referrals:,} referrals, {size / 1e9:.2f} GB in {generated:.0f} s", flush=True
    )
    compared = []
    if args.baseline:
        small = workdir / "baseline.xml"
        write_referrals(small, args.baseline_referrals, args.files_per_referral)
        for label, code in (
            (f"baseline {args.baseline}", baseline_code(args.baseline, workdir)),
            ("this tree", None),
        ):
            result = run_import("sqlite", small, workdir, code=code)
            print(label, result, flush=True)
            compared.append((label, result))
        small.unlink()
    rows = []
    for kind in args.databases.split(","):
        result = run_import(kind, xml, workdir)
        print(kind, result, flush=True)
        rows.append((kind, result))
    xml.unlink()
    if args.no_results:
        return
    lines = [
        START,
        "Command: `.venv/bin/python -m benchmarks.intake` "
        f"({args.referrals:,} synthetic referrals, {args.files_per_referral} files each, "
        f"one XML file of {size / 1e9:.2f} GB written in "
        f"{generated:.0f} s; each database fresh and migrated; the import runs as "
        "`muhafiz intake import-cybertips FILE`, measured with benchmarks/proctree.py).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| database | wall time | CPU | referrals/s | peak RSS "
        "| load average (1 min, before → after) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in rows:
        lines.append(
            f"| {kind} | {r['seconds']:.0f} s | {r['cpu']:.0f} s | "
            f"{args.referrals / float(r['seconds']):.0f} | {r['peak_mb']:.0f} MB | {r['load']} |"
        )
    if compared:
        lines += [
            "",
            f"Beside the baseline in the same run (SQLite, {args.baseline_referrals:,} referrals "
            "of the same generator, each on a fresh database):",
            "",
            "| code | wall time | CPU | CPU per referral | peak RSS |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {label} | {r['seconds']:.0f} s | {r['cpu']:.1f} s | "
            f"{float(r['cpu']) * 1000 / args.baseline_referrals:.1f} ms | {r['peak_mb']:.0f} MB |"
            for label, r in compared
        ]
    lines += ["", "Import summaries:", ""]
    lines += [f"- {kind}: `{r['summary']}`" for kind, r in rows]
    lines.append(END)
    text = RESULTS.read_text(encoding="utf-8")
    block = "\n".join(lines)
    if START in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n## CyberTipline import (issue 13)\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
