"""The relay's hot queries as server-side prepared statements on PostgreSQL
(relay_server/postgres_pool.py, relay_server/prepared.py): PostgreSQL really runs them prepared,
the answers are the plain statements', and no failure, rollback, lost connection or second
database makes a request EXECUTE a statement its connection lacks or PREPARE one twice."""

from __future__ import annotations

import threading

import peewee
import psycopg2
import pytest

from relay_server import postgres_pool
from relay_server.db import database
from relay_server.errors import refusal
from relay_server.models import Event, Push, PushHistory
from relay_server.postgres_pool import connect_postgres
from relay_server.prepared import Prepared, _numbered, slot
from tests.helpers.database import test_database_url
from tests.helpers.polling import wait_for
from tests.helpers.relay_api import mirror_statuses

needs_postgres = pytest.mark.skipif(
    not test_database_url(), reason="needs PostgreSQL: run it through tests/with_postgres.sh (make test does)"
)

APP = {
    "id": "org.example.unknown",
    "name": "Example",
    "version": "1.0",
    "packages": [{"format": "apk", "url": "https://packages.example.invalid/x.apk", "sha256": "ab" * 32, "size": 10}],
}


def test_placeholders_become_numbered_parameters_and_literal_percents_stay_for_psycopg2():
    assert _numbered('SELECT "a" FROM "t" WHERE ("b" = %s) AND ("c" > %s)', 2) == (
        'SELECT "a" FROM "t" WHERE ("b" = $1) AND ("c" > $2)'
    )
    assert _numbered("SELECT '100%%' WHERE x = %s", 1) == "SELECT '100%%' WHERE x = $1"
    assert _numbered("SELECT 1", 0) == "SELECT 1"
    assert _numbered("SELECT %s", 2) is None  # not the parameters' count: run it plain
    assert _numbered("SELECT %d", 1) is None  # not psycopg2's placeholder
    assert _numbered("SELECT $1 WHERE x = %s", 1) is None  # $ already in the SQL
    assert _numbered("SELECT 5 %", 0) is None


# ---------------------------------------------------------------- the relay, in process


def _record_calls(monkeypatch) -> list[str]:
    """The calls this thread sends to PostgreSQL from now on (deferred ones joined as sent)."""
    calls: list[str] = []
    real = database.obj.execute_sql
    me = threading.get_ident()

    def execute_sql(sql, *args, **kwargs):
        if threading.get_ident() == me:
            calls.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", execute_sql)
    return calls


def _push_and_deliver(api, who: str) -> tuple[dict, list[tuple[str, str]], list[str]]:
    """``who`` pushes from a laptop to a phone, which acknowledges, downloads and installs."""
    api.account(who)
    laptop = api.login(who, f"{who}-laptop", platform="linux")
    phone = api.login(who, f"{who}-phone")
    created = api.push(laptop, [f"{who}-phone"], app=APP)
    assert created.status_code == 201, created.get_json()
    push_id = created.get_json()["pushes"][0]["id"]
    # The relay's copy of the package fails (no such host) and says so in the history: wait for it.
    wait_for(lambda: mirror_statuses([push_id])[push_id] != "pending", 30, "the relay's copy to give up")
    for state in ("delivered", "downloading", "verifying", "installing", "installed"):
        answer = api.report(phone, push_id, state)
        assert answer.status_code == 200, answer.get_json()
    shown = api.client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
    with database.connection_context():
        events = [
            (e.device_id.split("-")[1], e.kind) for e in Event.select().where(Event.push == push_id).order_by(Event.id)
        ]
        history = [h.state for h in PushHistory.select().where(PushHistory.push == push_id).order_by(PushHistory.id)]
        assert Push.get_by_id(push_id).state == "installed"
    return _comparable(shown, who), events, history


def _comparable(push: dict, who: str) -> dict:
    """A push as the API shows it, without what differs from one push to the next."""
    volatile = {"id", "created_at", "updated_at", "at"}

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value.replace(who, "someone") if isinstance(value, str) else value

    return strip(push)


@needs_postgres
def test_a_push_and_its_reports_run_prepared_and_answer_as_plain_statements_do(api, app, monkeypatch):
    calls = _record_calls(monkeypatch)
    prepared = _push_and_deliver(api, "anna")

    statements = [s for call in calls for s in call.split("; ")]
    executes = [s for s in statements if s.startswith("EXECUTE appbeam_")]
    # the token look-ups, the target device, the catalog, the push's and reports' INSERTs and UPDATE
    assert len(executes) >= 10, statements
    assert not [s for s in statements if s.startswith('INSERT INTO "push"')]  # never as plain SQL
    assert not database.obj._plain, "every hot query prepares on PostgreSQL"

    # The same with prepared statements switched off: the same answers and rows.
    monkeypatch.setattr(database.obj, "execute_prepared", None)
    monkeypatch.setattr(database.obj, "defer_prepared", None)
    plain_calls = _record_calls(monkeypatch)
    plain = _push_and_deliver(api, "ben")
    assert plain_calls and not [c for c in plain_calls if "EXECUTE appbeam_" in c]
    assert prepared == plain


@needs_postgres
def test_postgresql_holds_the_statement_on_the_connection_and_counts_its_runs(app):
    from relay_server.pushes import _DEVICE

    with database.connection_context():
        assert _DEVICE.rows(id="nobody") == []
        assert _DEVICE.rows(id="nobody") == []
        name = _DEVICE._compiled().name
        row = database.execute_sql(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements WHERE name = %s", [name]
        ).fetchone()
    assert row is not None, "prepared on this connection"
    text, runs = row
    assert f"PREPARE {name} AS SELECT" in text and "$1" in text  # (the text of the call that prepared it)
    assert runs == 2  # both runs were EXECUTEs of it (PostgreSQL counts each plan it used)


# ---------------------------------------------------------------- the pool, alone


@pytest.fixture
def pool():
    db = connect_postgres(test_database_url(), max_connections=4, stale_timeout=300, timeout=5)
    with db.connection_context():
        db.execute_sql("CREATE TABLE IF NOT EXISTS prepared_probe (id integer PRIMARY KEY)")
        db.execute_sql("DELETE FROM prepared_probe")
    yield db
    with db.connection_context():
        db.execute_sql("DROP TABLE prepared_probe")
    db.close_all()


_INSERT = ("probe_insert", "INSERT INTO prepared_probe (id) VALUES ($1)", "INSERT INTO prepared_probe (id) VALUES (%s)")
_COUNT = (
    "probe_count",
    "SELECT count(*) FROM prepared_probe WHERE id > $1",
    "SELECT count(*) FROM prepared_probe WHERE id > %s",
)


def _count(db) -> int:
    return db.execute_prepared(*_COUNT, [0]).fetchone()[0]


def _on_server(db) -> set[str]:
    """What PostgreSQL says this connection has prepared."""
    return {row[0] for row in db.execute_sql("SELECT name FROM pg_prepared_statements").fetchall()}


def _fresh_connection(db) -> None:
    """Close the pool's connections for good: the next statement opens a new one."""
    db.close_all()


@needs_postgres
def test_a_statement_is_prepared_once_per_connection_and_only_counted_once_sent(pool):
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
        pool.execute_prepared(*_INSERT, [2])
        assert _count(pool) == 2
        assert pool.prepared_here() == {"probe_insert", "probe_count"} == _on_server(pool)
    _fresh_connection(pool)
    with pool.connection_context():
        assert _on_server(pool) == set() and pool.prepared_here() == set()  # a new connection: nothing
        with pool.atomic():
            pool.defer_prepared(*_INSERT, [3])  # PREPARE and EXECUTE wait for the next statement...
            assert pool.prepared_here() == set()  # ...so nothing counts as prepared yet
            assert _count(pool) == 3
        assert pool.prepared_here() == {"probe_insert", "probe_count"} == _on_server(pool)


@needs_postgres
def test_a_prepare_survives_the_rollback_of_its_transaction_and_is_not_sent_twice(pool):
    with pool.connection_context():
        _count(pool)  # this database knows both statements now
    _fresh_connection(pool)
    with pool.connection_context():
        with pytest.raises(RuntimeError), pool.atomic():
            pool.execute_prepared(*_INSERT, [1])  # PREPARE and EXECUTE sent, then rolled back
            raise RuntimeError("the request failed")
        assert "probe_insert" in _on_server(pool)  # PostgreSQL keeps a PREPARE through a ROLLBACK
        pool.execute_prepared(*_INSERT, [1])  # so it is not prepared again (that would fail)
        assert _count(pool) == 1


@needs_postgres
@pytest.mark.parametrize("failing", ["before", "after"])
def test_a_failed_call_that_carried_a_prepare_leaves_no_wrong_belief(pool, failing):
    """Deferred statements go in one call: the PREPARE ran if the failing statement came after it,
    not if before. Either way the next use of the connection works."""
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])  # known to this database
        _count(pool)
    _fresh_connection(pool)
    with pool.connection_context():
        duplicate = ("INSERT INTO prepared_probe (id) VALUES (%s)", [1])
        with pytest.raises(peewee.IntegrityError), pool.atomic():
            if failing == "before":
                pool.defer(*duplicate)
            pool.defer_prepared(*_INSERT, [2])
            if failing == "after":
                pool.defer(*duplicate)
        assert ("probe_insert" in _on_server(pool)) == (failing == "after")
        pool.execute_prepared(*_INSERT, [3])  # neither EXECUTEd unprepared nor PREPAREd twice
        with pool.atomic():
            pool.defer_prepared(*_INSERT, [4])
        assert _count(pool) == 3 and _on_server(pool) == pool.prepared_here()


@needs_postgres
def test_an_aborted_transaction_gives_the_plain_statements_error_and_prepares_later(pool):
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
    _fresh_connection(pool)
    with pool.connection_context():
        with pytest.raises(peewee.DatabaseError) as aborted, pool.atomic():
            with pytest.raises(peewee.DataError):
                pool.execute_sql("SELECT 1 / 0")
            pool.execute_prepared(*_INSERT, [2])  # the transaction is aborted: PostgreSQL refuses
        assert "current transaction is aborted" in str(aborted.value)
        pool.execute_prepared(*_INSERT, [2])
        assert _count(pool) == 2


@needs_postgres
def test_a_statement_whose_prepare_fails_runs_as_plain_sql_even_inside_a_transaction(pool):
    untyped = ("probe_untyped", "SELECT $1 IS NULL", "SELECT %s IS NULL")  # PostgreSQL cannot type $1
    with pool.connection_context():
        assert pool.execute_prepared(*untyped, [None]).fetchone()[0] is True
        with pool.atomic():
            pool.defer_prepared(*_INSERT, [1])
            assert pool.execute_prepared(*untyped, [5]).fetchone()[0] is False  # the transaction goes on
            pool.defer_prepared(*_INSERT, [2])
            untyped_write = (
                "probe_untyped_write",
                "INSERT INTO prepared_probe (id) SELECT 10 WHERE $1 IS NULL",
                "INSERT INTO prepared_probe (id) SELECT 10 WHERE %s IS NULL",
            )
            pool.defer_prepared(*untyped_write, [None])  # a deferred one: its PREPARE is tried at once
        assert _count(pool) == 3  # every insert committed
    other = connect_postgres(test_database_url(), max_connections=2)
    try:
        with other.connection_context(), other.atomic():  # first met inside a transaction
            assert other.execute_prepared(*untyped, [None]).fetchone()[0] is True
            assert other.execute_prepared(*_COUNT, [0]).fetchone()[0] == 3
    finally:
        other.close_all()


def _terminate(pid: int) -> None:
    """End that backend, and wait (up to 5 s) until it has exited."""
    with psycopg2.connect(test_database_url()) as admin, admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        assert cur.fetchone()[0], "the backend exited"
    admin.close()


@needs_postgres
@pytest.mark.parametrize("trust", [True, False])
def test_a_connection_the_server_killed_is_replaced_by_one_that_prepares_anew(pool, monkeypatch, trust):
    if not trust:
        monkeypatch.setattr(postgres_pool, "TRUST_SECONDS", 0.0)  # the loan checks the server first
    else:  # a busy machine must not let the trust lapse between the two loans
        monkeypatch.setattr(postgres_pool, "TRUST_SECONDS", 600.0)
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
        dead = pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    _terminate(dead)
    if trust:  # lent once without asking: its first statement fails, and the pool drops it
        with pytest.raises(peewee.OperationalError), pool.connection_context():
            pool.execute_prepared(*_INSERT, [2])
    with pool.connection_context():
        assert pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != dead
        pool.execute_prepared(*_INSERT, [2])  # prepared again on the new connection
        assert _on_server(pool) == {"probe_insert"} and _count(pool) == 2


# ---------------------------------------------------------------- statements lost behind the pool's back


def _behind_the_pools_back(db, sql: str) -> int:
    """Run ``sql`` on every idle connection of the pool, on psycopg2's connection itself, so the
    pool cannot know (what a DISCARD ALL, an operator's DEALLOCATE or a pooler does)."""
    idle = [conn for _, _, conn in db._connections]
    for conn in idle:
        with conn.cursor() as cur:
            cur.execute(sql)
    return len(idle)


def _record_pool_calls(db, monkeypatch) -> list[str]:
    calls: list[str] = []
    real = db.execute_sql

    def execute_sql(sql, *args, **kwargs):
        calls.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", execute_sql)
    return calls


@needs_postgres
def test_statements_deallocated_behind_the_pools_back_run_plain_once_and_are_prepared_again(pool):
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
        assert _count(pool) == 1
    assert _behind_the_pools_back(pool, "DEALLOCATE ALL") == 1
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [2])  # outside a transaction: the statement itself succeeds
        assert pool.prepared_here() == set()  # and the connection forgot what it had prepared
        assert _count(pool) == 2  # so this one is prepared again (after a DEALLOCATE ALL)...
        pool.execute_prepared(*_INSERT, [3])
        assert _on_server(pool) == pool.prepared_here() == {"probe_insert", "probe_count"}  # ...and this one
        assert _count(pool) == 3


@needs_postgres
@pytest.mark.parametrize("deferred", [False, True])
def test_inside_a_transaction_a_lost_statement_fails_that_transaction_only(pool, deferred):
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
    _behind_the_pools_back(pool, "DISCARD ALL")
    with pool.connection_context():
        with pytest.raises(peewee.DatabaseError) as lost, pool.atomic():
            if deferred:
                pool.defer_prepared(*_INSERT, [2])  # its EXECUTE goes with the COMMIT, and fails there
            else:
                pool.execute_prepared(*_INSERT, [2])
        assert postgres_pool.sqlstate(lost.value) == "26000"  # prepared statement does not exist: not retried
        # The request is answered as a passing database problem, to be tried again at once.
        status, code, _, headers = refusal(lost.value, "POST", "/api/v1/pushes")
        assert (status, code, headers) == (503, "storage_unavailable", {"Retry-After": "1"})
        with pool.atomic():  # the next transaction on that connection heals it
            pool.defer_prepared(*_INSERT, [2])
        assert _count(pool) == 2 and _on_server(pool) == pool.prepared_here()


@needs_postgres
def test_a_table_changed_under_a_prepared_statement_gets_a_fresh_plan(pool):
    everything = (
        "probe_rows",
        "SELECT * FROM prepared_probe WHERE id > $1 ORDER BY id",
        "SELECT * FROM prepared_probe WHERE id > %s ORDER BY id",
    )
    with pool.connection_context():
        pool.execute_prepared(*_INSERT, [1])
        assert pool.execute_prepared(*everything, [0]).fetchall() == [(1,)]
        pool.execute_sql("ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'x'")  # a migration
        # "cached plan must not change result type" (0A000): answered by the plain statement...
        assert pool.execute_prepared(*everything, [0]).fetchall() == [(1, "x")]
        with pool.atomic():  # ...and the next run prepares it again, inside a transaction too
            assert pool.execute_prepared(*everything, [0]).fetchall() == [(1, "x")]
        assert "probe_rows" in _on_server(pool)


@needs_postgres
def test_a_new_connection_that_already_holds_statements_prepares_without_a_clash(pool, monkeypatch):
    """A session-mode pooler without ``server_reset_query`` may hand the pool a server session that
    still holds the statements of the connection before: its first PREPARE clears them, in one call."""
    with pool.connection_context():
        _count(pool)  # this database knows both statements
    _fresh_connection(pool)
    real_connect = pool._connect
    handed = []

    def handed_over():
        conn = real_connect()
        if not handed:  # the first session the pooler hands over, with what its last client left
            with conn.cursor() as cur:
                cur.execute(f"PREPARE probe_insert AS {_INSERT[1]}")
            handed.append(conn)
        return conn

    monkeypatch.setattr(pool, "_connect", handed_over)
    calls = _record_pool_calls(pool, monkeypatch)
    with pool.connection_context():
        with pool.atomic():  # inside a transaction: nothing may fail and be retried
            pool.execute_prepared(*_INSERT, [1])
        assert len(calls) == 1  # no round trip of its own (the BEGIN joins it; COMMIT is psycopg2's)
        assert "DEALLOCATE ALL; PREPARE probe_insert" in calls[0] and "EXECUTE probe_insert" in calls[0]
        assert handed and _count(pool) == 1 and _on_server(pool) == pool.prepared_here()


@needs_postgres
def test_a_relay_whose_statements_were_deallocated_behind_its_back_heals_on_the_next_push(api, app):
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    api.login("anna", "anna-phone")
    created = api.push(laptop, ["anna-phone"], app=APP)
    assert created.status_code == 201  # the push path is prepared now
    push_id = created.get_json()["pushes"][0]["id"]
    # Every connection idle (the relay's copy of the package has given up), so none is missed:
    wait_for(lambda: mirror_statuses([push_id])[push_id] != "pending", 30, "the relay's copy to give up")
    wait_for(lambda: not database.obj._in_use, 30, "the relay's connections to be idle")
    assert _behind_the_pools_back(database.obj, "DEALLOCATE ALL") >= 1

    first = api.push(laptop, ["anna-phone"], app=APP)
    if first.status_code != 201:  # a statement inside the push's transaction met the loss
        assert first.status_code == 503, first.get_json()
        assert first.get_json()["error"]["code"] == "storage_unavailable"
        assert first.headers["Retry-After"] == "1"
    second = api.push(laptop, ["anna-phone"], app=APP)
    assert second.status_code == 201, second.get_json()
    listed = api.client.get("/api/v1/pushes", headers=laptop)
    assert listed.status_code == 200, listed.get_json()
    assert len(listed.get_json()["pushes"]) == (3 if first.status_code == 201 else 2)


# ---------------------------------------------------------------- switched off


@needs_postgres
def test_appbeam_pg_prepared_0_runs_every_statement_plain(monkeypatch, request):
    monkeypatch.setenv("APPBEAM_PG_PREPARED", "0")
    off = connect_postgres(test_database_url(), max_connections=2)
    try:
        with off.connection_context():
            off.execute_sql("CREATE TABLE IF NOT EXISTS prepared_probe (id integer PRIMARY KEY)")
            off.execute_sql("DELETE FROM prepared_probe")
            off.execute_prepared(*_INSERT, [1])
            with off.atomic():
                off.defer_prepared(*_INSERT, [2])
            assert _count(off) == 2
            assert _on_server(off) == set()
            off.execute_sql("DROP TABLE prepared_probe")
    finally:
        off.close_all()

    request.getfixturevalue("app")  # the relay reads the switch when it starts
    api = request.getfixturevalue("api")
    calls = _record_calls(monkeypatch)
    _push_and_deliver(api, "carl")
    assert calls and not [c for c in calls if "EXECUTE " in c or "PREPARE " in c]
    with database.connection_context():
        assert _on_server(database.obj) == set()


# ---------------------------------------------------------------- two databases in one process


@pytest.fixture
def two_databases():
    """Two PostgreSQL databases of the test server, each with a probe table and its own pool."""
    url = test_database_url()
    second = url.rsplit("/", 1)[0] + "/appbeam_test_second"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS appbeam_test_second")
        cur.execute("CREATE DATABASE appbeam_test_second")
    pools = [connect_postgres(u, max_connections=2) for u in (url, second)]
    for db, rows in zip(pools, (1, 2), strict=True):
        with db.connection_context():
            db.execute_sql("DROP TABLE IF EXISTS probe_item")
            db.execute_sql("CREATE TABLE probe_item (id integer PRIMARY KEY)")
            for i in range(rows):
                db.execute_sql("INSERT INTO probe_item (id) VALUES (%s)", [i + 1])
    before = database.obj
    yield pools
    database.initialize(before)
    for db in pools:
        db.close_all()
    with pools[0].connection_context():
        pools[0].execute_sql("DROP TABLE probe_item")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE appbeam_test_second WITH (FORCE)")
    admin.close()


class _Item(peewee.Model):
    class Meta:
        database = database
        table_name = "probe_item"


@needs_postgres
def test_one_query_on_two_databases_gets_one_statement_name_per_database(two_databases):
    first, second = two_databases
    count = Prepared(lambda: _Item.select(peewee.fn.COUNT(_Item.id)).where(_Item.id > slot("above")))
    names = []
    for db, expected in ((first, 1), (second, 2), (first, 1), (second, 2)):
        database.initialize(db)
        with db.connection_context():
            assert count.execute(above=0).fetchone()[0] == expected
            assert count.execute(above=0).fetchone()[0] == expected
            names.append(count._compiled().name)
            assert names[-1] in _on_server(db)
    # Back on a database, the query keeps the name it had there: what the pool remembers per
    # statement stays one entry per query, however often tests switch databases.
    assert names[0] == names[2] and names[1] == names[3] and names[0] != names[1]
    assert [len(db._texts) for db in two_databases] == [1, 1]
