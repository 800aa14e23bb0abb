"""holterlab's Holter analysis server (FastAPI on uvicorn; needs the ``server`` extra).

``holterlab serve --data-dir DIR`` runs it; :func:`create_app` builds the ASGI application
from a :class:`~holterlab.server.config.ServerConfig`. Importing this package does not import
FastAPI: the application modules load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "ServerConfig"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from holterlab.server.app import create_app

        return create_app
    if name == "ServerConfig":
        from holterlab.server.config import ServerConfig

        return ServerConfig
    raise AttributeError(f"module 'holterlab.server' has no attribute {name!r}")
