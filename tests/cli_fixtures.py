"""Running the ``groundlink`` command line in-process, through Typer's CliRunner.

:func:`run` invokes the CLI with the given arguments. For the commands that
talk to the API, a test module defines a module-scoped ``api`` fixture (an
:class:`~client_fixtures.InProcess` app) and uses :func:`in_process_client`
(``pytestmark = pytest.mark.usefixtures("in_process_client")``): the CLI's
client factory (:func:`groundlink.cli.resources.make_client`) is replaced by
one that reaches that app, so each command goes through option parsing, the
client, the API and the database. The key the CLI sends is ``cli_key``: the
first tenant's unless the module overrides that fixture.

Loaded as a plugin by ``conftest.py``, so the fixtures are visible everywhere
but used only where asked for.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from client_fixtures import InProcess
from groundlink.cli import resources
from groundlink.cli.app import app as cli
from groundlink.client import GroundlinkClient

runner = CliRunner()


def run(*args: object) -> Result:
    """The result of invoking the CLI in-process with ``args`` (each turned to text)."""
    return runner.invoke(cli, [str(arg) for arg in args])


def run_json(*args: object) -> Any:
    """The parsed JSON a successful ``args --output json`` prints."""
    result = run(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_error_line(result: Result) -> str:
    """The single ``error: ...`` line of a command that failed on bad input (exit 2)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def cli_key(api: InProcess) -> str:
    """The API key the CLI sends (``GROUNDLINK_API_KEY``): the first tenant's."""
    return api.key


@pytest.fixture
def in_process_client(api: InProcess, cli_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI at the in-process ``api`` with ``cli_key``; wide columns for tables."""

    def make_client(_api_url: str, api_key: str | None) -> GroundlinkClient:
        return api.client(api_key)

    monkeypatch.setattr(resources, "make_client", make_client)
    monkeypatch.setenv("GROUNDLINK_API_KEY", cli_key)
    monkeypatch.setenv("COLUMNS", "250")
