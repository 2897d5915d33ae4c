"""``groundlink up``: start the groundlink API on its embedded defaults.

It creates the data folder (``./groundlink-data`` unless ``--data-dir`` or
``GROUNDLINK_DATA_DIR`` says otherwise), migrates the database (a SQLite file
``groundlink.db`` in that folder, or ``GROUNDLINK_DATABASE_URL``), seeds the
demo data (:func:`groundlink.api.seed.seed_demo`: the demo network, the demo
tenant with its API key, nine Earth-observation spacecraft and a mission
profile), prints where the API and its docs are and the demo key, and
serves the API with uvicorn, on loopback unless ``--host`` says otherwise.

The demo key's plaintext exists only when the demo tenant is created: it is
printed then and written to ``<data dir>/demo-api-key`` (mode 0600). A
later run points at that file; ``--new-demo-key`` issues another key.
Re-running keeps the data. ``groundlink passes`` is the pass-prediction demo.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from groundlink.adapters.db import session_factory
from groundlink.cli.edge import rejects_bad_input, say, stdout_console, utc_now

#: Where ``up`` keeps its files unless ``--data-dir`` or ``GROUNDLINK_DATA_DIR`` says otherwise.
DEFAULT_DATA_DIR = Path("groundlink-data")
#: The file, in the data folder, that holds the demo API key written on first creation.
KEY_FILE = "demo-api-key"
#: The SQLite file, in the data folder, used unless ``GROUNDLINK_DATABASE_URL`` is set.
DATABASE_FILE = "groundlink.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Most server processes ``--workers`` may ask for.
MAX_WORKERS = 32
#: The application factory that each of several worker processes calls.
APP_FACTORY = "groundlink.api.app:create_serving_app"


def database_url(data_dir: Path) -> str:
    """``GROUNDLINK_DATABASE_URL`` if set, else the SQLite file in ``data_dir``."""
    return os.environ.get("GROUNDLINK_DATABASE_URL") or (
        f"sqlite:///{(data_dir / DATABASE_FILE).resolve()}"
    )


def write_key_file(path: Path, key: str) -> None:
    """Write ``key`` to ``path``, readable by its owner only (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    path.chmod(0o600)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@rejects_bad_input
def up(
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Folder for the database and the demo key (created if missing).",
            envvar="GROUNDLINK_DATA_DIR",
        ),
    ] = DEFAULT_DATA_DIR,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback unless told otherwise).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    new_demo_key: Annotated[
        bool,
        typer.Option("--new-demo-key", help="Issue another demo API key (to the key file)."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes; each has its own database pool and rate-limit buckets.",
            min=1,
            max=MAX_WORKERS,
        ),
    ] = 1,
) -> None:
    """Start the groundlink API with a demo network, tenant and fleet (re-running keeps data)."""
    import uvicorn

    from groundlink.api import create_app
    from groundlink.api.app import settle_for_serving
    from groundlink.api.seed import issue_demo_key, seed_demo

    console = stdout_console()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(data_dir)
    app = create_app(url, migrate=True)
    sessions = session_factory(app.state.engine)
    with sessions() as session:
        demo = seed_demo(session, utc_now())
    interrupted = app.state.schedule_runner.fail_interrupted()
    key = demo.api_key
    if key is None and new_demo_key:
        with sessions() as session:
            key = issue_demo_key(session, utc_now())
    key_path = data_dir / KEY_FILE
    if key is not None:
        write_key_file(key_path, key)

    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    say(console, f"groundlink API  {base}/v1", "bold")
    say(console, f"docs           {base}/docs  (OpenAPI: {base}/openapi.json)")
    say(console, f"data           {data_dir}")
    if key is not None:
        say(console, f"demo API key   {key}", "bold")
        say(console, f"               shown once; also written to {key_path} (mode 0600)")
    elif key_path.exists():
        say(console, f"demo API key   in {key_path} (groundlink up --new-demo-key for another)")
    else:
        say(
            console,
            f"demo API key   not stored ({key_path} is missing); "
            "run groundlink up --new-demo-key for a new one",
        )
    if interrupted:
        say(console, f"planning jobs  {interrupted} interrupted by the last stop: marked failed")
    say(console, f"try: curl -H 'Authorization: Bearer <key>' {base}/v1/spacecraft")
    if not _is_loopback(host):
        say(console, f"warning: listening on {host}, reachable from other machines", "yellow")
    sys.stdout.flush()
    if workers == 1:
        settle_for_serving()
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # Several processes: each builds its own app on the same (migrated, seeded) database.
    app.state.engine.dispose()
    os.environ["GROUNDLINK_DATABASE_URL"] = url
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info")
