"""The tinyshakespeare text (book chapter 13): loader and the fixed splits.

``data/tinyshakespeare/input.txt`` ships with the project (public-domain plays, the
selection published in Karpathy's char-rnn repository, MIT; see ``SOURCE.md`` beside
it). The splits are by position, so no character of the test text is seen in training:

======  ==========================  ===========
split   characters                  share
======  ==========================  ===========
train   ``[0, 0.8 N)``              80%
val     ``[0.8 N, 0.9 N)``          10%
test    ``[0.9 N, N)``              10% (the end of the file)
======  ==========================  ===========
"""

from __future__ import annotations

from . import data_file

__all__ = ["load_text", "split_text", "load_splits", "TEXT_FILE"]

TEXT_FILE = ("tinyshakespeare", "input.txt")


def load_text(path=None) -> str:
    """The whole text as a ``str`` (UTF-8). ``path`` overrides the shipped file.

    A missing file raises ``FileNotFoundError`` naming it; a file that is not UTF-8
    text or is empty raises ``ValueError`` naming the file.
    """
    path = data_file(*TEXT_FILE) if path is None else path
    from pathlib import Path
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tinyshakespeare: no file at {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"tinyshakespeare: {path} is not UTF-8 text (byte {exc.start} "
                         f"is {raw[exc.start]:#04x}); expected the plain-text input.txt") from exc
    if not text:
        raise ValueError(f"tinyshakespeare: {path} is empty; expected about 1.1 MB of text")
    return text


def split_text(text, val=0.1, test=0.1):
    """``(train, val, test)`` strings: the last ``test`` share is test, the ``val`` share
    before it validation, the rest training (cut points rounded down)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, received {type(text).__name__}")
    for name, share in (("val", val), ("test", test)):
        if not 0 < share < 1:
            raise ValueError(f"{name} must be a share in (0, 1), received {share}")
    if val + test >= 1:
        raise ValueError(f"val + test must be below 1 to leave training text, received "
                         f"{val} + {test}")
    n = len(text)
    a, b = int(n * (1 - val - test)), int(n * (1 - test))
    if a < 2 or b - a < 2 or n - b < 2:
        raise ValueError(f"text of {n} characters is too short to split into train/val/test")
    return text[:a], text[a:b], text[b:]


def load_splits(path=None):
    """``(train, val, test)`` of the shipped text (80/10/10 by position)."""
    return split_text(load_text(path))
