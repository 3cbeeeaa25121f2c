"""The sign-in's configuration from the environment, for the console served by uvicorn
(guichet_operations/console/serve.py) and the containers. A variable missing or wrong stops the
console with the variable's name: a console that starts without its sign-in serves nobody safely.

    GUICHET_CONSOLE_SECRET          32 characters or more, random (CSRF tokens)
    GUICHET_CONSOLE_HOSTS           the names the console is reached by, comma-separated
    GUICHET_CONSOLE_HTTPS           1 (default: Secure cookies, HSTS) or 0 behind no TLS at all
    GUICHET_CONSOLE_SESSION_MINUTES idle limit (30); GUICHET_CONSOLE_SESSION_MAX_HOURS (10)
    GUICHET_CONSOLE_OIDC_ISSUER     with _CLIENT_ID, _CLIENT_SECRET, _REDIRECT_BASE, and optionally
                                    _ROLE_CLAIM (guichet_role) and _SCOPES: the OIDC federation"""

from __future__ import annotations

from collections.abc import Mapping

from guichet_operations.console.auth.config import AuthConfig, AuthNotConfigured, OidcConfig

PREFIX = "GUICHET_CONSOLE_"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(PREFIX + name, "").strip()
    if not value:
        raise AuthNotConfigured(f"{PREFIX}{name} : manquant (voir docs/console-access.md)")
    return value


def _number(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(PREFIX + name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise AuthNotConfigured(f"{PREFIX}{name} : un nombre entier positif, pas {text!r}")
    return int(text)


def auth_config_from_environment(env: Mapping[str, str]) -> AuthConfig:
    https = env.get(PREFIX + "HTTPS", "1").strip().lower()
    if https not in ("1", "0", "true", "false"):
        raise AuthNotConfigured(f"{PREFIX}HTTPS : 1 ou 0, pas {https!r}")
    oidc = None
    if env.get(PREFIX + "OIDC_ISSUER", "").strip():
        oidc = OidcConfig(
            issuer=_required(env, "OIDC_ISSUER"),
            client_id=_required(env, "OIDC_CLIENT_ID"),
            client_secret=_required(env, "OIDC_CLIENT_SECRET"),
            redirect_base=_required(env, "OIDC_REDIRECT_BASE"),
            role_claim=env.get(PREFIX + "OIDC_ROLE_CLAIM", "").strip() or "guichet_role",
            scopes=env.get(PREFIX + "OIDC_SCOPES", "").strip() or "openid profile email",
        )
    try:
        return AuthConfig(
            session_secret=_required(env, "SECRET"),
            allowed_hosts=[h.strip() for h in _required(env, "HOSTS").split(",") if h.strip()],
            https_only=https in ("1", "true"),
            oidc=oidc,
            session_minutes=_number(env, "SESSION_MINUTES", 30),
            session_max_hours=_number(env, "SESSION_MAX_HOURS", 10),
        )
    except AuthNotConfigured as exc:
        message = str(exc)
        if message.startswith("session_secret"):
            raise AuthNotConfigured(f"{PREFIX}SECRET : au moins 32 caractères aléatoires") from None
        raise
