"""The file follower: only what was appended, whole lines only, files cut or replaced read again
from their start, and never a FIFO; the polling loop stops when done or cancelled."""

from __future__ import annotations

import os

import pytest

from vgtui.core.store.follow import FileFollower, polls


def append(path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def test_a_missing_file_has_no_lines_until_it_appears(tmp_path):
    path = tmp_path / "cells.jsonl"
    follower = FileFollower(path)
    assert follower.read() == ([], False)
    append(path, b"a\n")
    assert follower.read() == ([b"a"], False)


def test_each_read_gives_only_the_lines_appended_since_the_last(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"one\ntwo\n")
    follower = FileFollower(path)
    assert follower.read() == ([b"one", b"two"], False)
    assert follower.read() == ([], False)
    append(path, b"three\n\nfive\n")
    assert follower.read() == ([b"three", b"", b"five"], False)
    assert follower.bytes_read == path.stat().st_size  # every byte read once


def test_a_partial_last_line_waits_for_its_newline(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b"')
    follower = FileFollower(path)
    assert follower.read() == ([b'{"a": 1}'], False)
    append(path, b": 2")
    assert follower.read() == ([], False)
    assert follower.lines_end == len(b'{"a": 1}\n')  # where a writer resuming would cut
    append(path, b"}\n")
    assert follower.read() == ([b'{"b": 2}'], False)
    assert follower.bytes_read == follower.lines_end == path.stat().st_size


def test_lines_end_at_newlines_only(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"a\rb\r\nc\x0bd\n")
    assert FileFollower(path).read() == ([b"a\rb\r", b"c\x0bd"], False)


def test_a_cut_file_is_read_again_from_its_start(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"one\ntwo\npart")
    follower = FileFollower(path)
    follower.read()
    with open(path, "r+b") as handle:  # the same file, cut
        handle.truncate(0)
        handle.write(b"new\n")
    assert follower.read() == ([b"new"], True)
    assert follower.read() == ([], False)


def test_a_replaced_file_is_read_again_from_its_start_even_when_longer(tmp_path):
    path = tmp_path / "cells.jsonl"
    path.write_bytes(b"old\n")
    follower = FileFollower(path)
    assert follower.read() == ([b"old"], False)
    other = tmp_path / "other"
    other.write_bytes(b"first\nsecond\nthird\n")
    os.replace(other, path)
    assert follower.read() == ([b"first", b"second", b"third"], True)
    append(path, b"fourth\n")
    assert follower.read() == ([b"fourth"], False)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_an_error_not_a_reader_blocked_forever(tmp_path):
    path = tmp_path / "records.jsonl"
    os.mkfifo(path)
    with pytest.raises(OSError, match="not a regular file"):
        FileFollower(path).read()


def test_a_folder_is_an_error(tmp_path):
    with pytest.raises(OSError, match="not a regular file"):
        FileFollower(tmp_path).read()


def test_polls_come_round_until_the_follower_stops_or_is_cancelled():
    looks = [look for look, _ in zip(range(3), polls(seconds=0), strict=False)]
    assert looks == [0, 1, 2]
    cancelled = []
    for _ in polls(cancelled=lambda: len(cancelled) >= 2, seconds=0):
        cancelled.append(1)
    assert cancelled == [1, 1]
