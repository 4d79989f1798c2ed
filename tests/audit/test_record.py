"""Record ids and chains: what makes a lost or edited record show."""

from __future__ import annotations

import time
import uuid

from resync_tui.audit.record import GENESIS, Writer, canonical, record_hash, uuid7


def test_uuid7_has_the_rfc_9562_layout_and_the_time_in_its_first_48_bits() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid.UUID(uuid7())
    assert value.version == 7 and value.variant == uuid.RFC_4122
    # the ms may run a little ahead (never behind) after a burst: that keeps the order
    assert before <= value.int >> 80 <= time.time_ns() // 1_000_000 + 1000


def test_uuid7_ids_keep_increasing_when_the_clock_stands_still_or_steps_back() -> None:
    ids = [uuid7(1_700_000_000_000_000_000) for _ in range(10_000)]
    ids += [uuid7(1_600_000_000_000_000_000) for _ in range(100)]  # the clock stepped back
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_canonical_json_is_sorted_and_compact_whatever_order_the_fields_came_in() -> None:
    assert canonical({"b": 1, "a": {"d": "é", "c": None}}) == '{"a":{"c":null,"d":"é"},"b":1}'
    assert record_hash({"b": 1, "a": 2}) == record_hash({"a": 2, "b": 1})


def test_a_writer_numbers_its_records_and_links_each_to_the_hash_of_the_one_before() -> None:
    writer = Writer()
    first = writer.make({"action": "hold"})
    writer.commit(first)
    second = writer.make({"action": "release"})
    assert (first["seq"], first["prev"]) == (1, GENESIS)
    assert (second["seq"], second["prev"]) == (2, record_hash(first))
    assert first["writer"] == second["writer"] == writer.id
    assert Writer().id != writer.id  # a restart is a new writer, even in the same process


def test_a_record_that_never_reached_the_spool_does_not_move_the_chain() -> None:
    writer = Writer()
    lost = writer.make({"action": "hold"})  # e.g. the disk was full: not committed
    kept = writer.make({"action": "hold"})
    assert lost["seq"] == kept["seq"] == 1
