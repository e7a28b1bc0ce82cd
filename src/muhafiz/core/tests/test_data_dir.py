"""The data directory is the owner's only (issue 8, finding 13): 0700 with 0600 files from the
first start, upload temporaries inside it, and what a killed upload left behind is removed at
the next start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from muhafiz.core.datadir import remove_stale_uploads

START = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "muhafiz.settings"
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
from django.conf import settings
print(json.dumps({"upload_dir": settings.FILE_UPLOAD_TEMP_DIR}))
"""


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _start(data_dir: Path) -> dict[str, str]:
    """Start Django in a new process with an ordinary umask (022), as an operator's shell has."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MUHAFIZ_DATA_DIR=str(data_dir), MUHAFIZ_PROFILE="development")
    result = subprocess.run(
        [sys.executable, "-c", START],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    answer: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_a_new_data_directory_is_0700_and_its_database_and_secret_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    answer = _start(data_dir)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "muhafiz.sqlite3") == 0o600
    assert _mode(data_dir / "secret_key") == 0o600
    uploads = Path(answer["upload_dir"])
    assert uploads.is_relative_to(data_dir) and _mode(uploads) == 0o700


def test_an_existing_open_data_directory_is_tightened_at_start(tmp_path: Path) -> None:
    # Before: the database and stored scan files were 0644 in a 0755 directory.
    data_dir = tmp_path / "data"
    _start(data_dir)
    data_dir.chmod(0o755)
    (data_dir / "muhafiz.sqlite3").chmod(0o644)
    _start(data_dir)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "muhafiz.sqlite3") == 0o600


def test_a_killed_uploads_temporary_file_is_removed_at_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    answer = _start(data_dir)
    uploads = Path(answer["upload_dir"])
    scans = data_dir / "evidence" / "scans"
    scans.mkdir(parents=True)
    left_behind = [uploads / "tmpab12cd.upload.scan", scans / "incoming-0123abcd.part"]
    in_progress = uploads / "tmpzz99yy.upload.scan"
    server_scan = scans / "server-7-abcd.part"  # a long server scan of another worker
    two_hours_ago = time.time() - 7200
    for path in [*left_behind, in_progress, server_scan]:
        path.write_bytes(b"half an upload")
    for path in [*left_behind, server_scan]:
        os.utime(path, (two_hours_ago, two_hours_ago))

    _start(data_dir)

    assert not any(path.exists() for path in left_behind)
    assert in_progress.exists() and server_scan.exists()


def test_stale_upload_removal_only_takes_old_files_of_the_patterns(tmp_path: Path) -> None:
    (tmp_path / "old.upload").write_text("x")
    (tmp_path / "keep.txt").write_text("x")
    later = time.time() + 7200
    removed = remove_stale_uploads([(tmp_path, "*.upload")], now=later)
    assert removed == [tmp_path / "old.upload"]
    assert (tmp_path / "keep.txt").exists()


def test_this_process_spools_uploads_inside_its_data_directory() -> None:
    assert Path(settings.FILE_UPLOAD_TEMP_DIR).is_relative_to(Path(settings.DATA_DIR))
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o600
