"""Publishing envelope and recipient status changes to Connect (owned by the Connect module's author).

`envelope_event(envelope, event, recipient=None)` is called by envelope_state after every change; it
builds the JSON SIM message for each matching Connect configuration and delivers it in the background.
"""

from __future__ import annotations


def envelope_event(envelope, event: str, recipient=None) -> None:  # noqa: ANN001
    """Record and publish `event` (a JSON SIM event name such as 'envelope-sent') for `envelope`."""
