"""A throw-away PKI and a TLS-terminating proxy in front of the local RabbitMQ, for the `amqps://` tests.

The local broker only speaks plain AMQP and must not be reconfigured, so the tests put this proxy
in front of it: it accepts TLS on 127.0.0.1:<free port>, requires a client certificate signed by
the test CA, and forwards the decrypted bytes to 127.0.0.1:5672.
"""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Identity:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Identity:
    identity = Identity(folder / f"{stem}.crt", folder / f"{stem}.key")
    identity.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    identity.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return identity


class CertificateAuthority:
    """A CA of its own, whose certificate and key live in `folder`, issuing leaf certificates."""

    def __init__(self, folder: Path, name: str):
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.identity = _write(folder, name, self.cert, self.key)

    @property
    def bundle(self) -> Path:
        return self.identity.cert

    def issue(self, stem: str, common_name: str, *, server: bool) -> Identity:
        """A server certificate for `common_name` and 127.0.0.1, or a client certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(common_name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return _write(self.folder, stem, builder.sign(self.key, hashes.SHA256()), key)


class TLSProxy:
    """Accepts TLS on 127.0.0.1:<free port>, requires a client certificate signed by `client_ca`,
    and forwards each connection's bytes to `upstream`. One thread per connection, at most
    MAX_CONNECTIONS at once; `stop()` closes everything and joins the threads."""

    MAX_CONNECTIONS = 32
    POLL_SECONDS = 0.2

    def __init__(self, server: Identity, client_ca: Path, upstream: tuple[str, int]):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(server.cert, server.key)
        self.context.load_verify_locations(client_ca)
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(self.POLL_SECONDS)
        self.port = self.listener.getsockname()[1]
        self.refused: list[str] = []  # why each refused handshake failed, as the proxy saw it
        self.forwarded = 0
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(self.MAX_CONNECTIONS)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __enter__(self) -> TLSProxy:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        accepting, *_ = self._threads
        accepting.join(timeout=5)  # after this, no connection thread starts
        for thread in list(self._threads):
            thread.join(timeout=5)
        self.listener.close()
        alive = [t for t in self._threads if t.is_alive()]
        assert not alive, f"TLS proxy threads still running: {alive}"

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="tls-proxy")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            if not self._slots.acquire(timeout=5):
                raw.close()
                continue
            self._spawn(self._serve, raw)

    def _serve(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(5)
            try:
                client = self.context.wrap_socket(raw, server_side=True)  # handshake; checks the client's cert
            except (ssl.SSLError, OSError) as exc:
                with self._lock:
                    self.refused.append(str(exc))
                raw.close()
                return
            with client, socket.create_connection(self.upstream, timeout=5) as broker:
                with self._lock:
                    self.forwarded += 1
                self._pump(client, broker)
        finally:
            self._slots.release()

    def _pump(self, client: ssl.SSLSocket, broker: socket.socket) -> None:
        """Copy bytes both ways until either side closes or the proxy stops."""
        while not self._stopping.is_set():
            # bytes already decrypted inside the SSL object do not make the socket readable
            readable = [client] if client.pending() else select.select([client, broker], [], [], self.POLL_SECONDS)[0]
            for source in readable:
                target = broker if source is client else client
                try:
                    data = source.recv(65536)
                    if not data:
                        return
                    target.sendall(data)
                except (ssl.SSLError, OSError):
                    return
