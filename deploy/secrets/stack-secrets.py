"""The stack's own secrets, made once before anything starts (docker-compose.yml's secrets-setup):
the broker administrator's password and client certificate, the Erlang cookie, the PostgreSQL
superuser's password, Grafana's administrator password, and a certificate authority of the stack
with the broker's and PostgreSQL's server certificates and one client certificate per party that
connects to the broker (the four agencies, the supervision service, the portal, the operator).

Each consumer has a volume of its own, mounted here under /stack-secrets/<volume>; a file that is
there is kept, so a second run changes nothing. Delete a file (or the volume) and run it again to
renew it; a new authority renews every certificate it signs. Runs as root in the guichet image:
the files belong to the account that reads them, mode 0600 (0644 for certificates).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(os.environ.get("GUICHET_STACK_SECRETS", "/stack-secrets"))
GUICHET_UID = int(os.environ.get("GUICHET_UID", "10001"))  # the services' user in the guichet image
GRAFANA_UID = 472  # the grafana image's user
CLIENTS = ("ofii", "smoe", "consulat", "prefecture", "supervision", "portal", "operateur")
BROKER_NAMES = ("rabbitmq", "rabbit-2", "rabbit-3", "localhost")
POSTGRES_NAMES = ("postgres", "localhost")
CERTIFICATE_DAYS = 825
now = datetime.now(UTC)
made: list[str] = []


def write(path: Path, data: bytes, owner: int = 0, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    new = path.with_name(path.name + ".new")
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(new, owner, owner)
    os.chmod(new, mode)
    new.replace(path)
    made.append(str(path.relative_to(ROOT)))


def secret(path: Path, owner: int = 0, nbytes: int = 24) -> None:
    if not (path.exists() and path.stat().st_size):
        write(path, secrets.token_hex(nbytes).encode(), owner)


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "guichet unique"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def authority(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, bool]:
    key_file, cert_file = folder / "ca.key", folder / "ca.crt"
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate(cert_file.read_bytes()), False
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("guichet unique - autorité de la pile"))
        .issuer_name(name("guichet unique - autorité de la pile"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write(key_file, pem_key(key))
    write(cert_file, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return key, cert, True


def issue(ca: tuple, folder: Path, stem: str, common_name: str, hosts: tuple[str, ...], owner: int) -> None:
    """A certificate signed by the stack's authority (a server's when `hosts` are given, else a
    client's), with the authority's certificate beside it; kept unless missing or the authority is new."""
    ca_key, ca_cert, renewed = ca
    cert_file, key_file = folder / f"{stem}.crt", folder / f"{stem}.key"
    if not renewed and cert_file.exists() and key_file.exists() and (folder / "ca.crt").exists():
        return
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if hosts else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if hosts:
        names: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    write(key_file, pem_key(key), owner)
    write(cert_file, cert.public_bytes(serialization.Encoding.PEM), owner, 0o644)
    write(folder / "ca.crt", ca_cert.public_bytes(serialization.Encoding.PEM), owner, 0o644)


def main() -> int:
    missing = [v for v in ("ca", "rabbitmq", "broker-admin", "postgres", "postgres-admin") if not (ROOT / v).is_dir()]
    missing += [f"tls-{c}" for c in CLIENTS if not (ROOT / f"tls-{c}").is_dir()]
    if missing:
        print(f"stack-secrets: no volume mounted at {ROOT}/ for: {', '.join(missing)}", file=sys.stderr)
        return 1
    ca = authority(ROOT / "ca")
    secret(ROOT / "rabbitmq" / "erlang.cookie", nbytes=32)
    issue(ca, ROOT / "rabbitmq", "server", "rabbitmq", BROKER_NAMES, 0)
    secret(ROOT / "broker-admin" / "password", GUICHET_UID)
    issue(ca, ROOT / "broker-admin", "client", "guichet-admin", (), GUICHET_UID)
    issue(ca, ROOT / "postgres", "server", "postgres", POSTGRES_NAMES, 0)
    secret(ROOT / "postgres-admin" / "superuser-password")
    write(ROOT / "postgres-admin" / "ca.crt", ca[1].public_bytes(serialization.Encoding.PEM), mode=0o644)
    for client in CLIENTS:
        issue(ca, ROOT / f"tls-{client}", "client", client, (), GUICHET_UID)
    if (ROOT / "grafana").is_dir():
        secret(ROOT / "grafana" / "admin-password", GRAFANA_UID)
    made.remove("postgres-admin/ca.crt")
    for folder in ROOT.iterdir():  # each volume readable by its consumer alone
        owner = {"grafana": GRAFANA_UID, "broker-admin": GUICHET_UID}.get(folder.name, 0)
        owner = GUICHET_UID if folder.name.startswith("tls-") else owner
        os.chown(folder, owner, owner)
        os.chmod(folder, 0o700)
    print(f"stack-secrets: made {', '.join(made) if made else 'nothing (every secret was there)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
