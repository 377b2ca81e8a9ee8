"""LookupOutcome: what the client says about one hash."""

from __future__ import annotations

from dataclasses import dataclass

IDENTIFIED, UNKNOWN, ERROR = "identified", "unknown", "error"


@dataclass(frozen=True)
class LookupOutcome:
    """One answer per hash asked.

    status "identified" → ``civitai_info`` (``CivitaiInfo``, docs/internals.md);
    "unknown" → CivitAI said it does not know the hash (safe to store as unknown);
    "error" → no answer (``error`` is a sentence, ``error_kind`` one of rate_limited,
    server_error, timeout, network, cloudflare, bad_response, auth). An error is never an
    "unknown".
    """

    hash: str
    status: str
    civitai_info: dict | None = None
    error: str | None = None
    error_kind: str | None = None

    @classmethod
    def identified(cls, hash_: str, info: dict) -> LookupOutcome:
        return cls(hash_, IDENTIFIED, civitai_info=info)

    @classmethod
    def unknown(cls, hash_: str) -> LookupOutcome:
        return cls(hash_, UNKNOWN)

    @classmethod
    def failed(cls, hash_: str, message: str, kind: str) -> LookupOutcome:
        return cls(hash_, ERROR, error=message, error_kind=kind)

    def to_json(self) -> dict:
        return {
            "hash": self.hash,
            "status": self.status,
            "civitai_info": self.civitai_info,
            "error": self.error,
            "error_kind": self.error_kind,
        }
