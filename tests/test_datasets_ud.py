"""labrnn.datasets.ud: the CoNLL-U reader on good and malformed files, and the splits."""

import pytest

from labrnn.datasets import ud

GOOD = """# sent_id = 1
# text = I don't know.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_
4.1\tknows\t_\t_\t_\t_\t_\t_\t_\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
"""


def _write(tmp_path, text):
    p = tmp_path / "x.conllu"
    p.write_text(text, encoding="utf-8")
    return p


def test_read_conllu_skips_ranges_and_empty_nodes(tmp_path):
    sents = ud.read_conllu(_write(tmp_path, GOOD))
    assert sents == [(["I", "do", "n't", "know", "."], ["PRON", "AUX", "PART", "VERB", "PUNCT"]),
                     (["Yes"], ["INTJ"])]


@pytest.mark.parametrize("line, message", [
    ("6\tfoo\tfoo\tNOUN\tNN\t_\t4\tobj\t_", r"line 10: a CoNLL-U token line has 10 tab-separated fields, found 9"),
    ("6 foo foo NOUN NN _ 4 obj _ _", r"line 10: .* found 1"),
    ("x\tfoo\tfoo\tNOUN\tNN\t_\t4\tobj\t_\t_", r"line 10: the ID must be a number, .* found 'x'"),
    ("6\tfoo\tfoo\tNOUNS\tNN\t_\t4\tobj\t_\t_", r"line 10: unknown UPOS tag 'NOUNS'"),
])
def test_read_conllu_malformed_line_names_the_line(tmp_path, line, message):
    lines = GOOD.split("\n")
    lines.insert(9, line)                       # line 10 of the file, in the first sentence
    with pytest.raises(ValueError, match=message):
        ud.read_conllu(_write(tmp_path, "\n".join(lines)))


def test_read_conllu_empty_and_missing(tmp_path):
    with pytest.raises(ValueError, match="holds no sentences"):
        ud.read_conllu(_write(tmp_path, "# only a comment\n\n"))
    with pytest.raises(FileNotFoundError):
        ud.read_conllu(tmp_path / "missing.conllu")


def test_shipped_files_and_splits():
    dev, test = ud.load_ud("dev"), ud.load_ud("test")
    assert len(dev) == 2001 and sum(len(w) for w, _ in dev) == 25147
    assert len(test) == 2077 and sum(len(w) for w, _ in test) == 25094
    assert {t for _, ts in dev + test for t in ts} == set(ud.UPOS) and len(ud.UPOS) == 17
    sp = ud.load_ud_splits()
    assert [len(sp[k]) for k in ("train", "valid", "test")] == [1801, 200, 2077]
    assert sp["train"] + sp["valid"] == dev
    with pytest.raises(ValueError, match="split must be 'dev' or 'test', received 'train'"):
        ud.load_ud("train")
    with pytest.raises(ValueError, match=r"valid_fraction must lie in \(0, 1\), received 1"):
        ud.load_ud_splits(1)
