"""Identifiers: UUIDv7s from core.ids, one at a time and in blocks for bulk inserts."""

from __future__ import annotations

import uuid

from core import ids


def test_a_block_of_ids_is_v7_unique_and_ordered_with_single_ids() -> None:
    before = ids.new_id()
    block = [uuid.UUID(h) for h in ids.new_ids(1000)]
    after = ids.new_id()
    everything = [before, *block, after]
    assert everything == sorted(everything) and len(set(everything)) == 1002
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in everything)
    assert ids.new_ids(0) == []


def test_a_block_that_overflows_the_low_random_bits_carries_like_single_ids(monkeypatch) -> None:
    # The same millisecond and a counter just below rand_b's top: the block must carry into
    # rand_a exactly as new_id's counter does, never into the variant bits.
    monkeypatch.setattr(ids.time, "time_ns", lambda: 5_000_000_000)
    monkeypatch.setattr(ids, "_last_ms", 5000)
    monkeypatch.setattr(ids, "_last_rand", (1 << 62) - 3)
    block = [uuid.UUID(h) for h in ids.new_ids(5)]
    single = ids.new_id()
    assert [u.int for u in block] == [ids._layout(5000, (1 << 62) - 2 + k) for k in range(5)]
    assert block + [single] == sorted(block + [single]) and len(set(block + [single])) == 6
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in block)
