"""HTTP for a served model: kept-alive connections, server-sent events, cancellation.

A completion server is asked once per keystroke, so a new TCP (and TLS) handshake per
request would cost more than a short completion: ``ConnectionPool`` keeps idle connections
to one origin and reuses them. ``post_events`` sends a JSON body and yields the ``data:``
payloads of the server-sent-event answer as they arrive; when the caller's cancel event is
set, ``CancelWatch`` shuts the socket down, so a read blocked on the server returns at once
and the server sees the client leave (llama.cpp's server and vLLM then stop generating).
Plain stdlib (``http.client``): nothing else to install or configure. The standard proxy
variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) are honoured as curl and urllib
honour them: https through a ``CONNECT`` tunnel, http by asking the proxy for the full URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

IDLE_CONNECTIONS = 2  # a superseded request may still be closing while the next one starts
CANCEL_POLL_S = 0.01


class StreamError(Exception):
    """The request failed; the message is one line for the user (what, where, why)."""


class CancelWatch:
    """One thread for the process: shuts down the socket of any request whose cancel
    event is set. It sleeps while no request is in flight."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, tuple[threading.Event, socket.socket]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watching(self, cancel: threading.Event | None, sock: socket.socket) -> Iterator[None]:
        if cancel is None:
            yield
            return
        with self._cond:
            key = self._next
            self._next += 1
            self._active[key] = (cancel, sock)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tandem-http-cancel", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._active.pop(key, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._active:
                    self._cond.wait()
                fired = [(k, s) for k, (ev, s) in self._active.items() if ev.is_set()]
                for key, _ in fired:
                    self._active.pop(key, None)
            for _, sock in fired:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            time.sleep(CANCEL_POLL_S)


CANCEL_WATCH = CancelWatch()


@dataclass(frozen=True)
class Proxy:
    """Where requests to one origin go instead, from the environment's proxy variables.
    ``authorization`` (from ``user:password@`` in the variable) is sent to the proxy only;
    ``shown`` names the proxy without it, for messages."""

    host: str
    port: int
    authorization: str | None

    @property
    def shown(self) -> str:
        return f"{self.host}:{self.port}"


def proxy_for(scheme: str, host: str) -> Proxy | None:
    """The proxy the environment names for ``scheme`` (``NO_PROXY`` respected), or None."""
    url = urllib.request.getproxies_environment().get(scheme)
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"unsupported {scheme} proxy (an http:// proxy is needed): {parts.scheme}")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + b64encode(pair.encode()).decode("ascii")
    return Proxy(parts.hostname, parts.port or 80, authorization)


class ConnectionPool:
    """Idle kept-alive connections to one origin (scheme, host, port), through the
    environment's proxy when it names one."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.proxy = proxy_for(self.scheme, self.host)
        self.path = parts.path or "/"
        if self.proxy is not None and self.scheme == "http":  # a plain proxy takes full URLs
            self.path = f"http://{self.host}:{self.port}{self.path}"
        self.timeout_s = timeout_s
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.opened = 0  # connections made (a reused one is not counted again)

    def get(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (and True), or a new, not yet connected one (and False)."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        if self.proxy is None:
            return cls(self.host, self.port, timeout=self.timeout_s), False
        conn = cls(self.proxy.host, self.proxy.port, timeout=self.timeout_s)
        if self.scheme == "https":
            auth = (
                {"Proxy-Authorization": self.proxy.authorization}
                if self.proxy.authorization
                else {}
            )
            conn.set_tunnel(self.host, self.port, headers=auth)
        return conn, False

    def request_headers(self) -> dict[str, str]:
        """Headers every request carries for the proxy (plain http only: a tunnel's
        proxy saw them once, in ``CONNECT``)."""
        if self.proxy is not None and self.scheme == "http" and self.proxy.authorization:
            return {"Proxy-Authorization": self.proxy.authorization}
        return {}

    def put(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self, conn: http.client.HTTPConnection) -> None:
        if conn.sock is None:
            conn.connect()
            self.opened += 1

    @contextlib.contextmanager
    def post(
        self,
        body: dict[str, Any],
        headers: dict[str, str],
        cancel: threading.Event | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """POST ``body`` as JSON; the block reads the response (its headers are read).

        The connection goes back to the pool only if the block read the whole response
        and the server keeps it alive. A kept-alive connection the server closed while
        idle fails on first use: that request is retried once on a new connection (the
        server processed nothing). A set ``cancel`` shuts the socket down (``Cancelled``
        if it was set before the answer began)."""
        data = json.dumps(body).encode("utf-8")
        headers = {
            **headers,
            **self.request_headers(),
            "Content-Type": "application/json",
            "Connection": "keep-alive",
        }
        for attempt in (0, 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            conn, reused = self.get()
            try:
                self._connect(conn)
            except BaseException as e:
                conn.close()
                error = _connect_error(e, self.timeout_s)
                if self.proxy is not None and isinstance(error, StreamError):
                    error = StreamError(f"{error} (through the proxy {self.proxy.shown})")
                raise error from e
            assert conn.sock is not None
            with CANCEL_WATCH.watching(cancel, conn.sock):
                try:
                    conn.request("POST", self.path, body=data, headers=headers)
                    response = conn.getresponse()
                except (ConnectionResetError, BrokenPipeError) as e:  # incl. RemoteDisconnected
                    conn.close()
                    if cancel is not None and cancel.is_set():
                        raise Cancelled from e
                    if reused and not attempt:
                        continue
                    raise StreamError(f"the server closed the connection: {_reason(e)}") from e
                except TimeoutError as e:
                    conn.close()
                    raise StreamError(f"no answer within {self.timeout_s:g} s") from e
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    if cancel is not None and cancel.is_set():
                        raise Cancelled from e
                    raise StreamError(f"the request failed: {_reason(e)}") from e
                whole = False
                try:
                    yield response
                    whole = response.isclosed() and not response.will_close
                finally:
                    if whole and not (cancel is not None and cancel.is_set()):
                        self.put(conn)
                    else:
                        conn.close()
            return


class Cancelled(Exception):
    """The caller's cancel event was set before the server began to answer."""


def _connect_error(e: BaseException, timeout_s: float) -> BaseException:
    if isinstance(e, ConnectionRefusedError):
        return StreamError("connection refused (is the server running?)")
    if isinstance(e, TimeoutError):
        return StreamError(f"no connection within {timeout_s:g} s")
    if isinstance(e, OSError):
        return StreamError(f"cannot connect: {_reason(e)}")
    return e


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def error_detail(response: http.client.HTTPResponse) -> str:
    """The start of an error answer's body, as one line (an OpenAI error's message if the
    body is one)."""
    try:
        raw = response.read(4096).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        err = json.loads(raw).get("error")
        if isinstance(err, dict) and err.get("message"):
            raw = str(err["message"])
        elif isinstance(err, str):
            raw = err
    return " ".join(raw.split())[:200]


def sse_data(response: http.client.HTTPResponse) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent-event stream, one per event, until the
    stream ends. Comments (``: ping``) and other fields are skipped."""
    lines: list[str] = []
    while True:
        raw = response.readline()
        if not raw:  # end of the body (or the socket was shut down)
            if lines:
                yield "\n".join(lines)
            return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
