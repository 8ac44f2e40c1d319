"""Keep secrets out of the index: whole files that hold credentials are skipped, and
secret-looking tokens inside indexed files are replaced before anything is stored or embedded.

Redaction keeps the line count (and so every stored line number) unchanged.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

PLACEHOLDER = "«redacted»"

# File names (the last path component, lower-cased) that hold credentials as a whole.
_SECRET_NAMES = frozenset(
    {
        ".env",
        ".netrc",
        "_netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".pgpass",
        ".htpasswd",
        "credentials.json",
        "client_secret.json",
        "service-account.json",
        "service_account.json",
        "secrets.json",
        "secrets.yaml",
        "secrets.yml",
        "kubeconfig",
        ".dockercfg",
        "known_hosts",
        "authorized_keys",
    }
)
_SECRET_SUFFIXES = (
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    ".jks",
    ".keystore",
    ".crt",
    ".cer",
    ".der",
    ".csr",
    ".ovpn",
    ".kdbx",
    ".gpg",
    ".asc",
    ".tfvars",
    ".tfstate",
)
_SECRET_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env.")
# Files whose meaning depends on the folder they sit in.
_SECRET_IN_DIR = {
    ("aws", "credentials"),
    ("aws", "config"),
    ("docker", "config.json"),
    ("kube", "config"),
    ("ssh", "config"),
    ("gnupg", "*"),
}
# Templates that conventionally hold no real values.
_SAFE_ENV_SUFFIXES = (".example", ".sample", ".template", ".dist")


def is_secret_file(relpath: str) -> bool:
    """True for files that hold credentials as a whole (never read, never indexed)."""
    p = PurePosixPath(relpath.replace("\\", "/"))
    name = p.name.lower()
    if name.startswith(".env") and name.endswith(_SAFE_ENV_SUFFIXES):
        return False
    if name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES):
        return True
    if name.startswith(_SECRET_PREFIXES):
        return True
    parent = p.parent.name.lower().lstrip(".")
    return (parent, name) in _SECRET_IN_DIR or (parent, "*") in _SECRET_IN_DIR


# Each pattern's whole match (or its named group "v") is replaced. Each runs only when one
# of its trigger strings occurs in the text (a plain substring test is far cheaper than a
# regex scan, and most files trigger none).
_TOKEN_PATTERNS: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    # AWS access key ids (secret keys in assignments are handled by the generic rule).
    (
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    ),
    # GitHub tokens (classic and fine-grained).
    (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ),
    # GitLab personal access tokens.
    (("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b")),
    # Slack tokens and webhooks.
    (("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    (("hooks.slack.com",), re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")),
    # Stripe live and restricted keys.
    (("_live_",), re.compile(r"\b(?:sk|rk|pk)_live_[A-Za-z0-9]{16,}\b")),
    # Google API keys.
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    # OpenAI / Anthropic style keys.
    (("sk-",), re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}\b")),
    # npm tokens.
    (("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    # JSON Web Tokens.
    (
        ("eyJ",),
        re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ),
    # Credentials inside URLs: scheme://user:password@host
    (("://",), re.compile(r"://[^\s:/@\"']+:(?P<v>[^\s@/\"']{3,})@")),
]
# Generic assignments: password = "...", api_key: '...', "token": "..." (run per line, on
# lines holding one of the keywords).
_GENERIC_KEYWORDS = re.compile(r"(?i)pass|secret|key|token")
_QUOTED_VALUE = re.compile(r"[=:]\s*[\"'`][^\"'`\s]{8,}[\"'`]")
_GENERIC = re.compile(
    r"""(?ix)
    (?:pass(?:word|wd)?|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|
       token|private[_-]?key|client[_-]?secret)
    [\w-]*["']?\s*(?::=|=>|=|:)\s*
    (?P<q>["'`])(?P<v>[^"'`\s]{8,})(?P=q)
    """
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY"
    r"(?: BLOCK)?-----",
    re.DOTALL,
)


def _keep_lines(match: re.Match[str]) -> str:
    """A PEM block becomes the placeholder plus the same number of newlines."""
    return PLACEHOLDER + "\n" * match.group(0).count("\n")


def _looks_secret(value: str) -> bool:
    """Skip words and identifiers (``password = "password"``); keep anything key-like."""
    return len(value) >= 16 or any(not c.isalpha() for c in value)


def _replace(match: re.Match[str]) -> str:
    if "v" in match.re.groupindex and match.group("v") is not None:
        if "q" in match.re.groupindex and not _looks_secret(match.group("v")):
            return match.group(0)
        start, end = match.span("v")
        s0 = match.start()
        whole = match.group(0)
        return whole[: start - s0] + PLACEHOLDER + whole[end - s0 :]
    return PLACEHOLDER


def redact(text: str) -> str:
    """Replace secret-looking tokens with a placeholder; the line count is unchanged."""
    if "PRIVATE KEY" in text:
        text = _PEM_BLOCK.sub(_keep_lines, text)
    for triggers, pattern in _TOKEN_PATTERNS:
        if any(t in text for t in triggers):
            text = pattern.sub(_replace, text)
    if _GENERIC_KEYWORDS.search(text):
        text = _redact_assignments(text)
    return text


def _redact_assignments(text: str) -> str:
    """Apply the generic rule to the lines holding a long quoted value and a keyword."""
    out: list[str] = []
    done = 0  # text[:done] is already in out
    checked = -1  # start of the last line examined
    for m in _QUOTED_VALUE.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if start <= checked:
            continue
        checked = start
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        line = text[start:end]
        if not _GENERIC_KEYWORDS.search(line):
            continue
        new = _GENERIC.sub(_replace, line)
        if new != line:
            out.append(text[done:start])
            out.append(new)
            done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)
