"""`camsweep agent certs`: a CA and certificates that chain to it, keys kept private."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from camsweep.cli.app import app
from camsweep.errors import ConfigError
from camsweep.scale.certs import agent_names, make_certificates

runner = CliRunner()


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_every_certificate_is_issued_by_the_ca_and_every_key_is_private(tmp_path: Path,
                                                                        ) -> None:
    issued = make_certificates(tmp_path, ["agent-site-a", "agent-site-b"])
    assert [i.name for i in issued] == ["scheduler", "client", "agent-site-a", "agent-site-b"]
    ca = _cert(tmp_path / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for item in issued:
        cert = _cert(item.cert)
        cert.verify_directly_issued_by(ca)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == item.name
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usage)
        key = serialization.load_pem_private_key(item.key.read_bytes(), password=None)
        assert key.public_key() == cert.public_key()
        assert stat.S_IMODE(item.key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca-key.pem").stat().st_mode) == 0o600


def test_a_second_run_adds_agents_with_the_same_ca_and_keeps_existing_ones(tmp_path: Path,
                                                                           ) -> None:
    make_certificates(tmp_path, ["agent-a"])
    ca_before = (tmp_path / "ca.pem").read_bytes()
    first_a = (tmp_path / "agent-a.pem").read_bytes()
    added = make_certificates(tmp_path, ["agent-b"])
    assert [i.name for i in added] == ["agent-b"]
    assert (tmp_path / "ca.pem").read_bytes() == ca_before
    _cert(tmp_path / "agent-b.pem").verify_directly_issued_by(_cert(tmp_path / "ca.pem"))
    with pytest.raises(ConfigError, match="already has certificates for agent-a"):
        make_certificates(tmp_path, ["agent-a"])
    assert (tmp_path / "agent-a.pem").read_bytes() == first_a
    make_certificates(tmp_path, ["agent-a"], force=True)
    assert (tmp_path / "agent-a.pem").read_bytes() != first_a


def test_agent_names_from_a_count_or_a_list() -> None:
    assert agent_names("3") == ["agent-1", "agent-2", "agent-3"]
    assert agent_names("site-a, agent-b") == ["agent-site-a", "agent-b"]
    for bad in ("0", "a b", "x,x", ",", "../etc"):
        with pytest.raises(ConfigError):
            agent_names(bad)


def test_cli_writes_the_files_it_lists(tmp_path: Path) -> None:
    result = runner.invoke(app, ["agent", "certs", "--out", str(tmp_path), "--agents", "2",
                                 "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [x["name"] for x in listed] == ["scheduler", "client", "agent-1", "agent-2"]
    assert all(Path(x["cert"]).is_file() and Path(x["key"]).is_file() for x in listed)
