"""Operator-supplied credentials for ONVIF and SNMP: from a file or `CAMSWEEP_*` variables.

Never from the command line (argv is visible to every user of the machine in `ps`), never
printed (`repr` hides secrets), and only sent to a host that first showed it serves that
protocol (see `probes.onvif` and `probes.snmp`). File format (YAML):

    onvif: {username: NAME, password: SECRET}
    snmp:
      community: SECRET            # SNMPv2c
      v3: {user: NAME, auth_key: SECRET, auth_protocol: SHA, priv_key: SECRET, priv_protocol: AES}

Variables: CAMSWEEP_ONVIF_USERNAME, CAMSWEEP_ONVIF_PASSWORD, CAMSWEEP_SNMP_COMMUNITY,
CAMSWEEP_SNMP_V3_USER, CAMSWEEP_SNMP_V3_AUTH_KEY, CAMSWEEP_SNMP_V3_AUTH_PROTOCOL,
CAMSWEEP_SNMP_V3_PRIV_KEY, CAMSWEEP_SNMP_V3_PRIV_PROTOCOL. A file given on the command line
wins over the environment.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from camsweep.errors import ConfigError

log = logging.getLogger(__name__)

AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES192", "AES256")


@dataclass(frozen=True)
class OnvifCredentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class SnmpV3User:
    user: str
    auth_key: str | None = field(default=None, repr=False)
    priv_key: str | None = field(default=None, repr=False)
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"


@dataclass(frozen=True)
class SnmpCredentials:
    community: str | None = field(default=None, repr=False)
    v3: SnmpV3User | None = None


@dataclass(frozen=True)
class Credentials:
    onvif: OnvifCredentials | None = None
    snmp: SnmpCredentials | None = None

    @property
    def empty(self) -> bool:
        return self.onvif is None and self.snmp is None

    def describe(self) -> list[str]:
        """What is configured, secrets left out."""
        out = []
        if self.onvif:
            out.append(f"onvif user {self.onvif.username!r}")
        if self.snmp and self.snmp.community is not None:
            out.append("snmp v2c community")
        if self.snmp and self.snmp.v3 is not None:
            out.append(f"snmp v3 user {self.snmp.v3.user!r}")
        return out


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise ConfigError(f"credentials: {where} must be a non-empty string")
    return str(value)


def _v3(data: Mapping[str, Any], where: str) -> SnmpV3User:
    unknown = set(data) - {"user", "auth_key", "priv_key", "auth_protocol", "priv_protocol"}
    if unknown:
        raise ConfigError(f"credentials: unknown key(s) {sorted(unknown)} in {where}")
    auth_proto = str(data.get("auth_protocol") or "SHA").upper()
    priv_proto = str(data.get("priv_protocol") or "AES").upper()
    if auth_proto not in AUTH_PROTOCOLS:
        raise ConfigError(f"credentials: {where}.auth_protocol must be one of {AUTH_PROTOCOLS}")
    if priv_proto not in PRIV_PROTOCOLS:
        raise ConfigError(f"credentials: {where}.priv_protocol must be one of {PRIV_PROTOCOLS}")
    auth = data.get("auth_key")
    priv = data.get("priv_key")
    if priv is not None and auth is None:
        raise ConfigError(f"credentials: {where} has priv_key without auth_key (SNMPv3 has no "
                          "privacy without authentication)")
    for key, value in (("auth_key", auth), ("priv_key", priv)):
        if value is not None and len(str(value)) < 8:
            raise ConfigError(f"credentials: {where}.{key} must be at least 8 characters "
                              "(RFC 3414)")
    return SnmpV3User(_str(data.get("user"), f"{where}.user"),
                      None if auth is None else str(auth), None if priv is None else str(priv),
                      auth_proto, priv_proto)


def from_mapping(data: Mapping[str, Any], name: str = "credentials") -> Credentials:
    unknown = set(data) - {"onvif", "snmp"}
    if unknown:
        raise ConfigError(f"{name}: unknown section(s) {sorted(unknown)}; known: onvif, snmp")
    onvif = None
    if data.get("onvif") is not None:
        section = data["onvif"]
        if not isinstance(section, Mapping):
            raise ConfigError(f"{name}: 'onvif' must be a mapping of username and password")
        onvif = OnvifCredentials(_str(section.get("username"), "onvif.username"),
                                 _str(section.get("password"), "onvif.password"))
    snmp = None
    if data.get("snmp") is not None:
        section = data["snmp"]
        if not isinstance(section, Mapping):
            raise ConfigError(f"{name}: 'snmp' must be a mapping (community and/or v3)")
        v3 = section.get("v3")
        if v3 is not None and not isinstance(v3, Mapping):
            raise ConfigError(f"{name}: 'snmp.v3' must be a mapping")
        community = section.get("community")
        snmp = SnmpCredentials(None if community is None else _str(community, "snmp.community"),
                               _v3(v3, "snmp.v3") if v3 is not None else None)
    return Credentials(onvif, snmp)


def from_env(env: Mapping[str, str] | None = None) -> Credentials:
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(f"CAMSWEEP_{name}")
        return value if value else None

    data: dict[str, Any] = {}
    if get("ONVIF_USERNAME") or get("ONVIF_PASSWORD"):
        data["onvif"] = {"username": get("ONVIF_USERNAME"), "password": get("ONVIF_PASSWORD")}
    snmp: dict[str, Any] = {}
    if get("SNMP_COMMUNITY"):
        snmp["community"] = get("SNMP_COMMUNITY")
    if get("SNMP_V3_USER"):
        snmp["v3"] = {k: v for k, v in {
            "user": get("SNMP_V3_USER"), "auth_key": get("SNMP_V3_AUTH_KEY"),
            "priv_key": get("SNMP_V3_PRIV_KEY"), "auth_protocol": get("SNMP_V3_AUTH_PROTOCOL"),
            "priv_protocol": get("SNMP_V3_PRIV_PROTOCOL")}.items() if v is not None}
    if snmp:
        data["snmp"] = snmp
    return from_mapping(data, "CAMSWEEP_* environment")


def load_credentials(path: Path | None = None, env: Mapping[str, str] | None = None) -> Credentials:
    """The file when one is given, else the environment; an empty `Credentials` when neither."""
    if path is None:
        return from_env(env)
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credentials file %s is readable by other users: chmod 600 it", path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"credentials file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"credentials file {path} must be a mapping with onvif/snmp sections")
    return from_mapping(data, f"credentials file {path}")
