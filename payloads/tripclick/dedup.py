"""The dedup key of a click (ARCHITECTURE 3.2), computed here and nowhere else.

The key depends on source fields only, so a retried send, a replay with time
compression or a second producer all give the same key for the same click.
xxhash is imported at module level on purpose: a host without it fails at import
instead of writing keys that would never match the ones written elsewhere.
"""

from __future__ import annotations

import xxhash

_SEED = 0


def dedup_key(session_id: str, document_id: int, click_ms: int) -> str:
    """xxhash64 (seed 0) of ``SessionId|DocumentId|<original click time in Unix ms>``.

    Returns 16 lower-case hex digits (zero-padded).
    """
    return xxhash.xxh64_hexdigest(f"{session_id}|{document_id}|{click_ms}".encode(), _SEED)
