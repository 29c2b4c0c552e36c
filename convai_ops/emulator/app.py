"""Build the FastAPI app of the emulator: routes, error answers and the middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from convai_ops.emulator import (
    routes_agents,
    routes_branches,
    routes_conversations,
    routes_deployments,
    routes_invocations,
    routes_kb,
    routes_rag,
    routes_simulate,
    routes_tests,
    routes_tools,
)
from convai_ops.emulator.branches import protect_main_branches
from convai_ops.emulator.config import EmulatorConfig
from convai_ops.emulator.core import Emulator
from convai_ops.emulator.middleware import EmulatorMiddleware
from convai_ops.emulator.problems import ApiProblem, InvalidRequest

__all__ = ["create_app"]

ROUTERS = (
    routes_agents.router,
    routes_branches.router,
    routes_deployments.router,
    routes_tests.router,
    routes_invocations.router,
    routes_rag.router,  # before routes_kb: /knowledge-base/rag-index is not a document id
    routes_kb.router,
    routes_tools.router,
    routes_conversations.router,
    routes_simulate.router,
)


def create_app(config: EmulatorConfig | None = None) -> FastAPI:
    """Return the emulated ``/v1/convai`` API; its :class:`Emulator` is ``app.state.emulator``.

    The state is loaded from ``config.state_file`` when that file exists.
    """
    emulator = Emulator(config)
    if emulator.config.protect_main:
        protect_main_branches(emulator)
    app = FastAPI(
        title="convai-ops ElevenLabs API emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.emulator = emulator
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(ApiProblem, _problem_answer)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidRequest, _invalid_answer)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _query_answer)  # type: ignore[arg-type]
    app.add_middleware(EmulatorMiddleware, emulator=emulator)
    return app


async def _problem_answer(request: Request, problem: ApiProblem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status)


async def _query_answer(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (query, path, form fields) trimmed to ``loc``/``msg``/``type``."""
    items = [
        {"loc": list(item["loc"]), "msg": str(item["msg"]), "type": str(item["type"])}
        for item in error.errors()
    ]
    return JSONResponse({"detail": items}, status_code=422)


async def _invalid_answer(request: Request, invalid: InvalidRequest) -> JSONResponse:
    return JSONResponse({"detail": invalid.errors}, status_code=422)
