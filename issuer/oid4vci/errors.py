"""OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3.1) and OpenID4VCI error responses."""

from __future__ import annotations

from flask import Response, jsonify


class OAuthError(Exception):
    """A refusal the client reads as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        response = jsonify({"error": self.error, "error_description": self.description})
        response.status_code = self.status
        response.headers["Cache-Control"] = "no-store"
        if self.status == 401:
            response.headers["WWW-Authenticate"] = (
                f'Bearer error="{self.error}", error_description="{self.description[:200]}"'
            )
        return response


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_proof", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_credential_request(description: str) -> OAuthError:
    return OAuthError("invalid_credential_request", description)
