"""A real S3-compatible server for the team tests: moto's server mode, started as its own
process on 127.0.0.1 with authentication on (so wrong keys are refused), plus a TCP relay
in front of it that a test can kill and restart (moto keeps objects in memory, so killing
moto itself would lose the bucket, which no real object store does)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "lsp_workspace"
HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
# Requests moto serves before it checks signatures: the set-up below (user, policy, key,
# bucket); every later request must be signed with the key it creates.
_UNSIGNED_SETUP = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class S3Server:
    """moto's S3 on a free loopback port, one user with a key, and helpers."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_UNSIGNED_SETUP)}
        self._log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wait_port(self.port)
        self.key_id, self.secret = self._make_user()
        self.buckets = 0

    def _boto(self, service: str, **keys: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, **keys)

    def _make_user(self) -> tuple[str, str]:
        iam = self._boto("iam", aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="ci")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def s3(self) -> Any:
        return self._boto("s3", aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)

    def new_bucket(self) -> str:
        self.buckets += 1
        name = f"team-index-{self.buckets}"
        self.s3().create_bucket(Bucket=name)
        return name

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """The standard AWS variables for this server. The instance-metadata endpoint points
        at a closed loopback port: a test without keys never reaches out of this machine."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint or self.endpoint,
                "AWS_ACCESS_KEY_ID": self.key_id,
                "AWS_SECRET_ACCESS_KEY": self.secret,
                "AWS_REGION": REGION,
                "AWS_METADATA_ENDPOINT": f"http://127.0.0.1:{closed_port()}",
                "PYTHONPATH": str(REPO),
                "LANCEDB_LOG": "error",
            }
        )
        return env

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in the bucket (to look for what must never be written)."""
        client = self.s3()
        out: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        return out

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


_CLOSED: list[int] = []


def closed_port() -> int:
    """A loopback port nothing listens on (found once per test session)."""
    if not _CLOSED:
        _CLOSED.append(free_port())
    return _CLOSED[0]


class Relay:
    """A TCP relay process on its own port in front of the S3 server: kill it (SIGKILL) and
    the store vanishes mid-request; start it again and the same data is back."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target = target_port
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "tcp_relay.py"), str(self.port), str(self.target)]
        )
        wait_port(self.port, timeout=30)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def tandem(
    args: list[str], env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The real ``tandem`` command (this checkout), as CI or a developer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def git_workspace(root: Path, extra_modules: int = 0) -> Path:
    """The LSP fixture workspace (plus ``extra_modules`` generated modules) committed to a
    fresh git repository: a checkout of main as CI sees it."""
    shutil.copytree(FIXTURE, root)
    for i in range(extra_modules):
        body = "\n\n".join(
            f"def helper_{i}_{j}(value: int) -> int:\n    return value * {j} + {i}"
            for j in range(12)
        )
        (root / "geometry" / f"gen_{i:03d}.py").write_text(body + "\n")
    git = ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "main"], check=True)
    return root


def head(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
