"""``groundlink up``: migrate, seed the demo, print the key, serve; re-running keeps the data."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db_fixtures import NOW
from groundlink.adapters.db.models import (
    AntennaRow,
    ApiKey,
    Ephemeris,
    GroundStationRow,
    MissionProfile,
    RfLink,
    Spacecraft,
    Tenant,
)
from groundlink.api.seed import DEMO_TENANT, issue_demo_key, seed_demo
from groundlink.stations.io import demo_stations

#: The demo fleet's Earth-observation satellites, the ones seeded.
EO_NAMES = {f"EO-SSO-{n}" for n in ("036", "101", "103", "148", "197", "204", "221", "259", "293")}
READY_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base: str
    output: str = ""


@contextmanager
def _up(data_dir: Path, *extra: str) -> Iterator[Served]:
    """Run ``groundlink up`` on a free port until the block ends; ``output`` is filled then."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GROUNDLINK_DATABASE_URL"}
    command = [sys.executable, "-c", "from groundlink.cli.app import main; main()", "up"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + READY_S
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(f"{served.base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "groundlink up did not answer in time"
            time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        try:
            served.output = process.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            served.output = process.communicate()[0]


def _fleet(base: str, key: str) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.get(f"{base}/v1/spacecraft", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    fleet: list[dict[str, object]] = response.json()
    return fleet


def test_up_serves_the_seeded_demo_and_a_rerun_keeps_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _up(data) as first:
        key_file = data / "demo-api-key"
        key = key_file.read_text(encoding="utf-8").strip()
        fleet = _fleet(first.base, key)
        docs = httpx.get(f"{first.base}/docs", timeout=10)
        assert docs.status_code == 200
    assert {craft["name"] for craft in fleet} == EO_NAMES
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (data / "groundlink.db").exists()
    assert f"{first.base}/v1" in first.output
    assert f"{first.base}/docs" in first.output
    assert key in first.output

    with _up(data) as second:
        again = _fleet(second.base, key)
    assert sorted(str(c["id"]) for c in again) == sorted(str(c["id"]) for c in fleet)
    assert key not in second.output
    assert str(key_file) in second.output
    assert key_file.read_text(encoding="utf-8").strip() == key


def test_up_new_demo_key_issues_another_that_works(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _up(data):
        old = (data / "demo-api-key").read_text(encoding="utf-8").strip()
    with _up(data, "--new-demo-key") as served:
        new = (data / "demo-api-key").read_text(encoding="utf-8").strip()
        assert new != old
        assert {c["name"] for c in _fleet(served.base, new)} == EO_NAMES
        assert {c["name"] for c in _fleet(served.base, old)} == EO_NAMES
    assert new in served.output


def test_up_rejects_a_bad_port(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from groundlink.cli.app import main; main()", "up"]
    result = subprocess.run(
        [*command, "--data-dir", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert not (tmp_path / "groundlink.db").exists()


def test_up_with_two_workers_serves_from_two_processes_under_one_booking_rule(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with _up(data, "--workers", "2") as served:
        key = (data / "demo-api-key").read_text(encoding="utf-8").strip()
        headers = {"Authorization": f"Bearer {key}"}
        fleet = _fleet(served.base, key)
        stations = httpx.get(f"{served.base}/v1/ground-stations", headers=headers, timeout=10)
        antenna = stations.json()[0]["antennas"][0]["id"]
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        # Same antenna, overlapping passes, different spacecraft: one wins, whichever
        # process each request lands on (new connections spread over the workers).
        codes = []
        for craft, offset_s in ((fleet[0], 0), (fleet[1], 120), (fleet[2], 240)):
            aos = start + timedelta(seconds=offset_s)
            body = {
                "spacecraft_id": craft["id"],
                "antenna_id": antenna,
                "aos": aos.isoformat().replace("+00:00", "Z"),
                "los": (aos + timedelta(minutes=8)).isoformat().replace("+00:00", "Z"),
            }
            with httpx.Client(base_url=served.base, headers=headers, timeout=10) as client:
                codes.append(client.post("/v1/contacts", json=body).status_code)
    assert codes == [201, 409, 409]
    assert served.output.count("Started server process") == 2


def test_up_rejects_zero_workers(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from groundlink.cli.app import main; main()", "up"]
    result = subprocess.run(
        [*command, "--data-dir", str(tmp_path), "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert not (tmp_path / "groundlink.db").exists()


# --- seed_demo on both backends ---------------------------------------------------------------


def _counts(session: Session, tenant_id: str) -> dict[str, int]:
    owned = select(Spacecraft.id).where(Spacecraft.tenant_id == tenant_id)
    names = [station.name for station in demo_stations()]
    queries = {
        "tenants": select(func.count()).select_from(Tenant).where(Tenant.name == DEMO_TENANT),
        "keys": select(func.count()).select_from(ApiKey).where(ApiKey.tenant_id == tenant_id),
        "stations": select(func.count())
        .select_from(GroundStationRow)
        .where(GroundStationRow.name.in_(names)),
        "antennas": select(func.count())
        .select_from(AntennaRow)
        .join(GroundStationRow, AntennaRow.station_id == GroundStationRow.id)
        .where(GroundStationRow.name.in_(names)),
        "spacecraft": select(func.count()).select_from(Spacecraft).where(Spacecraft.id.in_(owned)),
        "links": select(func.count()).select_from(RfLink).where(RfLink.spacecraft_id.in_(owned)),
        "ephemerides": select(func.count())
        .select_from(Ephemeris)
        .where(Ephemeris.spacecraft_id.in_(owned)),
        "profiles": select(func.count())
        .select_from(MissionProfile)
        .where(MissionProfile.tenant_id == tenant_id),
    }
    return {name: int(session.scalar(query) or 0) for name, query in queries.items()}


def test_seed_demo_is_idempotent(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        existed = session.scalar(select(Tenant.id).where(Tenant.name == DEMO_TENANT))
    with sessions() as session:
        first = seed_demo(session, NOW)
    assert (first.api_key is None) == (existed is not None)
    with sessions() as session:
        counts = _counts(session, first.tenant_id)
    assert counts["tenants"] == 1
    assert counts["stations"] == counts["antennas"] == len(demo_stations()) == 30
    assert counts["spacecraft"] == counts["links"] == counts["ephemerides"] == len(EO_NAMES)
    assert counts["profiles"] == 1
    assert counts["keys"] >= 1

    with sessions() as session:
        second = seed_demo(session, NOW)
    assert second.tenant_id == first.tenant_id
    assert second.api_key is None
    with sessions() as session:
        assert _counts(session, first.tenant_id) == counts

    with sessions() as session:
        key = issue_demo_key(session, NOW)
    assert key.startswith("gl_")
    with sessions() as session:
        assert _counts(session, first.tenant_id)["keys"] == counts["keys"] + 1
