"""Typed settings from ``initializationOptions``, ``workspace/configuration`` and
``workspace/didChangeConfiguration``.

A bad value never fails ``initialize``: ``parse_settings`` names it, keeps the default, and
the message is shown to the user with ``window/showMessage``. The client may send the
settings bare (``{"model": …}``) or under the section name (``{"tandem": {"model": …}}``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from server.settings import Settings, parse_settings

if TYPE_CHECKING:
    from server.lsp.server import TandemServer

log = logging.getLogger("tandem.lsp.options")

SECTION = "tandem"


def unwrap(raw: Any) -> Any:
    """The settings object, whether sent bare or under the ``tandem`` section."""
    if isinstance(raw, dict) and SECTION in raw and len(raw) == 1:
        return raw[SECTION]
    return raw


def merge(base: Any, override: Any) -> Any:
    """Deep-merge two JSON objects; ``override`` wins. Non-objects replace."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out.get(key), value) if key in out else value
    return out


class Options:
    """The current settings and where they came from."""

    def __init__(self) -> None:
        self.init_raw: Any = None
        self.pulled_raw: Any = None
        self.settings = Settings()
        self.errors: list[str] = []

    def compute(self) -> tuple[Settings, list[str]]:
        raw = self.init_raw
        if self.pulled_raw is not None:
            raw = merge(raw if isinstance(raw, dict) else {}, self.pulled_raw)
        return parse_settings(raw)


def show_errors(ls: TandemServer, errors: list[str], origin: str) -> None:
    if not errors:
        return
    text = f"Tandem: problems in {origin}; using defaults for: " + "; ".join(errors)
    log.warning(text)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=text))


def supports_pull(ls: TandemServer) -> bool:
    caps = ls.client_capabilities
    return bool(caps.workspace and caps.workspace.configuration)


async def pull(ls: TandemServer) -> None:
    """Ask the client for the ``tandem`` section and apply it on top of the init options."""
    if not supports_pull(ls):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception as e:  # the client may not implement it after all
        log.info("workspace/configuration failed: %s", e)
        return
    value = result[0] if result else None
    if isinstance(value, dict) and value:
        ls.options.pulled_raw = unwrap(value)
        apply(ls, "the workspace configuration")
    elif value is not None and not isinstance(value, dict):
        show_errors(ls, [f"settings must be an object, got {type(value).__name__}"], SECTION)


def apply(ls: TandemServer, origin: str) -> None:
    settings, errors = ls.options.compute()
    ls.options.errors = errors
    show_errors(ls, errors, origin)
    old = ls.options.settings
    ls.options.settings = settings
    if settings != old:
        ls.settings_changed(old, settings)


def register(server: TandemServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: TandemServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if supports_pull(ls):
            await pull(ls)
            return
        value = unwrap(params.settings)
        if isinstance(value, dict) and value:
            ls.options.pulled_raw = value
            apply(ls, "the changed configuration")
