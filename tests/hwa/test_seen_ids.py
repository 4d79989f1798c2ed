"""The ids a plan read has seen: kept in parts that never grow past ``_SEEN_PART``.

One dict grown to 200k ids rehashed all of them at once each time it grew (27-44 ms of
the event loop at 87k and 175k ids in a re-read); a part never holds more than
``_SEEN_PART``, so no rehash moves more than a part's worth.
"""

from __future__ import annotations

from resync_tui.hwa.client import _SEEN_PART, _SeenIds


def _page(start: int, size: int = 2000) -> set[str]:
    return {f"job-{i}" for i in range(start, start + size)}


def test_a_whole_plans_ids_are_kept_in_bounded_parts_and_all_found() -> None:
    seen = _SeenIds()
    for start in range(0, 200_000, 2000):
        assert seen.add_all_new(_page(start))
    parts = [*seen._full, seen._open]
    assert max(map(len, parts)) <= _SEEN_PART
    assert sum(map(len, parts)) == 200_000
    assert "job-0" in seen and "job-199999" in seen and "job-200000" not in seen


def test_a_page_repeating_one_id_seen_before_adds_none_of_its_ids() -> None:
    seen = _SeenIds()
    for start in range(0, 50_000, 2000):
        assert seen.add_all_new(_page(start))
    again = _page(60_000) | {"job-5"}  # one id from the first part
    assert not seen.add_all_new(again)
    assert "job-60000" not in seen
    seen.add("job-60000")
    assert "job-60000" in seen


def test_released_a_part_at_a_time_until_nothing_is_left() -> None:
    seen = _SeenIds()
    for start in range(0, 100_000, 2000):
        seen.add_all_new(_page(start))
    turns = 1
    while not seen.release():
        turns += 1
    assert turns == 5  # five parts of ten pages (20,000 ids), one a call
    assert "job-0" not in seen and "job-99999" not in seen
