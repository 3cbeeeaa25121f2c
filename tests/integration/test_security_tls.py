"""`amqps://` with a CA and a client certificate, end to end, without reconfiguring the local RabbitMQ:
a TLS-terminating proxy (tests/tls_proxy.py) that requires a client certificate stands in front of it."""

import json
import os
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from guichet.bus import Bus, TLSConfigError, tls_options
from guichet.settings import TLSSettings
from guichet.topology import Topology
from services.parties import PARTIES
from tests.conftest import delete_namespace, dossier, wait_until
from tests.tls_proxy import CertificateAuthority, TLSProxy


@pytest.fixture
def pki(tmp_path):
    ca = CertificateAuthority(tmp_path, "guichet-test-ca")
    return {
        "ca": ca,
        "server": ca.issue("server", "localhost", server=True),
        "client": ca.issue("client", "guichet-client", server=False),
        "other_ca": CertificateAuthority(tmp_path, "another-ca"),
    }


@pytest.fixture
def proxy(amqp_url, pki):
    broker = urlsplit(amqp_url)
    with TLSProxy(pki["server"], pki["ca"].bundle, (broker.hostname or "127.0.0.1", broker.port or 5672)) as proxy:
        yield proxy


@pytest.fixture
def tls_url(proxy) -> str:
    return f"amqps://guest:guest@localhost:{proxy.port}//"


def tls_env(pki, ca: str = "ca", client: bool = True) -> dict[str, str]:
    env = {"GUICHET_TLS_CA": str(pki[ca].bundle)}
    if client:
        env |= {"GUICHET_TLS_CERT": str(pki["client"].cert), "GUICHET_TLS_KEY": str(pki["client"].key)}
    return env


@pytest.mark.broker
def test_amqps_with_a_ca_and_a_client_certificate_declares_publishes_with_confirms_and_reads_back(
    monkeypatch, pki, proxy, tls_url, amqp_url, namespace
):
    bus = Bus(tls_url, Topology(PARTIES, namespace=namespace), tls=TLSSettings.from_variables(tls_env(pki)))
    try:
        bus.declare()
        bus.publish('{"over": "tls"}', "ofii.test", {"x-test": "tls"}, "tls-1")
        message = wait_until(lambda: bus.get(bus.topology.queue_name("ofii")), 10, "the message back through TLS")
        assert json.loads(message.body) == {"over": "tls"} and message.headers["x-test"] == "tls"
        message.ack()
        sock = bus.publishing.connection.transport.sock
        assert isinstance(sock, ssl.SSLSocket)
        assert dict(x[0] for x in sock.getpeercert()["subject"])["commonName"] == "localhost"
        assert proxy.forwarded >= 2 and proxy.refused == []  # both of the Bus's connections went through it
        bus.delete_topology()
    finally:
        bus.close()
        delete_namespace(amqp_url, namespace)


@pytest.mark.broker
def test_without_a_client_certificate_the_handshake_is_refused(monkeypatch, pki, proxy, tls_url):
    bus = Bus(
        tls_url, Topology(PARTIES, namespace="unused"), tls=TLSSettings.from_variables(tls_env(pki, client=False))
    )
    try:
        with pytest.raises(OSError):  # ssl.SSLError or a reset, as TLS 1.3 reports the alert after the handshake
            bus.publishing.connect()
    finally:
        bus.close()
    refused = wait_until(lambda: proxy.refused, 5, "the proxy to refuse the handshake")
    assert "certificate" in refused[0].lower() and proxy.forwarded == 0


@pytest.mark.broker
def test_a_server_certificate_signed_by_another_ca_is_refused_by_the_client(monkeypatch, pki, proxy, tls_url):
    bus = Bus(
        tls_url, Topology(PARTIES, namespace="unused"), tls=TLSSettings.from_variables(tls_env(pki, ca="other_ca"))
    )
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            bus.publishing.connect()
    finally:
        bus.close()
    assert proxy.forwarded == 0


@pytest.mark.broker
def test_the_server_name_is_checked_against_the_certificate(monkeypatch, pki, proxy, tls_url):
    bus = Bus(
        tls_url,
        Topology(PARTIES, namespace="unused"),
        tls=TLSSettings.from_variables({**tls_env(pki), "GUICHET_TLS_SERVER_NAME": "broker.example.org"}),
    )
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match="broker.example.org"):
            bus.publishing.connect()
    finally:
        bus.close()
    assert proxy.forwarded == 0


@pytest.mark.broker
def test_guichet_simulate_runs_over_amqps(tmp_path, pki, proxy, tls_url):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"regime": "circulaire-2012", "dossiers": [dossier(id="D-TLS")]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_TLS_")} | tls_env(pki)
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--broker", tls_url, "--json", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (outcome,) = json.loads(result.stdout)["dossiers"]
    assert outcome["id"] == "D-TLS" and outcome["outcome"] == "titre_remis"
    assert proxy.forwarded >= 1 and proxy.refused == []


def test_a_missing_file_or_half_a_client_identity_is_one_clear_error(tmp_path, pki):
    url = "amqps://guest:guest@localhost:5671//"
    with pytest.raises(TLSConfigError, match=r"GUICHET_TLS_CA=.*nope\.pem: no such file"):
        tls_options(url, TLSSettings.from_variables({"GUICHET_TLS_CA": str(tmp_path / "nope.pem")}))
    with pytest.raises(TLSConfigError, match="GUICHET_TLS_KEY=.*: no such file"):
        tls_options(
            url,
            TLSSettings.from_variables(
                {"GUICHET_TLS_CERT": str(pki["client"].cert), "GUICHET_TLS_KEY": str(tmp_path / "k")}
            ),
        )
    with pytest.raises(TLSConfigError, match="GUICHET_TLS_CERT and GUICHET_TLS_KEY go together"):
        tls_options(url, TLSSettings.from_variables({"GUICHET_TLS_CERT": str(pki["client"].cert)}))
    assert tls_options(url, TLSSettings.from_variables({})) == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": "localhost",
    }


def test_the_command_line_reports_a_missing_tls_file_in_one_line(tmp_path):
    env = dict(os.environ, GUICHET_TLS_CA=str(tmp_path / "nope.pem"))
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--broker", "amqps://guest:guest@localhost:5671//", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    missing = tmp_path / "nope.pem"
    assert result.stderr.strip().splitlines() == [f"guichet simulate: GUICHET_TLS_CA={missing}: no such file"]
