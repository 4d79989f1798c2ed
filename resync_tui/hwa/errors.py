"""What can go wrong when talking to an HWA engine, by meaning rather than by transport.

Callers catch by meaning (``except CredentialsRejected``) and the resilience layer,
which knows nothing about HWA, decides retries with a predicate on two attributes
every error carries::

    def should_retry(exc: BaseException) -> bool:
        return isinstance(exc, HwaError) and exc.transient

Hierarchy::

    HwaError
    ├── EngineUnreachable        connect refused, reset, DNS, TLS          transient
    │                            (for an action: nothing was sent)
    │   └── EngineTimeout        connect/read/pool timeout, call deadline   transient
    ├── EngineServerError        HTTP 5xx (.status)                          transient
    ├── EngineRateLimited        HTTP 429 (.retry_after from Retry-After)    transient
    ├── CredentialsRejected      HTTP 401/403: fix the configuration, never retry
    ├── NotFound                 HTTP 404
    ├── BadRequest               HTTP 400 and other 4xx (.status), e.g. bad OQL
    ├── MalformedResponse        invalid JSON, truncated body, wrong shape
    └── ActionOutcomeUnknown     an action was sent, no answer came: never retried

Every error names the ``endpoint`` as a template ("GET /plan/job/{job_id}"), never
a concrete id or URL, so it is safe as a log field or a bounded metric label, and
no message ever contains a password, a token or an ``Authorization`` header.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ActionOutcomeUnknown",
    "BadRequest",
    "CredentialsRejected",
    "EngineRateLimited",
    "EngineServerError",
    "EngineTimeout",
    "EngineUnreachable",
    "HwaError",
    "MalformedResponse",
    "NotFound",
    "is_transient",
]


class HwaError(Exception):
    """Base of every error the HWA client raises.

    ``transient`` says whether the same call may succeed if simply tried again
    later (a class default, overridden on an instance when the case says
    otherwise, e.g. a TLS certificate failure will not heal); ``retry_after``
    is the server's hint in seconds, when it gave one.
    ``outcome`` is a short fixed word for metrics labels.
    """

    transient: bool = False
    outcome: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status: int | None = None,
        retry_after: float | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.retry_after = retry_after
        if transient is not None and transient != type(self).transient:
            self.transient = transient  # this instance only, e.g. a TLS failure will not heal

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor: teach pickle (multiprocessing, caches) to rebuild it.
        args = (self.message, self.endpoint, self.status, self.retry_after, self.transient)
        return (_rebuild, (type(self), *args))


def _rebuild(
    cls: type[HwaError],
    message: str,
    endpoint: str,
    status: int | None,
    retry_after: float | None,
    transient: bool,
) -> HwaError:
    return cls(
        message, endpoint=endpoint, status=status, retry_after=retry_after, transient=transient
    )


class EngineUnreachable(HwaError):
    """No answer from the engine: connection refused or reset, DNS failure, TLS failure."""

    transient = True
    outcome = "unreachable"


class EngineTimeout(EngineUnreachable):
    """The engine did not answer in time (connect, read, pool wait or whole-call deadline)."""

    outcome = "timeout"


class EngineServerError(HwaError):
    """The engine answered with a 5xx status (``status`` holds it)."""

    transient = True
    outcome = "server_error"


class EngineRateLimited(HwaError):
    """The engine answered 429; ``retry_after`` holds its Retry-After in seconds, if any."""

    transient = True
    outcome = "rate_limited"


class CredentialsRejected(HwaError):
    """401 or 403: a configuration problem (user, password, token, role). Never retried.

    ``retry_after``: the seconds the client waits before it lets one call try the
    credentials again by itself (``auth_retry_seconds``), when it says so.
    """

    outcome = "credentials"


class NotFound(HwaError):
    """404: the job, run or workstation is not (or no longer) in the plan."""

    outcome = "not_found"


class BadRequest(HwaError):
    """400 (or another 4xx, see ``status``): the engine refused the request, e.g. bad OQL.

    The message carries the server's own explanation when it gave one.
    """

    outcome = "bad_request"


class MalformedResponse(HwaError):
    """The answer could not be used: not JSON, cut short, or JSON of the wrong shape.

    The message says what was wrong, e.g. msgspec's
    "Expected `str`, got `int` - at `$.results[3].name`". A body cut short by the
    connection closing early is marked transient on the instance: that is the
    network, not the engine's data.
    """

    outcome = "malformed"


class ActionOutcomeUnknown(HwaError):
    """An operator action was sent but no answer came (timeout or connection lost after sending).

    The engine may or may not have applied it: actions are not idempotent (a rerun
    sent twice runs the job twice), so this is never transient and never retried.
    The operator must check the job before trying again. A failure to connect
    before anything was sent is a plain :class:`EngineUnreachable` instead.
    """

    outcome = "unknown"


def is_transient(exc: BaseException) -> bool:
    """Retry predicate for the resilience layer: True for HWA errors worth trying again."""
    return isinstance(exc, HwaError) and exc.transient
