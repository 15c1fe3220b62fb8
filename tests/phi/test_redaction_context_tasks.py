"""A call's known values reach every task of the call, even tasks started before verification."""

import asyncio

from phi.redaction import context


async def test_values_added_in_one_task_reach_tasks_started_earlier():
    with context.redaction_scope():
        seen = asyncio.Event()
        verified = asyncio.Event()
        observed: dict = {}

        async def audio_loop() -> None:
            await verified.wait()
            observed.update(context.current_known())
            seen.set()

        async def verify_tool() -> None:
            context.add_known(name="Zephyrine Testperson")
            verified.set()

        audio = asyncio.create_task(audio_loop())  # started before the caller is verified
        await asyncio.create_task(verify_tool())
        await seen.wait()
        await audio
    assert observed["name"] == ("Zephyrine Testperson",)
    assert context.current_known() == {}


async def test_two_calls_do_not_share_known_values():
    async def call(name: str) -> dict:
        with context.redaction_scope():
            context.add_known(name=name)
            await asyncio.sleep(0)
            return context.current_known()

    first, second = await asyncio.gather(
        asyncio.create_task(call("Testperson One")), asyncio.create_task(call("Testperson Two"))
    )
    assert first["name"] == ("Testperson One",)
    assert second["name"] == ("Testperson Two",)
