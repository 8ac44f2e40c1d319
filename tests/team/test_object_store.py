"""An index in object storage (``--db s3://…``): built as CI would, read back, and every
way the store can be wrong giving one clear line, never a credential."""

from __future__ import annotations

import json
from pathlib import Path

from s3_support import S3Server, closed_port, head, tandem


def _one_line_error(proc: object, *fragments: str) -> str:
    stderr = proc.stderr.strip()  # type: ignore[attr-defined]
    assert proc.returncode == 2, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    for fragment in fragments:
        assert fragment in stderr, stderr
    return stderr


def test_ci_builds_a_base_in_s3_that_records_its_commit_and_no_secret(
    s3: S3Server, bucket: str, repo: Path
) -> None:
    uri = f"s3://{bucket}/main"
    env = s3.env()
    built = tandem(["index", str(repo), "--db", uri, "--embedder", "none", "--json"], env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["indexed"] == report["total_files"] == 6
    assert report["db"] == uri

    shown = tandem(["status", "--root", str(repo), "--db", uri, "--json"], env)
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["files"] == 6
    assert status["commit"] == head(repo)[:12]  # a clean checkout: no "(dirty)"

    found = tandem(["search", "legacy_checksum_marker", "--root", str(repo), "--db", uri], env)
    assert found.returncode == 0, found.stderr
    assert "obsolete.py" in found.stdout

    # The key never reaches the output, the index, or anything else in the bucket.
    for text in (built.stdout, built.stderr, shown.stdout, shown.stderr, found.stdout):
        assert s3.secret not in text and s3.key_id not in text
    stored = s3.objects(bucket)
    assert any(k.startswith("main/files.lance/") for k in stored)
    for key, body in stored.items():
        assert s3.secret.encode() not in body, key
        assert s3.key_id.encode() not in body, key


def test_a_missing_bucket_is_one_clear_line(s3: S3Server, repo: Path) -> None:
    proc = tandem(
        ["index", str(repo), "--db", "s3://no-such-bucket/main", "--embedder", "none"], s3.env()
    )
    _one_line_error(
        proc, "tandem index: s3://no-such-bucket/main", "'no-such-bucket' does not exist"
    )


def test_bad_credentials_are_one_clear_line_without_the_key(
    s3: S3Server, bucket: str, repo: Path
) -> None:
    env = {**s3.env(), "AWS_SECRET_ACCESS_KEY": "wrong-secret-4f9a"}
    proc = tandem(["index", str(repo), "--db", f"s3://{bucket}/main", "--embedder", "none"], env)
    line = _one_line_error(proc, "refused the credentials")
    assert "wrong-secret-4f9a" not in line and s3.secret not in line


def test_missing_credentials_are_one_clear_line(s3: S3Server, bucket: str, repo: Path) -> None:
    env = {
        k: v for k, v in s3.env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    proc = tandem(["status", "--root", str(repo), "--db", f"s3://{bucket}/main"], env)
    _one_line_error(proc, "no credentials", "AWS_ACCESS_KEY_ID")


def test_a_wrong_endpoint_is_one_clear_line(s3: S3Server, bucket: str, repo: Path) -> None:
    env = s3.env(endpoint=f"http://127.0.0.1:{closed_port()}")
    proc = tandem(["index", str(repo), "--db", f"s3://{bucket}/main", "--embedder", "none"], env)
    _one_line_error(proc, "cannot reach the object store", "check the endpoint")
