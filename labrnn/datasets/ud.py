"""Universal Dependencies English EWT in CoNLL-U, for part-of-speech tagging (book chapter 15).

The files ship in ``data/ud_english_ewt/`` (UD English EWT v2.15, CC BY-SA 4.0, with its
``LICENSE.txt`` and ``README.md``): ``en_ewt-ud-dev.conllu`` (2,001 sentences) and
``en_ewt-ud-test.conllu`` (2,077 sentences). The treebank's much larger train file is
not shipped, so the chapter TRAINS on the dev file, holds out its last sentences for
validation (:func:`load_ud_splits`) and tests on the test file.

CoNLL-U, as read by :func:`read_conllu`: one token per line with 10 tab-separated fields
``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``; comment lines start with ``#``;
a blank line ends a sentence. Two kinds of lines are not words and are skipped:

* multiword-token ranges, ID ``1-2`` (``don't`` spans the words ``do`` and ``n't``, which
  follow on their own lines with their own tags);
* empty nodes of the enhanced graph, ID ``1.1`` (no UPOS, not part of the surface text).

A line with another number of fields, an ID that is not a number, or a UPOS outside
the 17 tags of :data:`UPOS` raises ``ValueError`` naming the file and the line.
"""

from __future__ import annotations

import re

from . import data_file

__all__ = ["UPOS", "FILES", "read_conllu", "load_ud", "load_ud_splits", "ud_files"]

UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
FOLDER = "ud_english_ewt"
FILES = {"dev": "en_ewt-ud-dev.conllu", "test": "en_ewt-ud-test.conllu"}
_RANGE, _EMPTY, _WORD = re.compile(r"^\d+-\d+$"), re.compile(r"^\d+\.\d+$"), re.compile(r"^\d+$")


def read_conllu(path):
    """Sentences of a CoNLL-U file as ``[(words, tags), ...]``, two lists of strings each.

    Skips comments, multiword-token ranges (``1-2``) and empty nodes (``1.1``). Raises
    ``ValueError`` naming the file and line for a line without 10 tab-separated fields,
    a malformed ID, or an unknown UPOS tag; ``FileNotFoundError`` for a missing file.
    """
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                if words:
                    sentences.append((words, tags))
                    words, tags = [], []
                continue
            if line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise ValueError(f"{path}, line {number}: a CoNLL-U token line has 10 "
                                 f"tab-separated fields, found {len(fields)}: {line[:60]!r}")
            ident = fields[0]
            if _RANGE.match(ident) or _EMPTY.match(ident):
                continue
            if not _WORD.match(ident):
                raise ValueError(f"{path}, line {number}: the ID must be a number, a range "
                                 f"'1-2' or an empty node '1.1', found {ident!r}")
            if fields[3] not in UPOS:
                raise ValueError(f"{path}, line {number}: unknown UPOS tag {fields[3]!r}; "
                                 f"expected one of the 17 tags {list(UPOS)}")
            words.append(fields[1])
            tags.append(fields[3])
    if words:
        sentences.append((words, tags))
    if not sentences:
        raise ValueError(f"{path} holds no sentences")
    return sentences


def ud_files():
    """Paths of the two shipped CoNLL-U files (for a checkpoint's data checksums)."""
    return [data_file(FOLDER, FILES[k]) for k in ("dev", "test")]


def load_ud(split):
    """``read_conllu`` of the shipped ``"dev"`` or ``"test"`` file."""
    if split not in FILES:
        raise ValueError(f"split must be 'dev' or 'test', received {split!r}")
    return read_conllu(data_file(FOLDER, FILES[split]))


def load_ud_splits(valid_fraction=0.1):
    """The chapter's splits: ``{"train", "valid", "test"}``, each a list of ``(words, tags)``.

    ``train`` and ``valid`` come from the dev file: its last ``valid_fraction`` of the
    sentences (whole documents at the end of the file) are the validation part, the
    rest is for training. ``test`` is the test file. Sizes with the default: 1,801 /
    200 / 2,077 sentences.
    """
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1), received {valid_fraction}")
    dev = load_ud("dev")
    n_valid = int(round(valid_fraction * len(dev)))
    return {"train": dev[:-n_valid], "valid": dev[-n_valid:], "test": load_ud("test")}
