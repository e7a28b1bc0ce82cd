"""What Muhafiz costs at national volume: a small model fed with this repository's measurements.

It multiplies yearly volumes (cases, referrals, seized media) by per-unit costs measured in
benchmarks/RESULTS.md and prints the machines, storage and time they need. Change the volumes or
the measured constants below and run it again: `.venv/bin/python benchmarks/scaling_model.py`.
It writes its table into docs/scaling.md between the `scaling-model` markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scaling.md"

# --- yearly national volumes (assumptions; see docs/scaling.md for where they come from) -------
CASES_PER_YEAR = 50_000  # child sexual abuse cases reaching the police, all districts
REFERRALS_PER_YEAR = 2_100_000  # CyberTipline referrals attributed to Pakistan (2022 figure)
SEIZED_BYTES_PER_YEAR = 1.0e15  # one petabyte of seized media a year
SHARE_OF_BYTES_IN_IMAGES = 0.3  # the rest: video, applications, documents, system files
MEAN_IMAGE_BYTES = 3.5e6  # camera photos; screenshots and thumbnails are smaller
MEAN_FILE_BYTES = 1.0e6  # all files on a seized device, averaged
YEARS_KEPT_ONLINE = 10

# --- measured per-unit costs (benchmarks/RESULTS.md, 2 cores shared with other work) ----------
HASH_MB_PER_CPU_SECOND = 305.0  # triage corpus (a): MD5+SHA-1+SHA-256, 2 workers
MIXED_MB_PER_CPU_SECOND = 110.0  # triage corpus (b): hashes + type + PDQ + EXIF, 2 workers
IMAGE_CPU_SECONDS = 0.058  # a 12-MP JPEG: read, three hashes, EXIF, reduced decode, PDQ
PDQ_LOOKUPS_PER_CORE_SECOND = 374.0  # one core, 10 M-hash bank, exact range search at 31 bits
EXACT_LOOKUPS_PER_CORE_SECOND = 2_100_000.0  # SHA-1 membership in 30 M sorted values
PDQ_INDEX_BYTES_PER_HASH = 1_369e6 / 10e6  # peak process memory / bank size at 10 M
CLOCK_JOB_SECONDS_PER_100K_OPEN = 1.2  # steady run_clocks over 100,000 cases (PostgreSQL)
CASE_ROWS_PER_CASE = 30  # team, parties, stage events, clocks, evidence items, custody events
BYTES_PER_CASE_ROW = 600  # PostgreSQL heap + indexes, measured order of magnitude
BYTES_PER_FILE_RECORD = 450  # scan-file / evidence row per file: path, size, type, hashes, PDQ
BYTES_PER_REFERRAL = 6_000  # referral metadata: reported person, IPs, file hashes

DISK_READ_BYTES_PER_SECOND = 400e6  # one examiner workstation's SSD/USB 3 reader, sustained
CORES_PER_WORKER_MACHINE = 32
SECONDS_PER_YEAR = 365 * 24 * 3600
WORKING_SECONDS_PER_YEAR = 250 * 8 * 3600


@dataclass
class Line:
    what: str
    figure: str
    note: str


def _fmt(value: float, unit: str = "") -> str:
    for limit, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:,.1f}{suffix}{unit}"
    return f"{value:,.1f} {unit}".rstrip()


def model() -> list[Line]:
    image_bytes = SEIZED_BYTES_PER_YEAR * SHARE_OF_BYTES_IN_IMAGES
    images = image_bytes / MEAN_IMAGE_BYTES
    other_bytes = SEIZED_BYTES_PER_YEAR - image_bytes
    files = SEIZED_BYTES_PER_YEAR / MEAN_FILE_BYTES

    triage_cpu = images * IMAGE_CPU_SECONDS + other_bytes / 1e6 / HASH_MB_PER_CPU_SECOND
    triage_cores = triage_cpu / WORKING_SECONDS_PER_YEAR
    read_time = SEIZED_BYTES_PER_YEAR / DISK_READ_BYTES_PER_SECOND
    readers = read_time / WORKING_SECONDS_PER_YEAR

    pdq_cpu = images / PDQ_LOOKUPS_PER_CORE_SECOND
    exact_cpu = files * 3 / EXACT_LOOKUPS_PER_CORE_SECOND

    case_rows = CASES_PER_YEAR * CASE_ROWS_PER_CASE * YEARS_KEPT_ONLINE
    case_bytes = case_rows * BYTES_PER_CASE_ROW
    file_record_bytes = files * BYTES_PER_FILE_RECORD
    referral_bytes = REFERRALS_PER_YEAR * BYTES_PER_REFERRAL
    open_cases = CASES_PER_YEAR * 3  # cases stay open about three years through trial and appeal
    clock_seconds = open_cases / 100_000 * CLOCK_JOB_SECONDS_PER_100K_OPEN
    bank_hashes = 50e6
    terabyte_mb = 1e6
    laptop_cpu = terabyte_mb / MIXED_MB_PER_CPU_SECOND / 2  # two cores
    laptop_read = 1e12 / DISK_READ_BYTES_PER_SECOND
    return [
        Line(
            "one seized 1 TB drive on a 2-core laptop",
            f"{max(laptop_cpu, laptop_read) / 3600:,.1f} h",
            f"CPU {laptop_cpu / 3600:,.1f} h with PDQ and EXIF, "
            f"reading {laptop_read / 3600:,.1f} h; the longer one sets the pace",
        ),
        Line("images a year", _fmt(images), f"{SHARE_OF_BYTES_IN_IMAGES:.0%} of the bytes"),
        Line("files a year", _fmt(files), "every file is hashed and recorded"),
        Line(
            "triage CPU a year",
            f"{triage_cpu / 3600 / 24:,.0f} core-days",
            f"{triage_cores:,.1f} cores busy through working hours; "
            f"{triage_cores / CORES_PER_WORKER_MACHINE:,.2f} "
            f"{CORES_PER_WORKER_MACHINE}-core machines",
        ),
        Line(
            "reading the media",
            f"{read_time / 3600:,.0f} reader-hours",
            f"{readers:,.1f} readers busy through working hours, spread over every district",
        ),
        Line("PDQ matching CPU a year", f"{pdq_cpu / 3600:,.0f} core-hours", "one query per image"),
        Line(
            "exact matching CPU a year", f"{exact_cpu / 3600:,.1f} core-hours", "3 digests per file"
        ),
        Line(
            "PDQ index memory, 50 M hashes",
            _fmt(bank_hashes * PDQ_INDEX_BYTES_PER_HASH, "B"),
            "per matcher process, memory-mapped and shared by processes on one machine",
        ),
        Line(
            "case database after 10 years",
            _fmt(case_bytes, "B"),
            f"{_fmt(case_rows)} rows; one PostgreSQL primary and a replica",
        ),
        Line(
            "per-file records a year",
            _fmt(file_record_bytes, "B"),
            "the largest table by far: partition by year and province",
        ),
        Line(
            "referral metadata a year", _fmt(referral_bytes, "B"), "de-duplicated, batched import"
        ),
        Line(
            "clock job, open cases",
            f"{clock_seconds:,.1f} s",
            f"{_fmt(open_cases)} open cases, run every 15 minutes",
        ),
    ]


def table(lines: list[Line]) -> str:
    rows = ["| quantity | figure | what it means |", "|---|---:|---|"]
    rows += [f"| {line.what} | {line.figure} | {line.note} |" for line in lines]
    return "\n".join(rows)


def main() -> None:
    text = table(model())
    print(text)
    if DOC.exists():
        doc = DOC.read_text(encoding="utf-8")
        pattern = re.compile(
            r"(<!-- scaling-model:start -->\n).*?(<!-- scaling-model:end -->)",
            re.S,
        )
        doc = pattern.sub(lambda m: m.group(1) + text + "\n" + m.group(2), doc)
        DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
