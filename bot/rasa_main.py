"""`python -m bot.rasa_main run ...`: Rasa's own command line, without two costs we measured.

- Rasa checks every action server response with `jsonschema.validate`, which first checks the schema
  itself against the JSON Schema meta-schema, on every custom action call: more than half of the Rasa
  server's CPU in a benchmark turn (README, Benchmarks). Here the validator is built, and the schema
  checked, once; each response is validated against the same schema, with the same error and message.
- skops.io is imported before Rasa: on import it looks up each of its trusted type names in every
  loaded module, which takes seconds once TensorFlow is loaded (bot/training/rasa_runner.py does the
  same for training).

Rasa 3.6.21 is the last open-source Rasa, so the method replaced here can't change under us; a test
(tests/unit/test_rasa_main.py) still compares Rasa's method with the one it was written against.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

import skops.io  # noqa: F401  (before Rasa and TensorFlow, see above)


@lru_cache(maxsize=1)
def action_response_validator() -> Any:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, not per response
    return validator_class(schema)


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with a validator built once; the same check, the same error."""
    import jsonschema
    from rasa.shared.constants import DOCS_BASE_URL

    error = jsonschema.exceptions.best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
