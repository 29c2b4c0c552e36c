"""The transport core of :class:`~convai_ops.api.ConvaiClient`.

One call goes: build the request once -> (take a limiter slot -> send -> record stats and log ->
free the slot) as many times as the retry policy allows, sleeping between attempts outside the
slot -> map an error status or a missing answer to an :class:`~convai_ops.errors.ApiError`.
"""

from __future__ import annotations

import copy
import functools
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, cast

import httpx
import tenacity

from convai_ops import __version__
from convai_ops.errors import ApiError, UsageError, check_api_key, register_secret

from .early import EarlyAnswers, answer_key
from .error_mapping import error_for_no_answer, error_for_response
from .limiter import AdaptiveLimiter
from .pagination import iter_pages
from .retry import (
    RETRYABLE_TRANSPORT_ERRORS,
    RetryStop,
    RetryWait,
    count_hinted_rate_limit,
    is_retryable_response,
)
from .routing import Files, QueryValue, Route, encode_query
from .stats import ClientStats, StatsRecorder

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_USER_AGENT", "BaseClient"]

logger = logging.getLogger("convai_ops.api")

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_USER_AGENT = f"convai-ops/{__version__}"


class BaseClient:
    """Auth, limiter, retries, error mapping and logging; see :class:`ConvaiClient`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_concurrency: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        _check_settings(base_url, timeout, max_retries, backoff_base, backoff_max, max_concurrency)
        if api_key:
            check_api_key(api_key)
        register_secret(api_key)
        self.base_url = base_url
        self.max_retries = max_retries
        self.limiter = AdaptiveLimiter(max_concurrency)
        self._secrets = (api_key,) if api_key else ()
        self._stats = StatsRecorder()
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers=_headers(api_key, user_agent),
            verify=_verify_for(base_url),
        )
        self._retrying = tenacity.Retrying(
            stop=RetryStop(max_retries),
            wait=RetryWait(backoff_base, backoff_max),
            retry=(
                tenacity.retry_if_exception_type(RETRYABLE_TRANSPORT_ERRORS)
                | tenacity.retry_if_result(_is_retryable_result)
            ),
            sleep=sleep,
            after=count_hinted_rate_limit,
            before_sleep=self._before_sleep,
            retry_error_callback=_last_outcome,
        )
        # A call that must not be repeated blindly (a create): only a 429, which the server
        # answers before doing anything, is retried; a lost answer is the caller's to handle.
        self._retrying_once = self._retrying.copy(retry=tenacity.retry_if_result(_is_429))
        self._early: EarlyAnswers | None = None
        self._recording = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"max_concurrency={self.limiter.max_limit}, max_retries={self.max_retries})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        self._http.close()

    def early_reader(self) -> Self:
        """A view of this client (same connections, limiter and counters) whose GETs are
        remembered: the same GET made later through this client takes the view's answer once
        instead of being sent again (:mod:`convai_ops.api.early`). Call
        :meth:`end_early_reads` when the view's reads are done, and again with ``drop=True``
        once their answers are no longer wanted."""
        self._early = EarlyAnswers()
        view = copy.copy(self)
        view._recording = True
        return view

    def end_early_reads(self, *, drop: bool) -> None:
        """The early reads ended (nothing more will be remembered); with ``drop``, also forget
        the answers not taken, so every later GET is sent. No-op on the view itself."""
        early = self._early
        if early is None or self._recording:
            return
        if drop:
            early.close()
            self._early = None
        else:
            early.finished()

    @property
    def stats(self) -> ClientStats:
        """A snapshot of this client's counters (see :class:`ClientStats`)."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Set every counter of :attr:`stats` back to zero."""
        self._stats.reset()

    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        files: Files | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | None = None,
        repeatable: bool = True,
    ) -> Any:
        """Call ``method template`` and return the decoded body.

        ``template`` is a path such as ``/v1/convai/agents/{agent_id}``, filled from
        ``path_params``; ``None`` values in ``params`` are left out and sequences repeat the
        parameter. Returns decoded JSON, the text of a non-JSON body, or ``None`` for an empty
        one. ``timeout`` (seconds) replaces the client's for this call. ``repeatable=False``
        (a create: sent twice it makes two) retries only a ``429``, never a timeout, a lost
        connection or a 5xx, whose request may have been carried out. Raises the
        :class:`ApiError` subclass for the status (after retries), or
        :class:`ApiConnectionError` when the API could not be reached.
        """
        route = Route.of(method, template, path_params)
        if self._early is not None and route.method == "GET" and _no_body(json, files, data):
            return self._early_get(route, params, timeout)
        request = self._build(route, params, json, files, data, timeout)
        return _decode(self._send(route, request, stream=False, repeatable=repeatable), route)

    def _early_get(
        self, route: Route, params: Mapping[str, QueryValue] | None, timeout: float | None
    ) -> Any:
        """A GET while early reads exist (:meth:`EarlyAnswers.answer`)."""
        early, key = self._early, answer_key(route.path, encode_query(params))
        send = functools.partial(self._get, route, params, timeout)
        return early.answer(key, send, recording=self._recording) if early else send()

    def _get(self, route: Route, params: Mapping[str, QueryValue] | None, t: float | None) -> Any:
        request = self._build(route, params, None, None, None, t)
        return _decode(self._send(route, request, stream=False), route)

    @contextmanager
    def stream(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, str] | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but yield the open response once its headers arrived.

        Retries and error mapping apply until the headers; a connection lost while reading the
        body raises :class:`ApiConnectionError`.
        """
        route = Route.of(method, template, path_params)
        request = self._build(route, None, json, None, None, timeout)
        response = self._send(route, request, stream=True)
        try:
            yield response
        except httpx.TransportError as exc:
            raise error_for_no_answer(exc, route.method, route.path, secrets=self._secrets) from exc
        finally:
            response.close()

    def _object(self, method: str, template: str, **kwargs: Any) -> dict[str, Any]:
        value = self.request(method, template, **kwargs)
        if isinstance(value, dict):
            return value
        route = Route.of(method, template, kwargs.get("path_params"))
        message = f"expected a JSON object, got {type(value).__name__}"
        raise ApiError(message, method=route.method, path=route.path)

    def _create(self, template: str, id_key: str, **kwargs: Any) -> str:
        created = self._object("POST", template, **kwargs)
        value = created.get(id_key)
        if isinstance(value, str) and value:
            return value
        raise ApiError(f"the answer lacks {id_key!r}", method="POST", path=template)

    def _paginate(
        self,
        template: str,
        items_key: str,
        params: Mapping[str, QueryValue],
        path_params: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        def fetch(cursor: str | None) -> dict[str, Any]:
            query = {**params, "cursor": cursor}
            return self._object("GET", template, path_params=path_params, params=query)

        path = Route.of("GET", template, path_params).path
        return iter_pages(fetch, items_key, path=path)

    def _build(
        self,
        route: Route,
        params: Mapping[str, QueryValue] | None,
        json: Any,
        files: Files | None,
        data: Mapping[str, str] | None,
        timeout: float | None,
    ) -> httpx.Request:
        # Bodies are bytes (JSON, form fields, in-memory files), so each attempt can resend them.
        return self._http.build_request(
            route.method,
            route.path,
            params=encode_query(params),
            json=json,
            files=files,
            data=data,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )

    def _send(
        self, route: Route, request: httpx.Request, *, stream: bool, repeatable: bool = True
    ) -> httpx.Response:
        retrying = self._retrying if repeatable else self._retrying_once
        try:
            response = retrying.copy()(self._attempt, route, request, stream)
        except httpx.TransportError as exc:
            raise error_for_no_answer(exc, route.method, route.path, secrets=self._secrets) from exc
        if response.is_error:
            raise error_for_response(response, route.method, route.path, secrets=self._secrets)
        return response

    def _attempt(self, route: Route, request: httpx.Request, stream: bool) -> httpx.Response:
        started = time.perf_counter()
        with self.limiter.slot() as epoch:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                self._stats.record_no_answer(route.key)
                _log(route, type(exc).__name__, started)
                raise
            self._adapt(epoch, response.status_code)
        self._stats.record_response(route.key, response.status_code)
        _log(route, str(response.status_code), started)
        if stream and response.is_error:
            _read_and_close(response)
        return response

    def _adapt(self, epoch: int, status: int) -> None:
        if status == 429:
            self.limiter.on_throttle(epoch)
        elif status < 400:
            self.limiter.on_success()

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._stats.record_retry()
        route = cast(Route, state.args[0])
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.debug(
            "retrying %s %s after %s in %.2f s (attempt %d of %d)",
            route.method,
            route.path,
            _outcome_name(state),
            delay,
            state.attempt_number + 1,
            self.max_retries + 1,
        )


def _check_settings(
    base_url: str,
    timeout: float,
    max_retries: int,
    backoff_base: float,
    backoff_max: float,
    max_concurrency: int,
) -> None:
    problems = [
        (not _is_http_url(base_url), f"base URL {base_url!r} must look like https://host"),
        (timeout <= 0, "timeout must be positive"),
        (max_retries < 0, "max_retries must be 0 or more"),
        (backoff_base < 0 or backoff_max < 0, "backoff times must be 0 or more"),
        (max_concurrency < 1, "concurrency must be at least 1"),
    ]
    for failed, message in problems:
        if failed:
            raise UsageError(message)


def _is_http_url(text: str) -> bool:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _no_body(json: Any, files: Files | None, data: Mapping[str, str] | None) -> bool:
    return json is None and files is None and data is None


def _verify_for(base_url: str) -> ssl.SSLContext | bool:
    """httpx's ``verify`` for ``base_url``: the default (certifi's CA bundle) for https; for
    plain http (the emulator, a local proxy), a context that trusts no certificate at all, so
    the 30-50 ms of loading the CA bundle is not paid for TLS that is never used, and any TLS
    connection (there is none: redirects are not followed) would fail closed."""
    if httpx.URL(base_url).scheme != "http":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostnames, trusts no CA


def _headers(api_key: str, user_agent: str) -> dict[str, str]:
    headers = {"user-agent": user_agent}
    if api_key:
        headers["xi-api-key"] = api_key
    return headers


def _decode(response: httpx.Response, route: Route) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type and content_type:
        return response.text
    try:
        return response.json()
    except ValueError as exc:
        if not content_type:
            return response.text
        message = "the API answered malformed JSON"
        status = response.status_code
        raise ApiError(message, status=status, method=route.method, path=route.path) from exc


def _read_and_close(response: httpx.Response) -> None:
    try:
        response.read()
    finally:
        response.close()


def _log(route: Route, outcome: str, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    logger.debug("%s %s -> %s in %.0f ms", route.method, route.path, outcome, elapsed_ms)


def _is_429(result: object) -> bool:
    return isinstance(result, httpx.Response) and result.status_code == 429


def _is_retryable_result(result: object) -> bool:
    return isinstance(result, httpx.Response) and is_retryable_response(result)


def _last_outcome(state: tenacity.RetryCallState) -> Any:
    """Once retries are spent, hand back the last response (or re-raise the last error)."""
    if state.outcome is None:  # tenacity always sets it before giving up
        raise RuntimeError("retry gave up without an outcome")
    return state.outcome.result()


def _outcome_name(state: tenacity.RetryCallState) -> str:
    outcome = state.outcome
    if outcome is None:
        return "nothing"
    if outcome.failed:
        return type(outcome.exception()).__name__
    return f"HTTP {cast(httpx.Response, outcome.result()).status_code}"
