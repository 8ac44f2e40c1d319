"""After the dot: the receiver's type per rule and language, its member snippet at the top
of the context, and the member list. Each language is a small real workspace, indexed with
the real indexer; each case is a cursor just before a member, the type expected there, and
the member the top snippet must show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from indexer.chunker import parse_file
from server.context import build_context
from server.context.builder import view_for
from server.context.members import members_at_cursor, receiver_at
from server.context.receiver import Inference
from server.context.typefacts import stats
from server.context.workspace import Layered

PYTHON = {
    "net/jar.py": '''
class CookieJar:
    """Stores cookies."""

    def add_cookie_header(self, request: str) -> None:
        pass
''',
    "net/base.py": """
class Closeable:
    def close(self) -> None:
        pass
""",
    "net/session.py": '''
from dataclasses import dataclass
from typing import Optional

from net.base import Closeable
from net.jar import CookieJar


class Settings:
    def getint(self, name: str) -> int:
        return 1


@dataclass
class Config:
    settings: Settings
    retries: int = 3


class Session(Closeable):
    """A client session."""

    timeout_jar: Optional[CookieJar] = None

    def __init__(self, jar: CookieJar, settings: Settings):
        self.jar = jar
        self.settings = settings
        self.config = Config(settings)

    @property
    def cookies(self) -> CookieJar:
        return self.jar

    def send(self, request: str) -> str:
        return request


def make_session() -> Session:
    return Session(CookieJar(), Settings())
''',
    "app/main.py": """
from net.jar import CookieJar
from net.session import Session, make_session
from external import thing

shared = Session(CookieJar(), None)


class Client(Session):
    def fetch(self, jars: list[CookieJar]) -> None:
        self.settings.getint("a")  # rule: self.x = param in __init__
        self.close()  # rule: inheritance, self
        for jar in jars:
            jar.add_cookie_header("r")  # rule: loop over an annotated container
        self.config.settings.getint("b")  # rule: dataclass field


def run(session: Session, maybe: Optional[CookieJar]) -> None:
    session.send("a")  # rule: parameter annotation
    s = Session(CookieJar(), None)
    s.send("b")  # rule: constructor call
    made = make_session()
    made.send("c")  # rule: return type of a workspace function
    with Session(CookieJar(), None) as w:
        w.send("d")  # rule: with X() as y
    session.cookies.add_cookie_header("e")  # rule: property
    session.timeout_jar.add_cookie_header("f")  # rule: class-level annotation, Optional
    shared.send("g")  # rule: module-level variable
    maybe.add_cookie_header("h")  # rule: Optional parameter
    other = thing()
    other.send("i")  # rule: unknown stays unknown
""",
}

TYPESCRIPT = {
    "src/jar.ts": """
/** Stores cookies. */
export class CookieJar {
  addCookieHeader(request: string): void {}
}
""",
    "src/session.ts": """
import { CookieJar } from './jar';

export interface Transport {
  send(body: string): Promise<string>;
}

export class Base {
  close(): void {}
}

export class Session extends Base {
  private jar: CookieJar;
  constructor(private readonly transport: Transport) {
    super();
    this.jar = new CookieJar();
  }
  cookies(): CookieJar { return this.jar; }
  request(url: string): string { return url; }
}

export function makeSession(): Session { return new Session(null as any); }
""",
    "src/main.ts": """
import { CookieJar } from './jar';
import { Session, makeSession } from './session';

export class Client extends Session {
  run(jars: CookieJar[]): void {
    this.transport.send('a');  // rule: constructor parameter property
    this.close();  // rule: this, inheritance
    for (const jar of jars) {
      jar.addCookieHeader('b');  // rule: for-of over an array type
    }
  }
}

export function go(session: Session): void {
  session.request('c');  // rule: parameter annotation
  const s = new Session(null as any);
  s.request('d');  // rule: new X()
  const m = makeSession();
  m.cookies().addCookieHeader('e');  // rule: return types of a function and a method
}
""",
}

GO = {
    "go.mod": "module example.com/m\n\ngo 1.22\n",
    "store/store.go": """
package store

// Store keeps rows.
type Store struct {
\tBase
\tcache *Cache
}

type Base struct{}

type Cache struct{}

func NewStore() *Store { return &Store{} }
""",
    "store/methods.go": """
package store

func (b *Base) Close() error { return nil }

func (c *Cache) Evict(key string) {}

func (s *Store) Get(key string) string { return key }
""",
    "app/main.go": """
package app

import "example.com/m/store"

func run(items []*store.Cache) {
\ts := store.NewStore()
\ts.Get("a") // rule: NewX() returning *X
\tt := &store.Store{}
\tt.Get("b") // rule: &X{}
\tfor _, c := range items {
\t\tc.Evict("c") // rule: range over a slice
\t}
}
""",
    "store/use.go": """
package store

func (s *Store) Flush() {
\ts.cache.Evict("d") // rule: receiver, struct field
\ts.Close() // rule: embedded struct
}
""",
}

JAVA = {
    "src/shop/Cart.java": """
package shop;

/** A shopping cart. */
public class Cart extends Basket {
    private Pricing pricing;

    public Cart(Pricing pricing) { this.pricing = pricing; }

    public int total() { return pricing.price(1); }
}
""",
    "src/shop/Basket.java": """
package shop;

public class Basket {
    public void empty() {}
}
""",
    "src/shop/Pricing.java": """
package shop;

public class Pricing {
    public int price(int items) { return items; }
}
""",
    "src/shop/Main.java": """
package shop;

import java.util.List;

public class Main {
    private Cart cart;

    void run(Cart given, List<Pricing> all) {
        given.total(); // rule: parameter type
        Cart made = new Cart(null);
        made.empty(); // rule: local type, inheritance
        var fresh = new Cart(null);
        fresh.total(); // rule: var x = new X()
        this.cart.total(); // rule: this, field
        for (Pricing p : all) {
            p.price(2); // rule: enhanced for
        }
    }
}
""",
}

ADD = "add_cookie_header"
RUST = {
    "src/store.rs": """
pub struct Cache {}

impl Cache {
    pub fn evict(&self, key: &str) {}
}

/// Keeps rows.
pub struct Store {
    cache: Cache,
    items: Vec<Cache>,
}

impl Store {
    pub fn new() -> Self {
        Store { cache: Cache {}, items: vec![] }
    }

    pub fn open(path: &str) -> Result<Store, String> {
        Ok(Store::new())
    }
}
""",
    "src/ops.rs": """
use crate::store::Store;

impl Store {
    pub fn get(&self, key: &str) -> Option<&Cache> {
        self.cache.evict(key); // rule: self in an impl, struct field
        None
    }
}

pub fn run(given: &Store) {
    given.get("a"); // rule: parameter type, method in another impl
    let s = Store::new();
    s.get("b"); // rule: X::new() -> Self
    let t: Store = make();
    t.get("c"); // rule: let with a type
    let o = Store::open("p")?;
    o.get("d"); // rule: Result<Store, _> and ?
    for c in given.items.iter() {
        c.evict("e");
    }
}
""",
}

# (file, text up to the member, expected class or None, expected member in the top snippet)
CASES: dict[str, list[tuple[str, str, str | None, str]]] = {
    "python": [
        ("app/main.py", 'self.settings.getint("a")', "Settings", "getint"),
        ("app/main.py", "self.close()", "Client", "close"),
        ("app/main.py", 'jar.add_cookie_header("r")', "CookieJar", ADD),
        ("app/main.py", 'self.config.settings.getint("b")', "Settings", "getint"),
        ("app/main.py", 'session.send("a")', "Session", "send"),
        ("app/main.py", 's.send("b")', "Session", "send"),
        ("app/main.py", 'made.send("c")', "Session", "send"),
        ("app/main.py", 'w.send("d")', "Session", "send"),
        ("app/main.py", 'session.cookies.add_cookie_header("e")', "CookieJar", "add_cookie_header"),
        (
            "app/main.py",
            'session.timeout_jar.add_cookie_header("f")',
            "CookieJar",
            "add_cookie_header",
        ),
        ("app/main.py", 'shared.send("g")', "Session", "send"),
        ("app/main.py", 'maybe.add_cookie_header("h")', "CookieJar", ADD),
        ("app/main.py", 'other.send("i")', None, "send"),
    ],
    "typescript": [
        ("src/main.ts", "this.transport.send('a')", "Transport", "send"),
        ("src/main.ts", "this.close()", "Client", "close"),
        ("src/main.ts", "jar.addCookieHeader('b')", "CookieJar", "addCookieHeader"),
        ("src/main.ts", "session.request('c')", "Session", "request"),
        ("src/main.ts", "s.request('d')", "Session", "request"),
        ("src/main.ts", "m.cookies().addCookieHeader('e')", "CookieJar", "addCookieHeader"),
    ],
    "go": [
        ("app/main.go", 's.Get("a")', "Store", "Get"),
        ("app/main.go", 't.Get("b")', "Store", "Get"),
        ("app/main.go", 'c.Evict("c")', "Cache", "Evict"),
        ("store/use.go", 's.cache.Evict("d")', "Cache", "Evict"),
        ("store/use.go", "s.Close()", "Store", "Close"),
    ],
    "rust": [
        ("src/ops.rs", "self.cache.evict(key)", "Cache", "evict"),
        ("src/ops.rs", 'given.get("a")', "Store", "get"),
        ("src/ops.rs", 's.get("b")', "Store", "get"),
        ("src/ops.rs", 't.get("c")', "Store", "get"),
        ("src/ops.rs", 'o.get("d")', "Store", "get"),
        ("src/ops.rs", 'c.evict("e")', None, "evict"),  # an iterator's element: unknown
    ],
    "java": [
        ("src/shop/Main.java", "given.total()", "Cart", "total"),
        ("src/shop/Main.java", "made.empty()", "Cart", "empty"),
        ("src/shop/Main.java", "fresh.total()", "Cart", "total"),
        ("src/shop/Main.java", "this.cart.total()", "Cart", "total"),
        ("src/shop/Main.java", "p.price(2)", "Pricing", "price"),
    ],
}
WORKSPACES = {"python": PYTHON, "typescript": TYPESCRIPT, "go": GO, "java": JAVA, "rust": RUST}


def _index(root: Path, files: dict[str, str]) -> Any:
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.lstrip("\n"))
    sync(root, IndexSettings(embedder="none"))
    return open_index(root)


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    out = {}
    for language, files in WORKSPACES.items():
        root = tmp_path_factory.mktemp(language) / "ws"
        out[language] = (root, _index(root, files))
    return out


def _cursor(root: Path, path: str, call: str) -> tuple[str, int, int, str]:
    """The buffer cut just before the member of ``call`` (as the user has it), the cursor,
    and the member's name."""
    text = (root / path).read_text()
    last = list(re.finditer(r"\.(\w+)\(", call))[-1]
    member = last.group(1)
    at = text.index(call) + last.start() + 1
    line = text.count("\n", 0, at)
    col = at - (text.rfind("\n", 0, at) + 1)
    return text[:at], line, col, member


CASE_IDS = [(lang, i) for lang, cases in CASES.items() for i in range(len(cases))]


@pytest.mark.parametrize(("language", "case"), CASE_IDS, ids=lambda v: str(v))
def test_receiver_type_and_member_snippet(
    workspaces: dict[str, tuple[Path, Any]], language: str, case: int
) -> None:
    path, call, expected, member = CASES[language][case]
    root, index = workspaces[language]
    text, line, col, name = _cursor(root, path, call)
    assert name == member
    view = view_for(index)
    receiver = receiver_at(Inference(Layered(view, None)), path, text, line, col)
    assert receiver is not None
    got = receiver.cls.name if receiver.cls is not None else None
    assert got == expected, f"{call}: inferred {got}, expected {expected}"

    snippets = build_context(index, path, text, line, col).snippets
    if expected is None:  # unknown stays unknown: no snippet claims a type
        assert not any("is a `" in s.reason for s in snippets)
        return
    assert snippets[0].source == "member", f"{call}: top snippet is {snippets[0].reason}"
    # The class declaring the member is the top member snippet, or (inherited, nothing
    # typed) the snippet of the base right after the class's own.
    shown = [s for s in snippets[:3] if s.source == "member" and member in s.text]
    assert shown, f"{call}: {member} not in the top member snippets"
    listed = [m.name for m in members_at_cursor(index, path, text, line, col)]
    assert member in listed


def test_class_summary_shows_header_doc_and_the_member_being_typed_first(
    workspaces: dict[str, tuple[Path, Any]],
) -> None:
    root, index = workspaces["python"]
    text, line, col, _ = _cursor(root, "app/main.py", 'session.send("a")')
    text, col = text + "sen", col + 3
    snippets = build_context(index, "app/main.py", text, line, col).snippets
    summary = next(s for s in snippets if "its class" in s.reason)
    lines = summary.text.split("\n")
    assert lines[0] == "class Session(Closeable):"
    assert lines[1].strip() == "# A client session."
    # The one member the prefix names comes first, whole.
    assert lines[2:4] == ["    def send(self, request: str) -> str:", "        return request"]
    assert "jar: CookieJar" in summary.text  # self.jar = jar, jar: CookieJar
    assert summary.path == "net/session.py"
    base = next(s for s in snippets if "its base `Closeable`" in s.reason)
    assert "def close(self) -> None ..." in base.text


def test_unknown_type_ranks_the_class_fitting_the_receiver(
    workspaces: dict[str, tuple[Path, Any]],
) -> None:
    index = workspaces["python"][1]
    text = "def f(settings):\n    settings."
    snippets = build_context(index, "app/new.py", text, 1, len("    settings.")).snippets
    top = snippets[0]
    assert "type of `settings` unknown" in top.reason
    assert top.text.startswith("class Settings:")


def test_members_include_an_unsaved_buffer_and_skip_dunders(
    workspaces: dict[str, tuple[Path, Any]],
) -> None:
    root, index = workspaces["python"]
    edited = (root / "net/jar.py").read_text() + "\n    def clear(self) -> int:\n        return 0\n"
    overlay = {"net/jar.py": parse_file("net/jar.py", edited)}
    text = "from net.jar import CookieJar\n\n\ndef f(jar: CookieJar):\n    jar."
    members = members_at_cursor(index, "app/x.py", text, 4, 8, overlay)
    by_name = {m.name: m for m in members}
    assert set(by_name) == {"add_cookie_header", "clear"}
    clear = by_name["clear"]
    assert (clear.kind, clear.path, clear.line, clear.owner) == (
        "method",
        "net/jar.py",
        7,
        "CookieJar",
    )
    assert clear.signature == "def clear(self) -> int"
    assert members_at_cursor(index, "app/x.py", text + "add", 4, 11, overlay)[0].name == (
        "add_cookie_header"
    )
    assert members_at_cursor(index, "app/x.py", "x = 1", 0, 5) == []


def test_warm_reads_each_file_s_facts_once(workspaces: dict[str, tuple[Path, Any]]) -> None:
    from server.context import warm

    index = workspaces["java"][1]
    warm(index, wait=True)
    before = stats["parsed"]
    warm(index, wait=True)  # nothing changed: every file's facts come from the cache
    assert stats["parsed"] == before


def test_no_rule_failed_on_these_workspaces() -> None:
    assert stats["failed"] == 0


def test_a_cut_buffer_gets_its_open_brackets_closed_ignoring_strings_and_comments() -> None:
    from server.context.members import closers

    ts = 'class A {\n  f(x) { // }\n    s = "{(";\n    g(a, [1,'
    assert closers(ts, "//") == "])}}"
    py = 'def f(a):\n    """doc ( ["""\n    x = foo(a, # (\n  b.'
    assert closers(py, "#") == ")"
    assert closers("f(a)[0]\n{}", "#") == ""
