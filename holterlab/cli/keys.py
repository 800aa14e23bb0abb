"""``holterlab keys``: create, list and revoke the server's API keys."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from holterlab.cli._options import output_folder
from holterlab.errors import HolterlabError, ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="manage the analysis server's API keys")
    ksub = p.add_subparsers(dest="keys_command", metavar="ACTION")
    ksub.required = True

    c = ksub.add_parser("create", help="create an API key (prints it and its webhook secret)")
    c.add_argument("name", help="a name for the key (who uses it)")
    c.add_argument("--data-dir", required=True, help="the server's data folder")
    c.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests per second for this key (default: the server's)",
    )
    c.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    c.set_defaults(func=run_create)

    ls = ksub.add_parser("list", help="list API keys (never their secrets)")
    ls.add_argument("--data-dir", required=True, help="the server's data folder")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=run_list)

    r = ksub.add_parser("revoke", help="revoke an API key by its id")
    r.add_argument("key_id", help="the key's id (from 'holterlab keys list')")
    r.add_argument("--data-dir", required=True, help="the server's data folder")
    r.set_defaults(func=run_revoke)


@contextlib.contextmanager
def _store(data_dir: str, *, create: bool = False) -> Iterator[Any]:
    """The server's task store in ``data_dir``; created only by ``keys create``.

    A mistyped ``--data-dir`` must not silently make (and list) a new, empty store, and a file
    that is not the server's database is one line, not an sqlite3 traceback.
    """
    from holterlab.server.config import ServerConfig
    from holterlab.server.store import Store

    config = ServerConfig(data_dir=Path(data_dir))
    if not create and not config.db_path.is_file():
        raise ParameterError(
            f"--data-dir {data_dir}: no server database there ({config.db_path.name}); give the "
            "folder of 'holterlab serve --data-dir' (keys create makes a new one)"
        )
    if create:
        output_folder(data_dir, "--data-dir")
        config.ensure_dirs()
    store = None
    try:
        store = Store(config.db_path)
        yield store
    except sqlite3.Error as exc:
        raise HolterlabError(
            f"{config.db_path}: not a usable server database ({exc}); check --data-dir"
        ) from None
    finally:
        if store is not None:
            with contextlib.suppress(sqlite3.Error):
                store.close()


def run_create(args: argparse.Namespace) -> int:
    from holterlab.server.keys import create_key

    with _store(args.data_dir, create=True) as store:
        key = create_key(store, args.name, rate_limit=args.rate_limit)
    if args.json:
        print(json.dumps(key))
        return 0
    print(f"key id          {key['key_id']} ({key['name']})")
    print(f"API key         {key['api_key']}")
    print(f"webhook secret  {key['webhook_secret']}")
    print("Keep both secret: the API key is shown only now (the server stores its hash).")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from holterlab.server.keys import list_keys

    with _store(args.data_dir) as store:
        keys = list_keys(store)
    if args.json:
        print(json.dumps(keys))
        return 0
    if not keys:
        print(f"no API keys in {args.data_dir}; create one with 'holterlab keys create NAME'")
    for k in keys:
        state = "revoked" if k["revoked_at"] else "active"
        rate = f"{k['rate_limit']:g}/s" if k["rate_limit"] else "default rate"
        print(f"{k['id']}  {state:8s} {rate:>14s}  {k['name']}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from holterlab.server.keys import revoke_key

    with _store(args.data_dir) as store:
        ok = revoke_key(store, args.key_id)
    if not ok:
        raise ParameterError(f"no active key with id {args.key_id!r}")
    print(f"revoked {args.key_id}")
    return 0
