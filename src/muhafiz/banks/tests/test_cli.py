"""The Django-free `bank` commands: build, append (idempotent), compact, export, lookup."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from muhafiz.banks.cli import bank
from muhafiz.banks.formats import read_hash_list
from muhafiz.banks.formats.vics import VICS_20_MEDIA
from muhafiz.banks.tests.conftest import digests, random_pdq, write


def test_build_append_compact_export_and_lookup(tmp_path: Path) -> None:
    rng = random.Random(5)
    pdqs = [random_pdq(rng) for _ in range(3)]
    d = digests(b"synthetic evidence file")
    vics = write(
        tmp_path,
        "partner.json",
        json.dumps(
            {
                "@odata.context": VICS_20_MEDIA,
                "value": [
                    {"MediaID": 1, "Category": 1, "MD5": d["md5"], "PhotoDNA": "opaque=="},
                    {
                        "MediaID": 2,
                        "Category": 2,
                        "AlternativeHashes": [{"HashName": "PDQ", "HashValue": pdqs[0]}],
                    },
                ],
            }
        ),
    )
    pdq_list = write(tmp_path, "more.pdq", f"{pdqs[1]},100\n{pdqs[2]},90\n")
    runner = CliRunner()
    out_dir = tmp_path / "banks" / "partner"

    built = runner.invoke(
        bank, ["build-dir", str(out_dir), str(vics), "--name", "partner", "--kind", "known-bad"]
    )
    assert built.exit_code == 0, built.output
    appended = runner.invoke(bank, ["append-dir", str(out_dir), str(pdq_list), str(vics)])
    assert appended.exit_code == 0, appended.output
    assert "already imported" in appended.output
    again = runner.invoke(bank, ["append-dir", str(out_dir), str(pdq_list)])
    assert again.exit_code == 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert len(manifest["segments"]) == 2
    assert [p["source"] for p in manifest["provenance"]] == ["partner.json", "more.pdq"]
    assert manifest["provenance"][0]["sha256"] == read_hash_list(vics).sha256

    assert runner.invoke(bank, ["compact-dir", str(out_dir)]).exit_code == 0
    export = tmp_path / "export.json"
    result = runner.invoke(
        bank, ["export-dir", str(out_dir), "--format", "vics", "--out", str(export)]
    )
    assert result.exit_code == 0, result.output
    exported = read_hash_list(export).entries
    assert len(exported) == 4
    assert {e.photodna for e in exported} == {"opaque==", None}
    pdq_out = tmp_path / "export.pdq"
    runner.invoke(bank, ["export-dir", str(out_dir), "--format", "pdq", "--out", str(pdq_out)])
    assert sorted(str(e.pdq) for e in read_hash_list(pdq_out).entries) == sorted(pdqs)

    looked = runner.invoke(
        bank,
        ["lookup", "--bank-dir", str(tmp_path / "banks"), "--bank", "partner", "-"],
        input=f"{d['md5']}\n{pdqs[2]}\n",
    )
    assert looked.exit_code == 0, looked.output
    lines = [json.loads(line) for line in looked.output.splitlines()]
    assert lines[0]["matches"][0]["entry"]["category"] == 1
    assert lines[1]["matches"][0]["entry"]["pdq_quality"] == 90


def test_build_dir_with_a_bad_file_names_the_line_and_leaves_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.md5", "0" * 32 + "  a\n" + "0" * 30 + "  b\n")
    result = CliRunner().invoke(
        bank, ["build-dir", str(tmp_path / "b"), str(bad), "--name", "b", "--kind", "watch"]
    )
    assert result.exit_code != 0
    assert "bad.md5, line 2" in result.output
    assert not (tmp_path / "b").exists()


def test_lookup_of_an_unknown_bank_name_fails_clearly(tmp_path: Path) -> None:
    listing = write(tmp_path, "x.md5", "0" * 32 + "  a\n")
    result = CliRunner().invoke(
        bank, ["lookup", "--bank-dir", str(listing), "--bank", "nope", "-"], input=""
    )
    assert result.exit_code != 0
    assert "no bank named nope" in result.output


LOOKUP_IMPORTS = """
import sys
from muhafiz.banks.cli import bank
bank(["lookup", "--bank-dir", sys.argv[1], sys.argv[2]], standalone_mode=False)
loaded = sorted(m for m in sys.modules if m.startswith("muhafiz.banks.formats"))
print(loaded, file=sys.stderr)
"""


def test_lookup_against_a_bank_directory_does_not_load_the_format_registry(
    tmp_path: Path,
) -> None:
    # Start-up is most of a `muhafiz bank lookup` of a few thousand hashes (decision 0105):
    # the seven format readers (sqlite3, XML, JSON streaming) are not needed to match.
    import subprocess
    import sys

    pdqs = [random_pdq(random.Random(i)) for i in range(50)]
    source = write(tmp_path, "bank.pdq", "".join(f"{p}\n" for p in pdqs))
    runner = CliRunner()
    built = runner.invoke(
        bank, ["build-dir", str(tmp_path / "dir"), str(source), "--name", "b", "--kind", "watch"]
    )
    assert built.exit_code == 0, built.output
    queries = write(tmp_path, "queries.txt", f"{pdqs[3]}\n{'0' * 64}\n")
    done = subprocess.run(
        [sys.executable, "-c", LOOKUP_IMPORTS, str(tmp_path / "dir"), str(queries)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert json.loads(done.stdout.splitlines()[0])["matches"][0]["distance"] == 0
