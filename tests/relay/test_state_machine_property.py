"""Property: whatever a device reports, in any order, the relay follows shared.protocol.TRANSITIONS.

Each example sends a random sequence of reports for one push and checks every answer (200 or
409) and the final state against a model built from the transition table alone.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.protocol import DEVICE_REPORTED_STATES, FINAL_STATES, UNACKNOWLEDGED_STATES, PushState, can_transition

REPORTABLE = sorted(str(s) for s in DEVICE_REPORTED_STATES)


def _expected(current: PushState, new: PushState) -> tuple[int, PushState]:
    """(status, state afterwards) the relay must give for one report."""
    if new is PushState.DELIVERED and current not in UNACKNOWLEDGED_STATES and current not in FINAL_STATES:
        return 200, current  # a repeated acknowledgement changes nothing
    if new == current and new not in (PushState.DOWNLOADING, PushState.FAILED):
        return 200, current
    if can_transition(current, new):
        return 200, new
    return 409, current


@pytest.fixture
def family(api):
    """A laptop and a phone; hypothesis reuses them for every example of one test."""
    anna = api.account()
    return api.login(anna, f"{anna}-laptop", platform="linux"), api.login(anna, f"{anna}-phone"), f"{anna}-phone"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(st.sampled_from(REPORTABLE), min_size=1, max_size=8))
def test_reports_follow_the_transition_table(api, client, family, reports):
    laptop, phone, phone_id = family
    push = api.push(laptop, [phone_id], mode="notify").get_json()["pushes"][0]
    state = PushState(push["state"])

    for report in reports:
        status, state_after = _expected(state, PushState(report))
        resp = api.report(phone, push["id"], report)
        assert resp.status_code == status, (state, report, resp.get_json())
        state = state_after

    assert client.get(f"/api/v1/pushes/{push['id']}", headers=laptop).get_json()["state"] == state
