"""One benchmark run, section by section, against a stack it starts itself (bench.stack).

Every section's figures go into one dict (written as JSON by bench.report); a section that fails records
its error and the run goes on, so one broken part never hides the others' figures. The run fails when
any message was lost, duplicated or out of order, or when a section failed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import quality, retrain
from bench.clients import PATHS, Endpoints
from bench.ledger import Ledger
from bench.load import Run, concurrent, sequential
from bench.machine import load_average, machine_info
from bench.scaling import long_conversation, stored_conversations_curve
from bench.stack import Database, Stack
from bench.verify import verify
from bot.settings import PROJECT_ROOT, get_settings

# Latency and throughput: Rasa as shipped too, the baseline. The scaling sections fill and measure the
# stack's own database, so they run on the stack's paths only.
LATENCY_PATHS = ("stock", *PATHS)


@dataclass(frozen=True)
class Plan:
    quick: bool
    sequential_conversations: int  # per path; 7 turns each
    levels: tuple[int, ...]  # customers at once
    level_seconds: float  # per level and path
    long_turns: int
    stored_checkpoints: tuple[int, ...]
    conversations_per_point: int
    warm_up_conversations: int  # per path, not measured
    from_scratch: bool  # train from scratch (the add-one-example training costs as much on an empty cache)
    lifecycle: bool  # also time the lifecycle's retrain button (train, score, deploy)

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 2, (1, 10, 50), 3, 20, (300,), 1, 1, False, False)
        return cls(False, 20, (1, 10, 50), 20, 200, (1_000, 10_000), 4, 4, True, True)


class Progress:
    """Prints what the run is doing, and samples the machine's load as it goes (others share it)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.load_samples: list[tuple[int, float]] = []  # (seconds into the run, 1-minute load average)

    def __call__(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        load = load_average()[0]
        self.load_samples.append((elapsed, load))
        print(f"[bench {elapsed // 60:02d}:{elapsed % 60:02d} load {load:.1f}] {message}", flush=True)


class Bench:
    def __init__(self, plan: Plan, database: str, work_dir: Path | None = None) -> None:
        self.plan = plan
        self.progress = Progress()
        self.work_dir = work_dir or Path(tempfile.mkdtemp(prefix="varde-bench-"))
        self.database = Database.create(database, self.work_dir)
        self.stack = Stack(self.work_dir, self.database)
        self.results: dict[str, Any] = {"plan": asdict(plan), "database": database}
        self.delivery = Ledger()
        self.failed_sections: list[str] = []
        self.template_conversation: str | None = None
        self.stock_database: Database | None = None

    # --- plumbing ---------------------------------------------------------------------------------
    def endpoints(self) -> Endpoints:
        rasa = self.stack.rasa_url
        gateway = self.stack.gateway_url
        return Endpoints(
            rest=f"{rasa}/webhooks/rest/webhook",
            channel=f"{rasa}/webhooks/gateway/webhook",
            gateway_ws=gateway.replace("http://", "ws://") + "/ws",
            gateway_origin=gateway,  # the gateway's own page: allowed without an allow-list
            rasa_headers=self.stack.rasa_headers(),
            stock=f"{self.stack.stock_url}/webhooks/rest/webhook",
            stock_rasa=self.stack.stock_url,
        )

    async def checked(self, http: aiohttp.ClientSession, runs: list[Run]) -> None:
        """The after-run checks of bench.verify; every run's ledger adds to the whole run's."""
        for run in runs:
            await verify(http, self.endpoints(), self.stack.rasa_url, run.conversations, run.ledger)
            self.delivery.merge(run.ledger)
            if not run.ledger.clean:
                self.progress(f"!!! {run.path}: {run.ledger.as_dict()}")

    def section(self, name: str, error: BaseException) -> None:
        self.failed_sections.append(name)
        self.results[name] = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()[-2000:]}
        self.progress(f"!!! section {name} failed: {type(error).__name__}: {error}")

    async def guarded(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception as error:  # one section's failure must not hide the others' figures
            self.section(name, error)

    # --- sections ---------------------------------------------------------------------------------
    def start(self) -> None:
        from bot.store.seed import seed_demo
        from bot.training.project_model import train

        self.progress("the model: trained again only if config.yml, domain.yml or data/ changed")
        self.results["model"] = train().name

        os.environ.update({k: v for k, v in self.stack.env().items() if k.startswith(("BOT_", "RASA_"))})
        get_settings.cache_clear()  # this process now reads the benchmark's database too
        self.progress(f"seeding the demo shop into a new {self.database.kind} database ({self.work_dir})")
        seed_demo(self.database.url)
        self.progress(f"starting action server, Rasa and gateway on ports {self.stack.ports}")
        self.stack.start()
        ready = self.stack.wait_ready()
        self.results["startup"] = {"seconds_to_ready": ready, "memory_after_start": self.stack.memory()}
        self.progress(f"ready: {ready}; now Rasa as shipped beside it, the baseline")
        self.stock_database = Database.create(self.database.kind, self.work_dir, "stock")
        self.results["startup"]["stock_seconds_to_ready"] = self.stack.start_stock(self.stock_database)

    async def warm_up(self, http: aiohttp.ClientSession) -> None:
        """First turns are slow (lazy imports, the action server's first query); not measured."""
        started = time.monotonic()
        runs = await sequential(http, self.endpoints(), LATENCY_PATHS, 1)
        self.results["startup"]["first_turn_ms"] = {p: round(r.turns[0].latency * 1000) for p, r in runs.items()}
        more = await sequential(http, self.endpoints(), LATENCY_PATHS, self.plan.warm_up_conversations - 1, first=1)
        self.results["startup"]["warm_up_seconds"] = round(time.monotonic() - started, 1)
        await self.checked(http, [*runs.values(), *more.values()])

    async def latency(self, http: aiohttp.ClientSession) -> None:
        self.progress(f"sequential: {self.plan.sequential_conversations} conversations per path, paths interleaved")
        runs = await sequential(http, self.endpoints(), LATENCY_PATHS, self.plan.sequential_conversations, first=10)
        await self.checked(http, list(runs.values()))
        gateway = runs["gateway"].conversations
        self.template_conversation = gateway[-1].sender_id if gateway else None
        self.results["sequential"] = {path: run.summary() for path, run in runs.items()}
        self.results["concurrent"] = {}
        for customers in self.plan.levels:
            level: dict[str, Any] = {}
            for path in ("stock", "rest", "gateway"):
                self.progress(f"{customers} customer(s) at once on {path} for {self.plan.level_seconds:.0f} s")
                run = await concurrent(http, self.endpoints(), path, customers, self.plan.level_seconds, first=100)
                await self.checked(http, [run])
                level[path] = run.summary()
            self.results["concurrent"][str(customers)] = level

    async def scaling(self, http: aiohttp.ClientSession) -> None:
        self.progress(f"one conversation of {self.plan.long_turns} turns per path")
        length, runs = await long_conversation(http, self.endpoints(), PATHS, self.plan.long_turns)
        await self.checked(http, list(runs.values()))
        self.results["conversation_length"] = length
        if self.template_conversation is None:
            raise RuntimeError("no gateway conversation to copy (the sequential section failed)")
        stored, curve_runs = await stored_conversations_curve(
            http,
            self.endpoints(),
            PATHS,
            self.database.url,
            self.template_conversation,
            self.plan.stored_checkpoints,
            self.plan.conversations_per_point,
            self.progress,
        )
        await self.checked(http, curve_runs)
        self.results["stored_conversations"] = stored

    def memory(self, key: str) -> None:
        self.results.setdefault("memory", {})[key] = self.stack.memory()

    def nlu(self) -> None:
        from bot.rasa_process import rasa_environment

        status_model = self.served_model()
        self.progress(f"rasa test nlu on tests/nlu/{{nb,en}}.yml with {status_model.name}")
        env = {**rasa_environment(get_settings()), "RASA_TELEMETRY_ENABLED": "false"}
        self.results["nlu"] = quality.nlu_scores(status_model, self.work_dir / "nlu", env)

    def served_model(self) -> Path:
        from bench.stack import http_json

        _, status = http_json(f"{self.stack.rasa_url}/status", self.stack.rasa_headers())
        return PROJECT_ROOT / "models" / str(status["model_file"])

    def training(self) -> None:
        workspace = retrain.copy_project(
            self.work_dir / "project", self.stack.rasa_url, self.stack.jwt_secret, self.database.url
        )
        result: dict[str, Any] = {"copy": str(workspace.root)}
        self.results["training"] = result
        if self.plan.from_scratch:
            self.progress("training from scratch (empty cache) in a copy of the training data")
            result["from_scratch"] = retrain.from_scratch(workspace)
        else:
            result["from_scratch"] = {"skipped": "--quick"}
        self.progress("one new NLU example -> fine-tune the live model -> PUT /model -> the server answers it")
        # The cache-only comparison is one more training: the full run only.
        result["add_example_to_live"] = retrain.add_example_to_live(workspace, compare_cache_only=not self.plan.quick)
        if self.plan.lifecycle:
            self.progress("the lifecycle's retrain: train, score candidate and live model, deploy")
            result["lifecycle_to_live"] = retrain.lifecycle_to_live(workspace)
        else:
            result["lifecycle_to_live"] = {"skipped": "--quick"}

    # --- the whole run ----------------------------------------------------------------------------
    async def _service_sections(self) -> None:
        connector = aiohttp.TCPConnector(limit=0)  # the customers' own connections, never queued here
        async with aiohttp.ClientSession(connector=connector) as http:
            await self.guarded("warm_up", lambda: self.warm_up(http))
            await self.guarded("latency", lambda: self.latency(http))
            self.memory("after_latency_runs")
            await self.guarded("scaling", lambda: self.scaling(http))
            self.memory("after_scaling")

    def run(self) -> dict[str, Any]:
        self.results["machine"] = machine_info()
        started = time.monotonic()
        try:
            self.start()
            asyncio.run(self._service_sections())
            for name, work in (("nlu", self.nlu), ("training", self.training)):
                try:
                    work()
                except Exception as error:
                    self.section(name, error)
            self.memory("at_end")
        except Exception as error:
            self.section("startup", error)
        finally:
            self.stack.stop()
            self.database.drop()
            if self.stock_database is not None:
                self.stock_database.drop()
        self.results["delivery"] = {**self.delivery.as_dict(), "clean": self.delivery.clean}
        self.results["failed_sections"] = self.failed_sections
        self.results["seconds"] = round(time.monotonic() - started, 1)
        self.results["machine"]["load_average_at_end"] = load_average()
        self.results["machine"]["load_samples"] = self.progress.load_samples
        self.results["work_dir"] = str(self.work_dir)
        return self.results

    @property
    def ok(self) -> bool:
        return self.delivery.clean and not self.failed_sections
