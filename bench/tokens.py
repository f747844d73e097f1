"""Bench API tokens: derived from the user id, so the bench can hold them in plain text
while the database keeps only knox digests (``accounts.tokens``), as in production.

``seed_bench`` and ``bench.cohorts`` write one knox ``AuthToken`` row per bench user
(digest of ``bench_token(user_id)``, no expiry); ``bench/run.py`` recomputes the tokens
for the users it drives. Throwaway databases only: anyone who knows this scheme can sign
in as any bench user.
"""

from __future__ import annotations

import hashlib

KEY_LENGTH = 15  # knox's ``CONSTANTS.TOKEN_KEY_LENGTH``: the token's first characters


def bench_token(user_id: int) -> str:
    """64 hex characters, the shape knox issues."""
    return hashlib.sha256(f"tiktok-bench-token:{user_id}".encode()).hexdigest()


def token_row(user_id: int) -> tuple[str, str]:
    """(digest, token key) of the bench token of ``user_id``, as knox stores them."""
    from accounts.tokens import token_digest

    token = bench_token(user_id)
    return token_digest(token), token[:KEY_LENGTH]
