"""``tandem serve``: the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO, cast

from server.cli.common import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    mode.add_argument("--tcp", action="store_true", help="listen on a TCP port")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="write logs here instead of stderr")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default info)",
    )


def run(args: argparse.Namespace) -> int:
    from server.lsp.logging_setup import setup_logging
    from server.lsp.transport import protect_stdout

    if args.tcp and not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    try:
        setup_logging(args.log_file, getattr(logging, args.log_level.upper()))
    except OSError as e:
        raise UserError(f"cannot open the log file {args.log_file}: {e}") from e
    stdin, stdout = protect_stdout() if not args.tcp else (None, None)

    from server.lsp.server import create_server

    server = create_server()
    log = logging.getLogger("tandem.serve")
    try:
        if args.tcp:
            log.info("listening on %s:%d", args.host, args.port)
            server.start_tcp(args.host, args.port)
        else:
            log.info("serving over stdio")
            server.start_io(cast(BinaryIO, stdin), stdout)
    finally:
        server.stop_all()
    # LSP: exit code 0 only after a shutdown request. Every index write has been joined by
    # stop_all(); skip the interpreter's slow teardown (worker threads parked on stdin,
    # native libraries' destructors), which editors would otherwise wait on.
    code = 0 if server.protocol._shutdown else 1
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """``python -m server.cli.serve_cmd``: the server without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="tandem serve", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
