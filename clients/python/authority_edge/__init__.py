"""authority_edge: the Python edge verifier of authority's signed links.

- check_link(): the offline check of docs/link-format.md section 6, steps 1-7.
- EdgeVerifier: a JWK set plus the revocation bundle of docs/revocation-bundle.md; accept()
  takes full bundles, deltas and freshness objects (binary or JSON), check() gives the
  daemon's reason for steps 1-8 (plus `stale_bundle` and `needs_daemon`).

Standard library and `cryptography` only.
"""
from .bundle import (BundleObject, BundleRefused, Changes, Content, EdgeVerifier, HeldState,
                     Statement, parse_binary, parse_bundle, parse_json, parse_json_text)
from .link import (Key, KeySetError, Link, Malformed, canonical_path, check_link,
                   check_link_detail, load_jwks, parse_link)

LINK_REASONS = ("ok", "malformed", "unknown_key", "retired_key", "bad_signature", "expired",
                "not_yet_valid", "method_not_allowed", "resource_mismatch", "ip_mismatch")
EDGE_REASONS = LINK_REASONS + ("stale_bundle", "revoked", "needs_daemon")
BUNDLE_CODES = ("bad_format", "unknown_key", "bad_signature", "inactive_signer", "rolled_back",
                "base_mismatch", "digest_mismatch", "stale")

__all__ = ["BUNDLE_CODES", "BundleObject", "BundleRefused", "Changes", "Content", "EDGE_REASONS",
           "EdgeVerifier", "HeldState", "Key", "KeySetError", "LINK_REASONS", "Link", "Malformed",
           "Statement", "canonical_path", "check_link", "check_link_detail", "load_jwks",
           "parse_binary", "parse_bundle", "parse_json", "parse_json_text", "parse_link"]
