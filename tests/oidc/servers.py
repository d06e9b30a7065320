"""OpenID Connect providers the tests sign in through, each a real HTTP server on 127.0.0.1.

``node_provider``: the npm package oidc-provider (tests/oidc/provider.mjs), a complete
provider with sign-in pages, discovery, JWKS and RP-initiated logout. With CI=true a
provider that cannot start (no node, no ``npm ci``) is a failure, not a skip.

``CraftedProvider``: a small provider whose token endpoint hands out ID tokens the test
shapes (a forged signature, another audience or issuer, an expired token, no nonce), signed
with joserfc (Authlib's JOSE library), so the app fetches the discovery document and keys
and exchanges the code over HTTP exactly as it does with a real provider. Its codes can be
used again, so a test of a replayed ``state`` shows the app refusing it by itself.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.required import missing

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = Path(__file__).with_name("provider.mjs")
CLIENT_ID = "pace-flow"
CLIENT_SECRET = "client-secret-for-tests-only-0123456789"


@dataclass
class NodeProvider:
    issuer: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)


@contextlib.contextmanager
def node_provider(base_url: str, users: dict[str, dict]):
    """oidc-provider for a PACE Flow at ``base_url`` with ``users`` (sub -> claims)."""
    node = shutil.which("node")
    if node is None:
        missing("node (apt-get install nodejs)")
    if not (ROOT / "node_modules" / "oidc-provider").exists():
        missing("node_modules/oidc-provider (npm ci)")
    config = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "redirect_uris": [f"{base_url}/sign-in/oidc/callback"],
              "post_logout_redirect_uris": [f"{base_url}/signed-out"], "users": users}
    process = subprocess.Popen([node, str(PROVIDER_SCRIPT)], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)})
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        if not first or not first[0].strip():
            process.kill()
            _, errors = process.communicate(timeout=10)
            message = f"oidc-provider did not start: {errors.strip()[-2000:]}"
            missing(message)
        yield NodeProvider(json.loads(first[0])["issuer"], process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# -- a provider whose tokens the test shapes --------------------------------------------------
FAULTS = ("none", "forged_signature", "wrong_audience", "wrong_issuer", "expired", "no_nonce")


class CraftedProvider:
    """Discovery, JWKS, an authorization endpoint that answers at once with a code, and a
    token endpoint issuing an ID token with ``fault`` (one of FAULTS) for ``claims``."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "signing-key", "use": "sig"})
        # same key id, another key: what a forger without the provider's private key makes
        self.forger_key = RSAKey.generate_key(2048, parameters={"kid": "signing-key"})
        self.fault = "none"
        self.claims: dict = {}
        self.nonces: dict[str, str] = {}   # code -> nonce of the authorization request
        self.token_requests = 0
        self.published_issuer: str | None = None  # the discovery document's, when not ours
        self.publishes_keys = True                # False: a discovery document without jwks_uri
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "CraftedProvider":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "crafted-subject", "aud": CLIENT_ID,
                  "iat": now, "exp": now + 300, "nonce": nonce, **self.claims}
        key = self.key
        if self.fault == "forged_signature":
            key = self.forger_key
        elif self.fault == "wrong_audience":
            claims["aud"] = "another-service"
        elif self.fault == "wrong_issuer":
            claims["iss"] = "http://127.0.0.1:1/another-provider"
        elif self.fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.fault == "no_nonce":
            claims.pop("nonce")
        return jwt.encode({"alg": "RS256", "kid": "signing-key"}, claims, key)

    def metadata(self) -> dict:
        found = {"issuer": self.published_issuer or self.issuer,
                 "authorization_endpoint": f"{self.issuer}/authorize",
                 "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                 "end_session_endpoint": f"{self.issuer}/session/end",
                 "response_types_supported": ["code"], "subject_types_supported": ["public"],
                 "id_token_signing_alg_values_supported": ["RS256"],
                 "code_challenge_methods_supported": ["S256"]}
        if not self.publishes_keys:
            del found["jwks_uri"]
        return found

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):  # quiet
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata())
                if parts.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if parts.path == "/authorize":
                    code = secrets.token_urlsafe(16)
                    provider.nonces[code] = query.get("nonce")
                    target = f"{query['redirect_uri']}?" + urlencode(
                        {"code": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json({"error": "not_found"}, 404)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/token" or form.get("code") not in provider.nonces:
                    return self._json({"error": "invalid_grant"}, 400)
                provider.token_requests += 1
                return self._json({"access_token": secrets.token_urlsafe(16),
                                   "token_type": "Bearer", "expires_in": 300,
                                   "id_token": provider.id_token(provider.nonces[form["code"]])})

        return Handler
