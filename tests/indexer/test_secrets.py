"""Secret files are recognised by name; secret tokens are redacted with lines kept."""

from __future__ import annotations

import pytest

from indexer.secrets import PLACEHOLDER, is_secret_file, redact

GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
TOKENS = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": GH,
    "github_pat": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "google": "AIza" + "SyD-1234567890abcdefghijklmnopqrstu",
    "openai": "sk-proj-" + "abcdefghijklmnopqrstuvwxyz0123456789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "config/.env.production",
        "certs/server.pem",
        "keys/deploy.key",
        "home/.ssh/id_rsa",
        "id_ed25519.pub",
        "store.p12",
        "store.pfx",
        "app.jks",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        "gcp/credentials.json",
        "home/.aws/credentials",
        "home/.kube/config",
        "infra/prod.tfvars",
    ],
)
def test_secret_files_are_recognised(path: str) -> None:
    assert is_secret_file(path)


@pytest.mark.parametrize(
    "path", ["src/env.py", ".env.example", "docs/keys.md", "src/credentials.py", "config.json"]
)
def test_ordinary_files_are_not_secret(path: str) -> None:
    assert not is_secret_file(path)


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_tokens_are_redacted(kind: str) -> None:
    token = TOKENS[kind]
    text = f"line one\nvalue = {token!r}  # {kind}\nline three\n"
    out = redact(text)
    assert token not in out
    assert PLACEHOLDER in out
    assert out.count("\n") == text.count("\n")
    assert out.startswith("line one\n") and out.endswith("line three\n")


def test_private_key_block_is_redacted_and_lines_kept() -> None:
    body = "\n".join("MIIEowIBAAKCAQEA" + str(i) * 40 for i in range(6))
    block = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    text = "KEY = '''\n" + block + "\n'''\nx = 1\n"
    out = redact(text)
    assert "MIIEowIBAAKCAQEA" not in out
    assert "BEGIN RSA PRIVATE KEY" not in out
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[-1] == "x = 1"


def test_generic_assignments_and_url_credentials() -> None:
    text = (
        'password = "hunter2hunter2"\n'
        "API_KEY: 'f3a9c1e07b5d4a2e9c8b'\n"
        '"client_secret": "q8Zp-19xY-77aa"\n'
        "DATABASE_URL = 'postgres://admin:s3cr3tpass@db.internal:5432/app'\n"
    )
    out = redact(text)
    for secret in ("hunter2hunter2", "f3a9c1e07b5d4a2e9c8b", "q8Zp-19xY-77aa", "s3cr3tpass"):
        assert secret not in out
    assert "postgres://admin:" in out and "@db.internal" in out


def test_ordinary_code_is_untouched() -> None:
    text = (
        "def login(password: str, token: str | None = None) -> bool:\n"
        '    label = "password"\n'
        '    field_name = "api_key"\n'
        "    return check(password, token)\n"
    )
    assert redact(text) == text
