"""No 500 on any input: schemathesis against the API's own OpenAPI, in process.

Every operation of ``/openapi.json`` (read from the app at collection time, so
a new route is covered without touching this file) is fed a bounded number of
generated requests (derandomized: CI sees the same ones every run),
authenticated with a key holding every scope, on a fresh SQLite database;
the only check is ``not_a_server_error``. Rate limits are raised so that
every request reaches the routes.

Random ids only ever reach the 404 branch, so before each operation a
spacecraft, a ground station and a contact are created, and half of the
generated requests get their ids (in the path and in the body) swapped for
those: the routes' code past the lookup is exercised too. Key ids are never
swapped in (deleting the test's own key would end the run).

The operations are run one by one through ``APIOperation.as_strategy()``
rather than schemathesis' pytest plugin, whose ``from_fixture`` does not work
with pytest 9.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api_fixtures import ALL_SCOPES, bearer
from db_fixtures import NOW
from groundlink.adapters.db import session_factory
from groundlink.api import create_app, create_tenant_with_key

#: Generated requests per operation.
MAX_EXAMPLES = 30

#: Operations known to answer 500 to some input: (method, path) -> what fails.
KNOWN_500: dict[tuple[str, str], str] = {}


def _operations() -> list[tuple[str, str]]:
    app = create_app("sqlite://")
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def _params() -> list[Any]:
    params = []
    for method, path in _operations():
        reason = KNOWN_500.get((method, path))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(method, path, id=f"{method} {path}", marks=marks))
    return params


class Target:
    def __init__(self, schema: Any, client: TestClient, headers: dict[str, str]) -> None:
        self.schema = schema
        self.client = client
        self.headers = headers

    def seed(self) -> dict[str, str]:
        """A new spacecraft, station and contact; their ids by parameter name."""
        tag = secrets.token_hex(4)

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = self.client.post(path, json=body, headers=self.headers)
            assert response.status_code == 201, response.text
            created: dict[str, Any] = response.json()
            return created

        spacecraft = post("/v1/spacecraft", {"name": f"sat-{tag}"})
        station = post(
            "/v1/ground-stations",
            {
                "name": f"station-{tag}",
                "latitude_deg": 78.23,
                "longitude_deg": 15.39,
                "altitude_m": 500,
                "antennas": [{"name": "dish-1", "turnaround_s": 60}],
            },
        )
        antenna = station["antennas"][0]
        aos = NOW + timedelta(days=1)
        contact = post(
            "/v1/contacts",
            {
                "spacecraft_id": spacecraft["id"],
                "antenna_id": antenna["id"],
                "aos": aos.isoformat(),
                "los": (aos + timedelta(minutes=10)).isoformat(),
            },
        )
        return {
            "spacecraft_id": spacecraft["id"],
            "station_id": station["id"],
            "antenna_id": antenna["id"],
            "contact_id": contact["id"],
        }


def _with_ids(case: Any, ids: dict[str, str], use: bool) -> Any:
    if use:
        for name in list(case.path_parameters or {}):
            if name in ids:
                case.path_parameters[name] = ids[name]
        if isinstance(case.body, dict):
            for name in list(case.body):
                if name in ids:
                    case.body[name] = ids[name]
    return case


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "groundlink.db"
    app = create_app(f"sqlite:///{path}", clock=lambda: NOW, migrate=True)
    app.state.limits.rate_per_s = app.state.limits.burst = 1e9
    with session_factory(app.state.engine)() as session:
        _tenant, key = create_tenant_with_key(session, "schemathesis", ALL_SCOPES, now=NOW)
    with TestClient(app, raise_server_exceptions=False) as client:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield Target(schema, client, bearer(key))


@pytest.mark.parametrize(("method", "path"), _params())
def test_no_server_error(target: Target, method: str, path: str) -> None:
    operation = target.schema[path][method]
    ids = target.seed()
    cases = st.builds(_with_ids, operation.as_strategy(), st.just(ids), st.booleans())

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=target.headers, checks=[not_a_server_error])

    run()
