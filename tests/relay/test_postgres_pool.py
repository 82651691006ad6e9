"""The relay's PostgreSQL pool (relay_server/postgres_pool.py): no round trip to lend a connection
used moments ago, and a connection the server dropped is never lent twice."""

from __future__ import annotations

import psycopg2
import pytest

from relay_server import postgres_pool
from relay_server.postgres_pool import connect_postgres
from tests.helpers.database import test_database_url

pytestmark = pytest.mark.skipif(
    not test_database_url(), reason="needs PostgreSQL: run it through tests/with_postgres.sh (make test does)"
)


@pytest.fixture
def pool():
    db = connect_postgres(test_database_url(), max_connections=4, stale_timeout=300, timeout=5)
    yield db
    db.close_all()


def _backend_pid(db) -> int:
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def _terminate(pid: int) -> None:
    """End that backend, and wait (up to 5 s) until it has exited."""
    with psycopg2.connect(test_database_url()) as admin, admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        assert cur.fetchone()[0], "the backend exited"
    admin.close()


def test_a_connection_given_back_moments_ago_is_lent_again_without_asking_the_server(pool):
    with pool.connection_context():
        first = _backend_pid(pool)
    loans_before = pool.trusted_loans
    with pool.connection_context():
        again = _backend_pid(pool)
    assert again == first  # the same connection, reused
    assert pool.trusted_loans == loans_before + 1  # and lent without the SELECT 1


def test_an_idle_connection_is_checked_and_a_dead_one_replaced(pool, monkeypatch):
    monkeypatch.setattr(postgres_pool, "TRUST_SECONDS", 0.0)  # every loan asks the server first
    with pool.connection_context():
        dead = _backend_pid(pool)
    _terminate(dead)
    with pool.connection_context():
        fresh = _backend_pid(pool)  # the check found it gone: a new connection, no error
    assert fresh != dead


def test_a_connection_that_failed_once_is_not_lent_again(pool, monkeypatch):
    monkeypatch.setattr(postgres_pool, "TRUST_SECONDS", 600.0)  # a busy machine must not end the trust
    with pool.connection_context():
        dead = _backend_pid(pool)
    _terminate(dead)
    # Within the trust window the dead connection is lent once; its first statement fails...
    with pytest.raises(Exception), pool.connection_context():  # noqa: B017 - psycopg2 or peewee's wrapper
        _backend_pid(pool)
    # ...and psycopg2 marks it closed, so the pool never lends it again.
    with pool.connection_context():
        assert _backend_pid(pool) != dead


def _count(db) -> int:
    return db.execute_sql("SELECT count(*) FROM pool_probe").fetchone()[0]


@pytest.fixture
def probe_table(pool):
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE IF NOT EXISTS pool_probe (id integer PRIMARY KEY)")
        pool.execute_sql("DELETE FROM pool_probe")
    yield
    with pool.connection_context():
        pool.execute_sql("DROP TABLE pool_probe")


def test_deferred_writes_go_with_the_next_statement_and_are_seen_by_it(pool, probe_table):
    with pool.connection_context(), pool.atomic():
        pool.defer("INSERT INTO pool_probe (id) VALUES (%s)", [1])
        pool.defer("INSERT INTO pool_probe (id) VALUES (%s)", [2])
        assert _count(pool) == 2  # sent together with this read, before it
    with pool.connection_context():
        assert _count(pool) == 2  # and committed


def test_deferred_writes_are_sent_at_commit_and_dropped_by_a_rollback(pool, probe_table):
    with pool.connection_context():
        with pool.atomic():
            pool.defer("INSERT INTO pool_probe (id) VALUES (%s)", [1])  # nothing follows: commit sends it
        with pytest.raises(RuntimeError), pool.atomic():
            pool.defer("INSERT INTO pool_probe (id) VALUES (%s)", [2])
            raise RuntimeError("the request failed")
        assert _count(pool) == 1


def test_a_deferred_write_outside_a_transaction_runs_at_once(pool, probe_table):
    with pool.connection_context():
        pool.defer("INSERT INTO pool_probe (id) VALUES (%s)", [7])
    with pool.connection_context():
        assert _count(pool) == 1


def _cut_the_relays_connections() -> int:
    """What a database restart does to the relay: every other session's connection is cut."""
    with psycopg2.connect(test_database_url()) as admin, admin.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        cut = cur.fetchone()[0]
    admin.close()
    return cut


def test_a_relay_whose_database_connections_were_cut_answers_503_and_heals_itself(tmp_path):
    """Never a bare 500: a request on a connection PostgreSQL dropped gets 503 with a sentence and a
    short Retry-After; the pool drops that connection, and the relay answers again without a restart."""
    import requests

    from shared.relay_client import RelayClient
    from tests.helpers.relay_process import RelayProcess

    with RelayProcess(tmp_path / "relay") as relay:
        anna = RelayClient(relay.url)
        anna.create_account("anna", "correct horse")
        token = anna.login("anna", "correct horse", _laptop()).token

        def me():
            return requests.get(f"{relay.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)

        for _ in range(3):  # the pool's connections were all used just now (lent without asking)
            assert me().status_code == 200
        assert _cut_the_relays_connections() > 0

        answers = [me() for _ in range(40)]  # at most one refusal per pooled connection, then healed
        refused = [a for a in answers if a.status_code != 200]
        assert all(a.status_code == 503 for a in refused), [(a.status_code, a.text) for a in refused]
        for a in refused:
            error = a.json()["error"]
            assert error["code"] == "storage_unavailable"
            assert error["message"] == "the relay lost its connection to its database; try again in a moment"
            assert a.headers["Retry-After"] == "1"
        assert answers[-1].status_code == 200


def _laptop():
    from shared.relay_client import DeviceInfo

    return DeviceInfo("anna-laptop", "Anna's laptop", "ThinkPad", "linux")
