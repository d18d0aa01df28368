"""Settings resolved once: CLI flags > environment (CAMSWEEP_*) > camsweep.toml > defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from camsweep.errors import ConfigError

DEFAULT_DB = "sqlite:///./camsweep.db"
CONFIG_FILE = "camsweep.toml"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    db: str = DEFAULT_DB
    verbose: bool = False


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove the file") from exc
    section = data.get("camsweep", data)
    unknown = set(section) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {sorted(unknown)}; known: "
                          f"{sorted(Settings.model_fields)}")
    return dict(section)


def load_settings(overrides: dict[str, Any] | None = None, cwd: Path | None = None) -> Settings:
    """Merge the four layers; `overrides` holds only the flags the user actually gave."""
    values: dict[str, Any] = _from_file((cwd or Path.cwd()) / CONFIG_FILE)
    for name in Settings.model_fields:
        env = os.environ.get(f"CAMSWEEP_{name.upper()}")
        if env is not None and env != "":
            values[name] = env.lower() in ("1", "true", "yes") if name == "verbose" else env
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Settings(**values)
