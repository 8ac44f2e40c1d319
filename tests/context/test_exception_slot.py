"""After ``raise``, ``except`` or ``pytest.raises(`` a Python package's exception classes
rank before its other classes, bases followed through the workspace; after ``class T(``
or ``isinstance(x, `` its classes rank before its functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_scope import index_files, top

from server.context.builder import view_for
from server.context.cursor import locate
from server.context.exceptions import ExceptionClasses, class_slot, exception_slot
from server.context.workspace import Layered

API = ("get", "post", "request", "stream", "request_stream")
MODELS = ("Client", "Request", "Response", "Timeout", "Transport", "Headers")

PKG = {
    "pkg/__init__.py": (
        f"from ._models import {', '.join(MODELS)}\nfrom ._errors import Error, ReadTimeout\n"
        f"from ._api import {', '.join(API)}\n"
    ),
    "pkg/_api.py": "".join(
        f'def {n}(url, *a):\n    """{n.upper()} a request to url."""\n    return url, a\n\n\n'
        for n in API
    ),
    "pkg/_models.py": "".join(
        f'class {n}:\n    """A {n.lower()}."""\n\n    def __init__(self, *a):\n'
        "        self.a = a\n\n\n"
        for n in MODELS
    ),
    "pkg/_errors.py": (
        'class Error(Exception):\n    """Any error."""\n\n\n'
        'class ReadTimeout(Error):\n    """Reading timed out."""\n'
    ),
    # The lines above speak of clients, timeouts and responses, not of errors.
    "tests/test_client.py": (
        "import pytest\n\nimport pkg\n\n\ndef test_timeout():\n"
        + "    client = pkg.Client(pkg.Transport(), pkg.Headers())\n" * 4
        + "    timeout = pkg.Timeout(1)\n" * 4
        + "    response = pkg.Response(client, timeout)\n" * 3
        + "    with pytest.raises(pkg.<|>ReadTimeout):\n        client.a\n"
    ),
    # The lines above speak of requests and streams; a base class is named next.
    "tests/test_transport.py": (
        "import pkg\n\n\ndef test_stream():\n"
        + '    request_stream = stream_request = "a request stream"\n' * 12
        + "\n\nclass Local(pkg.<|>Transport):\n    pass\n"
    ),
}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("exc") / "ws"
    return index_files(root, PKG)


@pytest.mark.parametrize(
    ("line", "slot"),
    [
        ("    with pytest.raises(pkg.", True),
        ("    with pytest.raises(", True),
        ("        self.assertRaises(", True),
        ("    except (ValueError, pkg.", True),
        ("    except ", True),
        ("    raise ", True),
        ("    response = pkg.", False),
        ("    raised = ", False),
    ],
)
def test_the_slot_is_where_python_names_an_exception(line: str, slot: bool) -> None:
    assert exception_slot("a.py", locate(line, 0, len(line))) is slot
    assert not exception_slot("a.ts", locate(line, 0, len(line)))


def test_an_exception_is_found_through_the_workspace_s_bases(pkg: Any) -> None:
    known = ExceptionClasses(Layered(view_for(pkg), None))
    assert known("Error", "pkg/_errors.py")
    assert known("ReadTimeout", "pkg/_errors.py")
    assert not known("Timeout", "pkg/_models.py")


def test_pytest_raises_ranks_the_package_s_exception_first(pkg: Any) -> None:
    snippets = top(pkg, PKG, "tests/test_client.py", k=5)
    assert snippets and snippets[0][0] == "pkg/_errors.py", snippets


def test_a_base_or_an_isinstance_test_names_a_class(pkg: Any) -> None:
    for line in ("class T(pkg.", "class T(Base, ", "    if isinstance(x, (pkg.A, pkg."):
        assert class_slot("a.py", locate(line, 0, len(line))), line
    assert not class_slot("a.py", locate("    x = f(a, pkg.", 0, 17))
    snippets = top(pkg, PKG, "tests/test_transport.py", k=5)
    assert snippets and snippets[0][1].startswith("class "), snippets
