"""How one web application instance behaves: cookies, sessions, throttling, uploads, caching.

Built from the environment by `camsweep serve`; tests build it directly. The defaults are the
production ones.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher

from camsweep.errors import ConfigError
from camsweep.web.credentials import DEFAULT_HASHER
from camsweep.web.sessions import SessionPolicy
from camsweep.web.throttle import ThrottlePolicy

MIB = 1024 * 1024


@dataclass(frozen=True)
class WebConfig:
    # None: Secure cookies when the request came over https (as uvicorn or a trusted proxy
    # reports it); True forces them (behind a TLS terminator that does not say so).
    secure_cookies: bool | None = None
    session: SessionPolicy = field(default_factory=SessionPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    hasher: PasswordHasher = DEFAULT_HASHER
    # Dashboard aggregates are reused per department while the store's data version is
    # unchanged, for at most this long (0: compute on every request).
    cache_seconds: float = 300.0
    upload_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir())
                             / f"camsweep-uploads-{os.getuid()}")
    max_register_bytes: int = 200 * MIB
    max_evidence_bytes: int = 25 * MIB
    evidence_dir: Path | None = None  # None: the tracking module's configured folder

    @classmethod
    def from_env(cls) -> WebConfig:
        """CAMSWEEP_SECURE_COOKIES=1|0, CAMSWEEP_UPLOAD_DIR, CAMSWEEP_DASHBOARD_CACHE_SECONDS."""
        secure = os.environ.get("CAMSWEEP_SECURE_COOKIES")
        kwargs: dict[str, object] = {}
        if secure:
            kwargs["secure_cookies"] = secure.strip().lower() in ("1", "true", "yes")
        if os.environ.get("CAMSWEEP_UPLOAD_DIR"):
            kwargs["upload_dir"] = Path(os.environ["CAMSWEEP_UPLOAD_DIR"]).expanduser()
        ttl = os.environ.get("CAMSWEEP_DASHBOARD_CACHE_SECONDS")
        if ttl:
            try:
                kwargs["cache_seconds"] = float(ttl)
            except ValueError as exc:
                raise ConfigError(f"CAMSWEEP_DASHBOARD_CACHE_SECONDS={ttl!r} is not a number "
                                  "of seconds") from exc
        return cls(**kwargs)  # type: ignore[arg-type]
