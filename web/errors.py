"""What can go wrong in the web process, named after what went wrong.

    WebError
    ├── MessageRejected          this message can never succeed: dead-letter it now
    │   └── MessageUndecodable   its body is not what the queue carries
    ├── HandlingFailed           this try failed, a later one may not: retry it
    └── BrokerUnavailable        no confirmed publish is possible right now

The consumer turns the first two into the dead-letter queue or a delayed retry
(any other exception counts as `HandlingFailed`); HTTP handlers turn
`BrokerUnavailable` into 503.
"""

from __future__ import annotations


class WebError(Exception):
    """Something the web process could not do."""


class MessageRejected(WebError):
    """Retrying cannot help; `reason` goes into the dead letter's header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageUndecodable(MessageRejected):
    """The body cannot be read as the message this queue carries."""


class HandlingFailed(WebError):
    """A known transient failure (device offline, API down); `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BrokerUnavailable(WebError, ConnectionError):
    """RabbitMQ is not connected, or did not confirm the publish in time."""
