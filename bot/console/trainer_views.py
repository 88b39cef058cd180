"""The trainer pages: the inbox of misunderstood messages, teaching an intent, retrain with live progress,
the models' history and rollback. The guard (auth.py) lets only role trainer in and checks CSRF on POST.

Every message shown went through bot/training/masking.py on the server; the templates escape it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp_jinja2
import aiohttp_session
from aiohttp import web

from bot.console.auth import Agent, csrf_token, end_session
from bot.console.keys import AGENT
from bot.console.paths import path_id
from bot.console.training_job import Trainer
from bot.i18n import SUPPORTED_LANGUAGES
from bot.training import lifecycle, warm_runner
from bot.training.history import describe
from bot.training.inbox import REASONS, InboxFilter, inbox_groups
from bot.training.nlu_files import ExampleRejected, known_intents
from bot.training.teaching import assign, suggestions
from bot.web.keys import DATABASE

log = logging.getLogger(__name__)

TRAINER_KEY: web.AppKey[Trainer] = web.AppKey("console_trainer")
INBOX = "/console/trainer"
MODELS = "/console/trainer/models"
MAX_GROUPS = 50  # shown per page; each one costs the live model a parse for its suggestions
REASON_LABELS = {
    "low_confidence": "low confidence",
    "fallback": "not understood",
    "rephrased": "rephrased after a miss",
    "handoff": "handed to a person",
    "rated_low": "rated 1-2",
}


def _trainer(request: web.Request) -> Agent:
    return request[AGENT]


async def _flash(request: web.Request, text: str | None = None) -> str | None:
    """Set (with text) or take (without) the one-line message shown on the next page."""
    session = await aiohttp_session.get_session(request)
    if text is not None:
        session["flash"] = text
        return None
    return session.pop("flash", None)


async def _context(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"trainer": _trainer(request), "csrf": await csrf_token(request), "flash": await _flash(request), **extra}


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc) if value else None
    except ValueError:
        return None


def _filters(query: Any) -> InboxFilter:
    language = query.get("language") if query.get("language") in SUPPORTED_LANGUAGES else None
    reason = query.get("reason") if query.get("reason") in REASONS else None
    until = _day(query.get("until"))
    since = _day(query.get("since"))
    return InboxFilter(language, reason, since, until + timedelta(days=1) if until else None)  # "to" is inclusive


async def inbox_page(request: web.Request) -> web.Response:
    filters = _filters(request.query)
    trainer = request.config_dict[TRAINER_KEY]
    groups = (await request.config_dict[DATABASE].run(inbox_groups, filters))[:MAX_GROUPS]
    loop = asyncio.get_running_loop()
    guesses = await asyncio.gather(
        *(loop.run_in_executor(None, suggestions, group.text, trainer.workspace) for group in groups)
    )
    context = await _context(
        request,
        groups=list(zip(groups, guesses, strict=True)),
        intents=known_intents(trainer.workspace),
        filters=filters,
        query=request.query,
        query_string=request.query_string,
        languages=SUPPORTED_LANGUAGES,
        reasons=REASON_LABELS,
    )
    return aiohttp_jinja2.render_template("trainer_inbox.html", request, context)


async def assign_intent(request: web.Request) -> web.StreamResponse:
    message_id = path_id(request, "message_id")
    form = await request.post()
    decision = str(form.get("intent_other") or form.get("intent") or "")
    back = str(form.get("back") or INBOX)
    if not back.startswith(INBOX):
        back = INBOX
    workspace = request.config_dict[TRAINER_KEY].workspace
    try:
        group, added = await asyncio.get_running_loop().run_in_executor(
            None, assign, message_id, decision, _trainer(request).username, workspace
        )
    except ExampleRejected as error:
        await _flash(request, f"Not added: {error}")
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"added": False, "error": str(error)}, status=409)
        raise web.HTTPSeeOther(back) from None
    if added is not None:
        where = added.path.relative_to(workspace.root)
        text = f"Added to {where} (line {added.line_number}) as {decision}: {added.text}"
    else:
        text = f"Ignored {group.count} message(s)."
    await _flash(request, text)
    if "application/json" in request.headers.get("Accept", ""):
        body = {"added": added is not None, "file": str(added.path) if added else None}
        return web.json_response({**body, "example": added.text if added else None})
    raise web.HTTPSeeOther(back)


async def models_page(request: web.Request) -> web.Response:
    trainer = request.config_dict[TRAINER_KEY]
    loop = asyncio.get_running_loop()
    if not trainer.running:
        # A trainer is here and may retrain soon: have a training process warm up meanwhile.
        loop.run_in_executor(None, warm_runner.prepare, trainer.workspace)
    records = await loop.run_in_executor(None, lifecycle.Lifecycle(trainer.workspace).list_models)
    job = trainer.job
    context = await _context(
        request,
        models=[describe(record) for record in records],
        languages=SUPPORTED_LANGUAGES,
        running=trainer.running,
        last_result=job.events[-1] if job and job.finished and job.events else None,
        last_seconds=job.events[-1]["elapsed"] if job and job.finished and job.events else None,
    )
    return aiohttp_jinja2.render_template("trainer_models.html", request, context)


async def start_retrain(request: web.Request) -> web.StreamResponse:
    trainer = request.config_dict[TRAINER_KEY]
    try:
        trainer.start(_trainer(request).username)
    except lifecycle.LifecycleError as error:
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"started": False, "error": str(error)}, status=409)
        await _flash(request, str(error))
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"started": True})
    raise web.HTTPSeeOther(MODELS)


async def retrain_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every progress event of the current job so far, then the rest as they come."""
    job = request.config_dict[TRAINER_KEY].job
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)

    async def send(event: dict[str, Any]) -> None:
        await response.write(f"data: {json.dumps(event)}\n\n".encode())

    if job is None:
        await send({"type": "idle"})
        return response
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    job.listeners.add(queue)
    try:
        for event in list(job.events):
            await send(event)
        if job.finished:
            await send({"type": "end"})
            return response
        while True:
            event = await queue.get()
            await send(event)
            if event["type"] == "end":
                return response
    except (ConnectionResetError, asyncio.CancelledError):
        return response  # the page went away; the training goes on
    finally:
        job.listeners.discard(queue)


async def rollback(request: web.Request) -> web.StreamResponse:
    record_id = path_id(request, "model_id")
    workspace = request.config_dict[TRAINER_KEY].workspace
    try:
        rollback_to = lifecycle.Lifecycle(workspace).rollback
        record = await asyncio.get_running_loop().run_in_executor(None, rollback_to, record_id)
        log.info("trainer: %s rolled back to model %d", _trainer(request).username, record.id)
        await _flash(request, f"Model {record.id} is live again.")
    except lifecycle.LifecycleError as error:
        await _flash(request, f"No rollback: {error}")
    raise web.HTTPSeeOther(MODELS)


async def logout(request: web.Request) -> web.StreamResponse:
    log.info("console: %s logged out", _trainer(request).username)
    await end_session(request)
    raise web.HTTPSeeOther("/console/login")


def add_trainer_routes(app: web.Application, prefix: str) -> None:
    """The trainer pages on the console's sub-app, mounted at `prefix`. The Trainer itself is built by the
    composition root (bot/gateway/app.py) and found under TRAINER_KEY."""
    router = app.router
    inbox, models = INBOX.removeprefix(prefix), MODELS.removeprefix(prefix)
    router.add_get(inbox, inbox_page)
    router.add_post(inbox + "/inbox/{message_id}/assign", assign_intent)
    router.add_get(models, models_page)
    router.add_post(inbox + "/retrain", start_retrain)
    router.add_get(inbox + "/retrain/events", retrain_events)
    router.add_post(models + "/{model_id}/rollback", rollback)
    router.add_post(inbox + "/logout", logout)
