"""Waiting for the app to settle: the engine runs on its own thread."""

from __future__ import annotations

from textual.pilot import Pilot

from tutor.tui.app import TutorApp


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, TutorApp)
    await pilot.pause()
    await app.wait_idle()
    await app.workers.wait_for_complete()
    await app.wait_idle()
    await pilot.pause()
    await pilot.pause()
