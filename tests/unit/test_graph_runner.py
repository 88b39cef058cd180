"""bot/graph_runner.py against Rasa's own DaskGraphRunner.run on the same graphs: the same results, every
node called once with the same arguments, each after what it needs, and the same refusals."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner

from bot.graph_runner import run_in_order

RASAS_RUN = getattr(DaskGraphRunner.run, "__wrapped__", DaskGraphRunner.run)


class Calls:
    def __init__(self) -> None:
        self.made: list[tuple[str, tuple[Any, ...]]] = []


class FakeNode:
    """What GraphNode.__call__ returns: (its name, its output); here the output records its inputs."""

    def __init__(self, name: str, calls: Calls, fails: bool = False) -> None:
        self.name, self.calls, self.fails = name, calls, fails

    def __call__(self, *inputs: Any) -> tuple[str, Any]:
        self.calls.made.append((self.name, inputs))
        if self.fails:
            raise RuntimeError(f"{self.name} failed")
        return self.name, {"node": self.name, "from": list(inputs)}


def schema(needs: dict[str, dict[str, str]], targets: tuple[str, ...]) -> GraphSchema:
    return GraphSchema(
        {
            name: SchemaNode(
                needs=node_needs,
                uses=GraphComponent,
                constructor_name="load",
                fn="run",
                config={},
                is_target=name in targets,
            )
            for name, node_needs in needs.items()
        }
    )


# A diamond with an input, a branch no target needs, and a need nothing provides.
NEEDS = {
    "tokens": {"messages": "__message__"},
    "words": {"messages": "tokens"},
    "chars": {"messages": "tokens"},
    "intent": {"words": "words", "chars": "chars"},
    "policy": {"tracker": "__tracker__", "intent": "intent"},
    "unused": {"messages": "tokens"},
    "orphan": {"thing": "__nowhere__"},
}


def runner(needs: dict[str, dict[str, str]], calls: Calls, failing: str | None = None) -> DaskGraphRunner:
    graph = object.__new__(DaskGraphRunner)
    graph._graph_schema = schema(needs, ("intent", "policy"))
    graph._execution_context = "a test's run"  # type: ignore[assignment]  (only logged)
    graph._instantiated_nodes = {name: FakeNode(name, calls, name == failing) for name in needs}  # type: ignore[assignment]
    return graph


def both(inputs: dict[str, Any] | None, targets: list[str] | None, failing: str | None = None) -> list[Any]:
    outcomes = []
    for run in (RASAS_RUN, run_in_order):
        calls = Calls()
        try:
            result: Any = run(runner(NEEDS, calls, failing), inputs, targets)
        except GraphRunError as error:
            result = ("GraphRunError", str(error), type(error.__cause__).__name__)
        outcomes.append((result, calls.made))
    return outcomes


def needed_first(made: list[tuple[str, tuple[Any, ...]]], given: set[str]) -> None:
    done: set[str] = set(given)
    for name, _inputs in made:
        assert all(need in done or need not in NEEDS for need in NEEDS[name].values()), (name, done)
        done.add(name)


@pytest.mark.parametrize(
    ("inputs", "targets"),
    [
        ({"__message__": "hei", "__tracker__": {"events": []}}, ["intent", "policy"]),
        ({"__message__": ["a", "b"]}, ["intent"]),
        ({"__message__": "hei", "__tracker__": 1}, None),  # the schema's own targets
        ({"__message__": "hei", "words": ["given"]}, ["intent"]),  # an input in a node's place
        ({}, ["orphan"]),  # a need nothing provides: passed as its name
        (None, ["words"]),
    ],
)
def test_same_results_and_calls_as_rasas_dask_runner(inputs: dict[str, Any] | None, targets: list[str] | None) -> None:
    (rasas, rasas_calls), (ours, our_calls) = both(inputs, targets)
    assert ours == rasas
    assert sorted(our_calls, key=repr) == sorted(rasas_calls, key=repr)  # each node once, the same arguments
    needed_first(our_calls, set(inputs or {}))


def test_a_failing_node_and_a_clashing_input_are_refused_alike() -> None:
    (rasas, _), (ours, _) = both({"__message__": "hei", "__tracker__": 1}, ["policy"], failing="chars")
    assert ours == rasas == ("GraphRunError", "Error running runner.", "RuntimeError")
    (rasas, _), (ours, _) = both({"__message__": "tokens"}, ["intent"])
    assert ours == rasas and ours[0] == "GraphRunError" and "clashes with a node name" in ours[1]


def test_the_order_is_worked_out_once_per_targets_and_inputs() -> None:
    graph = runner(NEEDS, Calls())
    for _ in range(3):
        run_in_order(graph, {"__message__": "hei"}, ["intent"])
    plans = graph._graph_schema.__dict__["_bot_run_orders"]
    assert [[name for name, _needs in order] for _nodes, order in plans.values()] == [
        ["tokens", "words", "chars", "intent"]
    ]


# sha256 of DaskGraphRunner.run, _build_dask_graph and _add_inputs_to_graph in Rasa 3.6.21.
RASA_RUN_SHA256 = "8f466c586cf7d5488c345afe92ce131d6e5bce7925d65966053f97e3fd73eec7"


def test_rasas_run_is_the_one_bot_graph_runner_replaces() -> None:
    methods = (RASAS_RUN, DaskGraphRunner._build_dask_graph, DaskGraphRunner._add_inputs_to_graph)
    digest = hashlib.sha256("".join(inspect.getsource(method) for method in methods).encode()).hexdigest()
    assert digest == RASA_RUN_SHA256, "Rasa's DaskGraphRunner.run changed: check bot/graph_runner.py"
