"""Where the lifecycle works: the project's training files, its models, its database and its Rasa servers.

The default is the project itself. Tests point a Workspace at a copy of the training files in a
temporary folder, so that training and adding examples never touch the repository's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.i18n import SUPPORTED_LANGUAGES
from bot.rasa_process import rasa_environment
from bot.settings import PROJECT_ROOT, get_settings
from bot.training.fingerprints import files_fingerprint

# What a model is trained and judged on: copied together when training happens outside the project.
TRAINING_FILES: tuple[str, ...] = (
    "config.yml",
    "domain.yml",
    "data",
    *(f"tests/nlu/{language}.yml" for language in SUPPORTED_LANGUAGES),
    "tests/test_stories.yml",
)


@dataclass(frozen=True)
class Workspace:
    # config.yml, domain.yml, data/, tests/nlu/<lang>.yml and tests/test_stories.yml live here.
    root: Path = PROJECT_ROOT
    # Every model the lifecycle trains or adopts, with its logs and evaluation reports.
    models_dir: Path = PROJECT_ROOT / "models" / "candidates"
    database_url: str = field(default_factory=lambda: get_settings().database_url)
    # Every Rasa server that should answer with the live model (one per process when there are several).
    rasa_urls: tuple[str, ...] = field(default_factory=lambda: (get_settings().rasa_url,))
    jwt_secret: str = field(default_factory=lambda: get_settings().rasa_jwt_secret)
    # Rasa's training cache; shared with `python -m bot train`, which trains in the project root.
    cache_dir: Path | None = None

    @property
    def config_file(self) -> Path:
        return self.root / "config.yml"

    @property
    def domain_file(self) -> Path:
        return self.root / "domain.yml"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def nlu_dir(self) -> Path:
        return self.data_dir / "nlu"

    @property
    def stories_file(self) -> Path:
        """The conversation tests (`rasa test core --e2e`)."""
        return self.root / "tests" / "test_stories.yml"

    @property
    def nlu_test_files(self) -> dict[str, Path]:
        """The held-out NLU test set, per language, for every language that has one."""
        files = {language: self.root / "tests" / "nlu" / f"{language}.yml" for language in SUPPORTED_LANGUAGES}
        return {language: path for language, path in files.items() if path.exists()}

    @property
    def languages(self) -> tuple[str, ...]:
        return SUPPORTED_LANGUAGES

    @property
    def model_search_dirs(self) -> tuple[Path, ...]:
        """Where a model the Rasa server serves may be found, to adopt it into the history."""
        return (self.models_dir, self.root / "models", PROJECT_ROOT / "models")

    def data_fingerprint(self) -> str:
        """What a model is trained on (fingerprints.files_fingerprint: a missing file counts as missing)."""
        return files_fingerprint(self.root, ("config.yml", "domain.yml", "data"))

    def test_set_fingerprint(self) -> str:
        """What scores are measured on: two models' scores compare only when this is the same."""
        tests = tuple(str(path.relative_to(self.root)) for path in self.nlu_test_files.values())
        return files_fingerprint(self.root, (*tests, "tests/test_stories.yml"))

    def rasa_env(self) -> dict[str, str]:
        env = rasa_environment(get_settings())
        env["RASA_TELEMETRY_ENABLED"] = "false"  # no phoning home from training or tests
        env["RASA_CACHE_DIRECTORY"] = str(self.cache_dir or self.root / ".rasa" / "cache")
        return env
