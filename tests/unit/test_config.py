"""Settings precedence: flags > environment > camsweep.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from camsweep.config import DEFAULT_DB, load_settings
from camsweep.errors import ConfigError


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAMSWEEP_DB", raising=False)
    assert load_settings(cwd=tmp_path).db == DEFAULT_DB


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "camsweep.toml").write_text('[camsweep]\ndb = "sqlite:///file.db"\n')
    monkeypatch.delenv("CAMSWEEP_DB", raising=False)
    assert load_settings(cwd=tmp_path).db == "sqlite:///file.db"
    monkeypatch.setenv("CAMSWEEP_DB", "sqlite:///env.db")
    assert load_settings(cwd=tmp_path).db == "sqlite:///env.db"
    assert load_settings({"db": "sqlite:///flag.db"}, cwd=tmp_path).db == "sqlite:///flag.db"


def test_bad_toml_is_named(tmp_path: Path) -> None:
    (tmp_path / "camsweep.toml").write_text("db = [unclosed\n")
    with pytest.raises(ConfigError, match=r"camsweep\.toml: not valid TOML"):
        load_settings(cwd=tmp_path)
    (tmp_path / "camsweep.toml").write_text('dbb = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(cwd=tmp_path)
