"""The model-free backend: continue the current line as the retrieved code does."""

from __future__ import annotations

from server.backends.retrieval_backend import RetrievalBackend
from server.context.snippet import Snippet

CART = Snippet(
    "shop/cart.py",
    6,
    14,
    "class Cart:\n"
    "    def __init__(self) -> None:\n"
    "        self.items: list[Item] = []\n"
    "\n"
    "    def total_cents(self) -> int:\n"
    "        return sum(item.total_cents() for item in self.items)\n",
    1.0,
    "definition",
    "",
)
LOADER = Snippet(
    "io/load.py",
    1,
    5,
    "def load(path):\n"
    "    with open(path) as f:\n"
    "        data = json.load(f)\n"
    "        check(data)\n"
    "    return data\n",
    0.5,
    "similar",
    "",
)


def propose(prefix: str, multiline: bool = False, snippets: list[Snippet] | None = None) -> str:
    return RetrievalBackend().propose(prefix, "\n", snippets or [CART, LOADER], multiline).text


def test_completes_the_rest_of_the_matching_line() -> None:
    assert propose("def grand_total(cart):\n    return sum(item.tot") == (
        "al_cents() for item in self.items)"
    )


def test_context_above_picks_between_equal_keys() -> None:
    # Both snippets have a line starting "with"/"return"; the lines above decide.
    got = propose("def load(path):\n    with open(path) as f:\n        data = json.")
    assert got == "load(f)"


def test_blank_line_gets_the_next_line_indented() -> None:
    got = propose("class Cart:\n    def __init__(self) -> None:\n")
    assert got == "        self.items: list[Item] = []"


def test_multiline_continues_the_matched_block() -> None:
    got = propose("def load(path):\n    with open(path) as f:\n", multiline=True)
    assert got == "        data = json.load(f)\n        check(data)"


def test_no_match_is_empty() -> None:
    gen = RetrievalBackend().propose("zebra = quagga", "\n", [CART, LOADER], False)
    assert gen.text == "" and gen.finish_reason == "no_match"


def test_one_letter_without_context_proposes_nothing() -> None:
    assert propose("x") == ""


def test_a_partial_name_is_completed_from_a_snippet_that_defines_it() -> None:
    # The snippet is only the definition, so no retrieved line continues "return x * CENTIM".
    units = Snippet("units.py", 1, 1, "CENTIMETRES_PER_INCH = 2.54\n", 1.0, "definition", "")
    assert propose("def to_cm(x):\n    return x * CENTIM", snippets=[units]) == "ETRES_PER_INCH"
    assert propose("def to_cm(x):\n    return x * C", snippets=[units]) == ""  # one letter
