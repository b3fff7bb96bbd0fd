"""Bounded least-recently-used tables: the verifier's caches (proofs, status lists, trust facts)
keep a fixed number of entries so that input anyone can send (URLs, DIDs, credentials) cannot
grow them without end."""

from __future__ import annotations

from collections import OrderedDict


def keep[K, V](entries: OrderedDict[K, V], key: K, value: V, most: int) -> None:
    """Store ``value`` as the newest entry and drop the oldest beyond ``most`` (the caller holds
    the table's lock)."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > most:
        entries.popitem(last=False)
