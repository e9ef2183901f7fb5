"""The tinyshakespeare loader: the shipped file, the fixed splits, malformed files."""

import pytest

from labrnn.datasets import tinyshakespeare


def test_shipped_text_and_splits():
    text = tinyshakespeare.load_text()
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")
    train, val, test = tinyshakespeare.load_splits()
    assert train + val + test == text
    assert (len(train), len(val), len(test)) == (892_315, 111_539, 111_540)


def test_split_text_by_hand():
    assert tinyshakespeare.split_text("abcdefghij" * 2, val=0.25, test=0.25) == \
        ("abcdefghij", "abcde", "fghij")


def test_malformed_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at .*absent.txt"):
        tinyshakespeare.load_text(tmp_path / "absent.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\u00e9".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt is not UTF-8 text \(byte 3 is 0xe9\)"):
        tinyshakespeare.load_text(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.txt is empty"):
        tinyshakespeare.load_text(empty)


def test_split_errors():
    with pytest.raises(TypeError, match="text must be a str, received bytes"):
        tinyshakespeare.split_text(b"abc")
    with pytest.raises(ValueError, match=r"val must be a share in \(0, 1\), received 0"):
        tinyshakespeare.split_text("a" * 100, val=0)
    with pytest.raises(ValueError, match="val \\+ test must be below 1"):
        tinyshakespeare.split_text("a" * 100, val=0.5, test=0.5)
    with pytest.raises(ValueError, match="too short to split"):
        tinyshakespeare.split_text("abcde")
