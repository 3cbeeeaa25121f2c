"""Signing in through the administration's OpenID Connect federation: the Authorization Code flow with
PKCE (S256), a state and a nonce, done by Authlib, which also checks the ID token (signature against
the provider's published keys, issuer, audience, expiry, nonce). The console adds what is its own: the
RFC 9207 `iss` parameter when the provider sends one, and the role, read from the claim `role_claim`;
a person whose claim names no console role is refused, and the refusal journaled."""

from __future__ import annotations

import secrets
import warnings
from typing import Any

import authlib.deprecate  # first: its own "always" filter must be in place before the one below
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from guichet_operations.console.auth import journal as j
from guichet_operations.console.auth.config import OidcConfig
from guichet_operations.console.auth.people import OIDC, ROLES, Person
from guichet_operations.console.auth.signin import auth_of, local_path, refusal_page, start_session
from guichet_operations.supervision.store import Store

with warnings.catch_warnings():
    # Authlib 1.9 warns, on every import, that it speaks through httpx rather than its successor httpx2;
    # httpx is what the console's stack ships, and the API Authlib uses is the same.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth

UNREACHABLE = "Le fournisseur d'identité de l'administration ne répond pas : réessayez dans un moment."
MISMATCH = "La réponse du fournisseur d'identité ne correspond à aucune connexion en cours : recommencez."


class Refused(Exception):
    """The provider's answer is not one the console takes; the message is shown to the person."""


def _name(claims: dict[str, Any]) -> str:
    if claims.get("name"):
        return str(claims["name"])
    joined = " ".join(str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
    return joined or str(claims.get("email") or claims["sub"])


class OidcSignIn:
    def __init__(self, store: Store, oidc: OidcConfig):
        self.store, self.oidc = store, oidc
        self.client: Any = OAuth().register(
            name="administration",
            client_id=oidc.client_id,
            client_secret=oidc.client_secret,
            server_metadata_url=oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": oidc.scopes, "code_challenge_method": "S256"},
        )

    async def start(self, request: Request) -> Response:
        suite = local_path(request.query_params.get("suite"))
        try:
            metadata = await self.client.load_server_metadata()
            found = await self.client.create_authorization_url(self.oidc.redirect_uri, nonce=secrets.token_urlsafe(24))
        except Exception:  # the provider is down or answers nonsense: say so, sign nobody in
            return refusal_page(request, UNREACHABLE, 502)
        if metadata.get("issuer") != self.oidc.issuer:
            return refusal_page(request, "Le fournisseur d'identité ne se présente pas sous l'émetteur configuré.", 502)
        pending = {k: found[k] for k in ("state", "nonce", "code_verifier")} | {"suite": suite}
        response = RedirectResponse(found["url"], status_code=303)
        # A session for nobody yet carries what the answer is checked against; sign-in replaces it.
        await start_session(request, None, response, pending)
        return response

    async def back(self, request: Request) -> Response:
        auth = auth_of(request)
        pending = auth.session.pending if auth.session else {}
        now = auth.config.now()
        try:
            claims = await self._claims(request, pending)
            person = self._person(claims)
        except Refused as exc:
            subject = f"oidc:{exc.args[1]}" if len(exc.args) > 1 else "oidc:?"
            await run_in_threadpool(j.journal, self.store, now, j.REFUSED, subject, subject, None, via=OIDC,
                                    reason=str(exc.args[0]))  # fmt: skip
            if auth.session is not None:  # an answer is taken once: the next one needs a new start
                await run_in_threadpool(auth.sessions.set_pending, auth.session.id, {})
            return refusal_page(request, str(exc.args[0]))
        await run_in_threadpool(j.journal, self.store, now, j.SIGN_IN, person.identifier, person.name, person.role,
                                via=OIDC)  # fmt: skip
        response = RedirectResponse(local_path(pending.get("suite")), status_code=303)
        await start_session(request, person, response)
        return response

    async def _claims(self, request: Request, pending: dict[str, Any]) -> dict[str, Any]:
        query = request.query_params
        if not pending.get("state") or not secrets.compare_digest(str(query.get("state", "")), pending["state"]):
            raise Refused(MISMATCH)
        if query.get("error"):
            raise Refused(f"Le fournisseur d'identité a refusé la connexion ({query['error']}).")
        # RFC 9207: the answer names the issuer that sent it, so that another provider's code is not taken.
        if "iss" in query and query["iss"] != self.oidc.issuer:
            raise Refused(MISMATCH)
        try:
            token = await self.client.fetch_access_token(
                redirect_uri=self.oidc.redirect_uri, code=query.get("code", ""), code_verifier=pending["code_verifier"]
            )
            claims = dict(await self.client.parse_id_token(token, nonce=pending["nonce"]))
            if self.oidc.role_claim not in claims and (await self.client.load_server_metadata()).get(
                "userinfo_endpoint"
            ):
                # Some providers put extra claims only in the UserInfo answer: take it, for the same subject.
                info = dict(await self.client.userinfo(token=token))
                if info.get("sub") == claims["sub"]:
                    claims = info | claims
        except Exception as exc:  # a refused code, a bad signature, a wrong nonce or audience: nobody signs in
            raise Refused(f"Le jeton du fournisseur d'identité n'a pas été accepté ({type(exc).__name__}).") from exc
        return claims

    def _person(self, claims: dict[str, Any]) -> Person:
        role = claims.get(self.oidc.role_claim)
        if role not in ROLES:
            raise Refused(
                f"Votre compte de l'administration ne donne aucun rôle dans la console (attribut "
                f"« {self.oidc.role_claim} » absent ou inconnu) : demandez-le à votre gestionnaire d'habilitations.",
                claims["sub"],
            )
        return Person(f"oidc:{claims['sub']}", _name(claims), str(role), OIDC)

    def routes(self) -> list[Route]:
        return [
            Route("/connexion/oidc", self.start, methods=["GET"]),
            Route("/connexion/oidc/retour", self.back, methods=["GET"]),
        ]
