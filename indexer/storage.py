"""Where an index lives: a local folder or an object store (``s3://``, ``gs://``, ``az://``).

Storage options (endpoint, region, allow-http, credentials) come from the standard
environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) and from settings, settings
winning. They are handed to LanceDB and nowhere else: never logged, printed or stored in the
index (``display_uri`` and ``public_options`` are what may be shown). Failures of the store
become one ``StorageError`` line that says what to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

REMOTE_SCHEMES = ("s3", "s3+ddb", "gs", "gcs", "az", "abfs", "abfss")
_SECRET_WORDS = ("key", "secret", "token", "password", "sas", "credential", "signature")

# The environment's names for the options LanceDB's object store takes (S3 only: Google and
# Azure clients read their own variables; anything can be set through settings).
_S3_ENV = (
    ("aws_endpoint", ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")),
    ("aws_region", ("AWS_REGION", "AWS_DEFAULT_REGION")),
    ("aws_access_key_id", ("AWS_ACCESS_KEY_ID",)),
    ("aws_secret_access_key", ("AWS_SECRET_ACCESS_KEY",)),
    ("aws_session_token", ("AWS_SESSION_TOKEN",)),
    ("allow_http", ("AWS_ALLOW_HTTP",)),
    ("aws_metadata_endpoint", ("AWS_METADATA_ENDPOINT",)),
)
# Other places the AWS client finds credentials without a key in the options.
_S3_CREDENTIAL_SOURCES = (
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_ALIASES = {"endpoint": "aws_endpoint", "region": "aws_region", "endpoint_url": "aws_endpoint"}
# Fail in seconds, not minutes, when the store is unreachable (object_store retries 10
# times over up to 3 minutes by default).
_DEFAULTS = {"connect_timeout": "5s", "timeout": "60s", "client_max_retries": "3"}


class StorageError(Exception):
    """The object store refused or could not be reached; the message says what to fix."""


def scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""


def is_remote(uri: str) -> bool:
    return scheme(uri) in REMOTE_SCHEMES


def storage_options(uri: str, configured: Mapping[str, str] | None = None) -> dict[str, str]:
    """The options LanceDB needs for ``uri``: environment, then settings on top."""
    if not is_remote(uri):
        return {}
    opts: dict[str, str] = dict(_DEFAULTS)
    if scheme(uri).startswith("s3"):
        for key, names in _S3_ENV:
            for name in names:
                value = os.environ.get(name)
                if value:
                    opts[key] = value
                    break
    for key, value in (configured or {}).items():
        opts[_ALIASES.get(key.lower(), key.lower())] = str(value)
    endpoint = opts.get("aws_endpoint", "")
    if endpoint.startswith("http://") and "allow_http" not in opts:
        opts["allow_http"] = "true"
    if endpoint and "aws_region" not in opts:
        opts["aws_region"] = "us-east-1"  # S3-compatible servers need one; any will do
    return opts


def is_secret_option(key: str) -> bool:
    return any(w in key.lower() for w in _SECRET_WORDS)


def public_options(opts: Mapping[str, str]) -> dict[str, str]:
    """The options that may be shown (no credentials)."""
    return {k: v for k, v in opts.items() if not is_secret_option(k) and k not in _DEFAULTS}


def display_uri(uri: str) -> str:
    """``uri`` without user info or query string (Azure SAS tokens, passwords)."""
    if "://" not in uri:
        return uri
    head, rest = uri.split("://", 1)
    rest = rest.split("?", 1)[0]
    host, sep, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1]
    return f"{head}://{host}{sep}{path}"


def bucket_of(uri: str) -> str:
    return display_uri(uri).split("://", 1)[-1].split("/", 1)[0]


def _has_credentials(uri: str, opts: Mapping[str, str]) -> bool:
    if not scheme(uri).startswith("s3"):
        return True  # Google's and Azure's clients have their own sources: do not guess
    return "aws_access_key_id" in opts or any(os.environ.get(n) for n in _S3_CREDENTIAL_SOURCES)


def explain(error: BaseException, uri: str, opts: Mapping[str, str] | None = None) -> str:
    """One line saying what went wrong with the store at ``uri`` and what to check, with
    every credential removed."""
    text = str(error)
    for value in (opts or {}).values():
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    low = text.lower()
    where = display_uri(uri)
    endpoint = (opts or {}).get("aws_endpoint")
    at = f" (endpoint {endpoint})" if endpoint else ""
    if "nosuchbucket" in low or "bucket does not exist" in low or "bucket not found" in low:
        return f"{where}: the bucket {bucket_of(uri)!r} does not exist{at}"
    refused = any(
        w in low
        for w in (
            "invalidaccesskeyid",
            "signaturedoesnotmatch",
            "accessdenied",
            "access denied",
            "forbidden",
            "403",
            "invalidtoken",
            "expiredtoken",
            "credential",
        )
    )
    if refused and not _has_credentials(uri, opts or {}):
        return (
            f"{where}: no credentials for the object store{at}; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or index.storage_options)"
        )
    if refused:
        return (
            f"{where}: the object store refused the credentials{at}; check "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or index.storage_options)"
        )
    if any(
        w in low
        for w in (
            "connection refused",
            "connection reset",
            "connection closed",
            "broken pipe",
            "unexpected eof",
            "error sending request",
            "dns error",
            "timed out",
            "timeout",
            "connect",
            "tcp",
        )
    ):
        return f"{where}: cannot reach the object store{at}; check the endpoint and the network"
    first = re.sub(r"\s+", " ", text).strip()[:300]
    return f"{where}: the object store failed: {first}"


@contextmanager
def storage_errors(uri: str, opts: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a failure of a remote store inside the block into a ``StorageError`` line
    (local indexes raise as before: their errors are bugs or disk problems)."""
    if not is_remote(uri):
        yield
        return
    try:
        yield
    except (OSError, RuntimeError, ValueError) as e:
        if type(e).__module__.split(".")[0] in ("indexer", "server"):
            raise  # our own errors already say what is wrong
        raise StorageError(explain(e, uri, opts)) from e
