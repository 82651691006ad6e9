"""Group commit (relay_server/group_commit.py): writes of concurrent requests share a transaction,
each request learns its own outcome only after the commit, and one failing write never takes
the others down. No timing is asserted: the batches are arranged with events."""

from __future__ import annotations

import threading

import peewee
import pytest

from relay_server.db import connection, database, defer_sql
from relay_server.group_commit import GroupCommit
from relay_server.models import HealthProbe


def _insert(probe_id: int):
    def work():
        HealthProbe.insert(id=100 + probe_id).execute()
        return probe_id

    return work


def _stored() -> set[int]:
    """The rows these tests wrote (ids from 100 on: the relay's health check writes its own)."""
    with connection():
        return {p.id - 100 for p in HealthProbe.select() if p.id >= 100}


def _run_in_thread(
    commits: GroupCommit,
    work,
    outcomes: dict,
    key,
    go: threading.Event | None = None,
    connected: threading.Semaphore | None = None,
) -> threading.Thread:
    def target():
        with connection():  # (connecting may wait for a writer's lock: done before ``go``)
            database.execute_sql("SELECT 1")
            if connected is not None:
                connected.release()
            if go is not None:
                go.wait(10)
            try:
                outcomes[key] = commits.run(work)
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                outcomes[key] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def _arrange_shared_batch(commits: GroupCommit, first_work_done: threading.Event, works: list, outcomes: dict):
    """A first write holds its transaction open until every write of ``works`` waits behind it;
    those then share the next transaction."""
    started, release = threading.Event(), threading.Event()

    def first():
        started.set()
        HealthProbe.insert(id=101).execute()
        assert release.wait(10)
        first_work_done.set()
        return 1

    go, connected = threading.Event(), threading.Semaphore(0)
    others = [_run_in_thread(commits, work, outcomes, key, go, connected) for key, work in works]
    for _ in others:
        assert connected.acquire(timeout=10)
    threads = [_run_in_thread(commits, first, outcomes, "first"), *others]
    assert started.wait(10)
    go.set()
    pause = threading.Event()
    for _ in range(1000):
        if len(commits._waiting) == len(works):
            break
        pause.wait(0.01)
    assert len(commits._waiting) == len(works)
    release.set()
    for thread in threads:
        thread.join(10)
    return threads


def test_writes_waiting_together_share_one_transaction(app):
    commits = GroupCommit()
    outcomes: dict = {}
    _arrange_shared_batch(commits, threading.Event(), [(k, _insert(k)) for k in (2, 3, 4)], outcomes)

    assert outcomes == {"first": 1, 2: 2, 3: 3, 4: 4}
    assert _stored() == {1, 2, 3, 4}
    assert (commits.transactions, commits.writes) == (2, 4)  # the first alone, then 2-4 together


def test_a_failing_write_is_rolled_back_alone_and_gets_its_own_error(app):
    commits = GroupCommit()
    outcomes: dict = {}

    def half_then_duplicate():
        HealthProbe.insert(id=130).execute()  # written, then undone with the rest of this write
        HealthProbe.insert(id=101).execute()  # taken by the first write: IntegrityError

    _arrange_shared_batch(
        commits, threading.Event(), [(2, _insert(2)), ("bad", half_then_duplicate), (4, _insert(4))], outcomes
    )

    assert isinstance(outcomes["bad"], peewee.IntegrityError)
    assert outcomes[2] == 2 and outcomes[4] == 4
    assert _stored() == {1, 2, 4}


def test_a_deferred_write_that_fails_is_still_its_own_writes_error(app):
    """On PostgreSQL the push path's writes wait for the next statement (relay_server/postgres_pool.py):
    one that fails only when it is sent must still fail its own write, not the batch."""
    commits = GroupCommit()
    outcomes: dict = {}

    def deferred(probe_id: int):
        def work():
            defer_sql(*HealthProbe.insert(id=100 + probe_id).sql())
            return probe_id

        return work

    def deferred_duplicate():
        defer_sql(*HealthProbe.insert(id=131).sql())  # undone with the rest of this write
        defer_sql(*HealthProbe.insert(id=101).sql())  # taken by the first write: fails when sent

    _arrange_shared_batch(
        commits, threading.Event(), [(2, deferred(2)), ("bad", deferred_duplicate), (4, deferred(4))], outcomes
    )

    assert isinstance(outcomes["bad"], peewee.IntegrityError), outcomes
    assert outcomes[2] == 2 and outcomes[4] == 4
    assert _stored() == {1, 2, 4}


def test_a_failed_commit_fails_every_write_of_the_batch_and_keeps_none(app, monkeypatch):
    commits = GroupCommit()
    outcomes: dict = {}
    commits_seen = []
    real_commit = database.obj.commit

    def commit():
        commits_seen.append(1)
        if len(commits_seen) > 1:  # the shared batch's commit (the first one's went through): disk full
            raise peewee.OperationalError("database or disk is full")
        return real_commit()

    monkeypatch.setattr(database.obj, "commit", commit)
    _arrange_shared_batch(commits, threading.Event(), [(k, _insert(k)) for k in (2, 3)], outcomes)

    assert outcomes["first"] == 1
    assert all(isinstance(outcomes[k], peewee.OperationalError) for k in (2, 3)), outcomes
    monkeypatch.setattr(database.obj, "commit", real_commit)
    assert _stored() == {1}


def test_a_write_alone_runs_without_savepoints(app, monkeypatch):
    commits = GroupCommit()
    executed = []
    real = database.obj.execute_sql
    monkeypatch.setattr(database.obj, "execute_sql", lambda sql, *a, **k: (executed.append(sql), real(sql, *a, **k))[1])
    with connection():
        assert commits.run(_insert(7)) == 7
        with pytest.raises(peewee.IntegrityError):
            commits.run(_insert(7))
    assert not [sql for sql in executed if "SAVEPOINT" in sql.upper()]
    assert _stored() == {7}


def test_pushes_and_reports_go_through_the_relays_group_commit(api, app):
    anna = api.account("anna")
    laptop = api.login(anna, "anna-laptop", platform="linux")
    phone = api.login(anna, "anna-phone")
    commits = app.extensions["appbeam_relay"].commits
    before = commits.writes

    push = api.push(laptop, ["anna-phone"]).get_json()["pushes"][0]
    assert api.report(phone, push["id"], "delivered").status_code == 200

    assert commits.writes == before + 2
