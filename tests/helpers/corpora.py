"""Real, widely used source code per grammar language, from the package registries.

The parse corpus test (tests/indexer/test_corpora.py) and bench/parse.py read these.
``python tests/helpers/corpora.py install`` (run by ``make corpora``) fetches what is missing
into ``corpora_root()`` with the ordinary clients: ``apt-get download`` + ``dpkg-deb -x`` for
Debian packages (whatever version apt offers; the version is kept beside the files), ``npm
pack`` for npm packages (pinned). Python needs nothing: the project's own virtualenv holds
widely used packages from PyPI (torch, transformers, sympy, pandas, ...). Nothing is
installed into the system.

Each language's sample is a fixed, deterministic choice: the files the indexer's own walk
would index (default ignore rules: no ``dist/``, minified or generated files), taken in turn
from each source of that language, each source's files in the order of a hash of their path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from indexer.types import Skipped  # noqa: E402
from indexer.walk import read_source, walk  # noqa: E402
from server.settings import IndexSettings  # noqa: E402

SAMPLE_FILES = 300
MAX_BYTES = 1024 * 1024  # the indexer's default max_file_kb
STAMP = ".tandem-corpus"  # holds the installed version; written last
# OpenJDK's src.zip holds 70 modules; these are plenty, and quick to unpack.
JDK_MODULES = ("java.base", "java.net.http", "java.sql", "java.logging", "jdk.compiler")


@dataclass(frozen=True, slots=True)
class Source:
    """One package holding code of a language."""

    kind: str  # deb | npm | site-packages (of the running Python)
    package: str
    version: str = ""  # npm: pinned; deb: whatever apt offers
    under: str = ""  # the folder inside the package that holds the code


CORPORA: dict[str, tuple[Source, ...]] = {
    "python": tuple(
        Source("site-packages", package, under=package)
        for package in (
            "torch",
            "transformers",
            "sympy",
            "pandas",
            "numpy",
            "networkx",
            "mypy",
            "pydantic",
            "rich",
            "requests",
        )
    ),
    "go": (
        Source("deb", "golang-1.19-src", under="usr/share/go-1.19/src"),
        Source("deb", "golang-google-grpc-dev", under="usr/share/gocode/src"),
        Source("deb", "golang-github-spf13-cobra-dev", under="usr/share/gocode/src"),
        Source("deb", "golang-github-prometheus-client-golang-dev", under="usr/share/gocode/src"),
    ),
    "rust": tuple(
        Source("deb", f"librust-{crate}-dev", under="usr/share/cargo/registry")
        for crate in (
            "tokio",
            "serde",
            "serde-json",
            "syn",
            "regex",
            "clap",
            "rand",
            "itertools",
            "hyper",
            "futures-util",
            "rayon",
            "chrono",
        )
    ),
    "java": (Source("deb", "openjdk-17-source", under="src"),),
    "c": (
        Source("deb", "libxcrypt-source", under="usr/src/libxcrypt"),
        Source("deb", "uwsgi-src", under="usr/src/uwsgi"),
    ),
    "cpp": (
        Source("deb", "googletest", under="usr/src/googletest"),
        Source("deb", "nlohmann-json3-dev", under="usr"),
        Source("deb", "libfmt-dev", under="usr/include"),
        Source("deb", "libspdlog-dev", under="usr/include"),
        Source("deb", "libglm-dev", under="usr/include"),
    ),
    "typescript": (
        Source("npm", "rxjs", "7.8.1", under="package"),
        Source("npm", "@tanstack/query-core", "5.62.0", under="package"),
    ),
    "tsx": (
        Source("npm", "@tanstack/react-router", "1.170.46", under="package"),
        Source("npm", "@tanstack/solid-router", "1.170.36", under="package"),
        Source("npm", "@tanstack/query-devtools", "5.108.2", under="package"),
        Source("npm", "@tanstack/router-devtools-core", "1.168.3", under="package"),
        Source("npm", "@tanstack/react-query", "5.62.0", under="package"),
        Source("npm", "@tanstack/react-form", "1.33.5", under="package"),
    ),
    "javascript": (
        Source("npm", "lodash", "4.17.21", under="package"),
        Source("npm", "eslint", "9.17.0", under="package"),
        Source("npm", "express", "4.21.2", under="package"),
    ),
}

EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py",),
    "go": (".go",),
    "rust": (".rs",),
    "java": (".java",),
    "c": (".c", ".h"),
    "cpp": (".cc", ".cpp", ".h", ".hpp", ".inl"),
    "typescript": (".ts",),
    "tsx": (".tsx",),
    "javascript": (".js", ".mjs", ".cjs"),
}

# Inputs the packages keep to test their own tools on broken code, not code to index.
EXCLUDED_PARTS = frozenset({"testdata"})


def corpora_root() -> Path:
    """Where corpora live: ``$TANDEM_CORPORA``, else a cache folder kept across clones."""
    env = os.environ.get("TANDEM_CORPORA")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tandem-corpora"


INSTALL_HINT = "make corpora   (or: python tests/helpers/corpora.py install)"


def source_dir(source: Source, root: Path | None = None) -> Path:
    """The folder a source's package is unpacked into."""
    root = root or corpora_root()
    if source.kind == "site-packages":
        return Path(sysconfig.get_paths()["purelib"])
    name = source.package.replace("/", "+")
    return root / source.kind / (f"{name}@{source.version}" if source.version else name)


def installed_version(source: Source, root: Path | None = None) -> str | None:
    """The installed version, or None if the source is missing."""
    if source.kind == "site-packages":
        return f"python {sys.version_info.major}.{sys.version_info.minor}"
    stamp = source_dir(source, root) / STAMP
    return stamp.read_text().strip() if stamp.exists() else None


def missing(language: str, root: Path | None = None) -> list[Source]:
    return [s for s in CORPORA[language] if installed_version(s, root) is None]


# -- the sample --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusFile:
    path: str  # "<package>/<path inside the package's code folder>"
    text: str


def _order(rel: str) -> bytes:
    return hashlib.blake2b(rel.encode(), digest_size=8).digest()


def _candidates(source: Source, language: str, root: Path | None) -> list[tuple[str, Path]]:
    base = source_dir(source, root) / source.under
    if not base.is_dir():
        return []
    settings = IndexSettings(embedder="none", max_file_kb=MAX_BYTES // 1024)
    found = []
    for item in walk(base, settings):
        if isinstance(item, Skipped) or not item.path.endswith(EXTENSIONS[language]):
            continue
        if EXCLUDED_PARTS.intersection(item.path.split("/")):
            continue
        found.append((item.path, item.abspath))
    found.sort(key=lambda pair: _order(pair[0]))
    return found


def sample(language: str, limit: int = SAMPLE_FILES, root: Path | None = None) -> list[CorpusFile]:
    """The language's fixed sample: up to ``limit`` readable files, round-robin over its
    sources so that no one package dominates."""
    queues = [(source, iter(_candidates(source, language, root))) for source in CORPORA[language]]
    out: list[CorpusFile] = []
    while queues and len(out) < limit:
        for source, queue in list(queues):
            if len(out) >= limit:
                break
            taken = _next_readable(queue)
            if taken is None:
                queues.remove((source, queue))
                continue
            rel, text = taken
            out.append(CorpusFile(f"{source.package}/{rel}", text))
    return out


def _next_readable(queue: Iterator[tuple[str, Path]]) -> tuple[str, str] | None:
    for rel, path in queue:
        text = read_source(path, MAX_BYTES, rel=rel)
        if not isinstance(text, Skipped):
            return rel, text
    return None


# -- installing --------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _install_debs(sources: list[Source], root: Path) -> None:
    """One ``apt-get download`` for all missing packages (after ``apt-get update`` if the
    package lists are stale), then each unpacked into its own folder."""
    if not sources:
        return
    names = sorted({s.package for s in sources})
    with tempfile.TemporaryDirectory() as tmp:
        download = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *names]
        try:
            _run(download, Path(tmp))
        except subprocess.CalledProcessError:
            _run(["apt-get", "update", "-qq"], Path(tmp))
            _run(download, Path(tmp))
        for source in sources:
            [deb] = Path(tmp).glob(f"{source.package}_*.deb")
            version = subprocess.run(
                ["dpkg-deb", "-f", str(deb), "Version"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            dest = source_dir(source, root)
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            _run(["dpkg-deb", "-x", str(deb), str(dest)], dest)
            if source.package == "openjdk-17-source":
                _unpack_jdk(dest)
            (dest / STAMP).write_text(f"{source.package} {version}\n")


def _unpack_jdk(dest: Path) -> None:
    """OpenJDK ships its sources as one zip: unpack a few modules, drop the rest."""
    [archive] = dest.glob("usr/lib/jvm/*/lib/src.zip")
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.split("/", 1)[0] in JDK_MODULES]
        zf.extractall(dest / "src", members)
    shutil.rmtree(dest / "usr")


def _install_npm(source: Source, root: Path) -> None:
    dest = source_dir(source, root)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{source.package}@{source.version}"
        _run(["npm", "pack", "--silent", "--pack-destination", tmp, spec], Path(tmp))
        [tarball] = Path(tmp).glob("*.tgz")
        _run(["tar", "-xzf", str(tarball), "-C", str(dest)], dest)
    (dest / STAMP).write_text(f"{source.package} {source.version}\n")


def install(root: Path | None = None) -> list[str]:
    """Fetch every missing source; returns what was installed."""
    root = root or corpora_root()
    todo = {
        s for sources in CORPORA.values() for s in sources if installed_version(s, root) is None
    }
    debs = sorted((s for s in todo if s.kind == "deb"), key=lambda s: s.package)
    _install_debs(debs, root)
    for source in sorted((s for s in todo if s.kind == "npm"), key=lambda s: s.package):
        _install_npm(source, root)
    return sorted(f"{s.kind}:{s.package}" for s in todo)


def main(argv: list[str]) -> int:
    if argv[:1] != ["install"]:
        print("usage: python tests/helpers/corpora.py install", file=sys.stderr)
        return 2
    root = corpora_root()
    done = install(root)
    print(f"corpora in {root}: " + (f"installed {', '.join(done)}" if done else "up to date"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
