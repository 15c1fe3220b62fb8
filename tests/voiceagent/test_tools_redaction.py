"""Once a caller is verified, the call's redaction scope masks their own values everywhere."""

import json

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from phi.redaction import context, redact
from voiceagent.tools import CallState, run_tool

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await database_sync_to_async(connections.close_all)()


async def test_verified_callers_values_join_the_call_scope(call, patient):
    state = CallState(call_sid=call.call_sid, practice_id=call.practice_id, call_id=call.pk)
    with context.redaction_scope():
        assert context.current_known() == {}
        result = await run_tool(
            state=state,
            name="verify_identity",
            arguments=json.dumps({"name": "Jane Doe", "date_of_birth": "1980-03-03"}),
        )
        assert result.output["verified"] is True
        known = context.current_known()
        masked = redact("this is jane doe, born march third nineteen eighty").text
    assert set(known["name"]) >= {"Jane", "Doe"}
    assert known["date_of_birth"] == ("1980-03-03",)
    assert "jane" not in masked.lower()
    assert "nineteen eighty" not in masked


async def test_a_failed_verification_adds_nothing(call, patient):
    state = CallState(call_sid=call.call_sid, practice_id=call.practice_id, call_id=call.pk)
    with context.redaction_scope():
        await run_tool(
            state=state,
            name="verify_identity",
            arguments=json.dumps({"name": "Jane Doe", "date_of_birth": "1990-01-01"}),
        )
        assert context.current_known() == {}
