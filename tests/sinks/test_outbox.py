"""The durable outbox keeps what the broker has not acknowledged, across restarts."""

from __future__ import annotations

from warning.sinks.outbox import Outbox


def test_what_is_not_done_comes_back(tmp_path):
    box = Outbox(tmp_path)
    numbers = [box.add(f"t/{i}", f"p{i}".encode()) for i in range(5)]
    box.sync()
    box.done(numbers[1])
    box.done(numbers[3])
    box.done(numbers[3])  # a second PUBACK report changes nothing
    box.close()  # or a crash: the adds were synced
    again = Outbox(tmp_path)
    assert again.pending == {0: ("t/0", b"p0"), 2: ("t/2", b"p2"), 4: ("t/4", b"p4")}
    assert again.add("t/5", b"p5") == 5  # numbers go on


def test_a_line_cut_by_a_crash_is_skipped(tmp_path):
    box = Outbox(tmp_path)
    box.add("t", b"\x00binary\xff")
    box.sync()
    box.close()
    with (tmp_path / "outbox.jsonl").open("ab") as f:
        f.write(b'{"n": 1, "topic": "t", "pay')
    assert Outbox(tmp_path).pending == {0: ("t", b"\x00binary\xff")}


def test_the_file_starts_afresh_when_everything_is_done(tmp_path):
    box = Outbox(tmp_path)
    for _ in range(100):
        box.done(box.add("hazard/warnings/x/y", b"x" * 500))
    box.sync()
    assert (tmp_path / "outbox.jsonl").stat().st_size == 0
    assert Outbox(tmp_path).pending == {}
