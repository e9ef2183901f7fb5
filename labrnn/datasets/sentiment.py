"""The "Sentiment Labelled Sentences" data set, its split, and a negation probe (book chapter 14).

3,000 sentences from reviews (Kotzias et al. 2015), 1,000 from each of Amazon (phones),
IMDb (films) and Yelp (restaurants), 500 positive and 500 negative per source, one per
line as ``sentence<TAB>label`` (1 positive, 0 negative). The files ship in
``data/sentiment_sentences/`` with their source note (licence CC BY 4.0).

* :func:`load_sentences` reads one source file (malformed lines raise ``ValueError``
  naming the file and line);
* :func:`tokenize` lower-cases and splits a sentence into words and punctuation, and
  spells out the contraction ``n't`` as ``not`` (``didn't`` -> ``did not``);
* :func:`split_sentences` is the fixed, stratified split: within every source and every
  label, a seeded permutation sends 70% to training, 10% to validation and 20% to test,
  so each split has the same mix of sources and labels (2,100 / 300 / 600 sentences);
* :func:`negation_probe` builds the chapter's held-out negation probe, pairs of
  sentences that hold exactly the same words in a different order and have opposite
  labels (so any bag-of-words model scores both alike and gets exactly one of each
  pair right);
* :func:`negate_augment` is the rule-based, seeded negation augmentation of a training
  split (never of the validation or test split): ``not`` inserted or deleted after a
  copula, and with ``forms`` also ``never``, ``not ... at all``, a negated verb of
  opinion in front of the sentence, and negated verbs of liking (:data:`NEGATION_FORMS`).

Every sentence is a list of token strings; labels are ints.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from . import data_file

__all__ = ["SOURCES", "load_sentences", "tokenize", "split_sentences", "load_splits",
           "Vocabulary", "negation_probe", "negate_augment", "NEGATION_FORMS",
           "POSITIVE_WORDS", "NEGATIVE_WORDS"]

SOURCES = ("amazon", "imdb", "yelp")
_FILES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt",
          "yelp": "yelp_labelled.txt"}
FOLDER = "sentiment_sentences"

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[!?]|\.|,|;|:")
_IRREGULAR = {"can't": ["can", "not"], "won't": ["will", "not"], "cannot": ["can", "not"],
              "shan't": ["shall", "not"], "ain't": ["is", "not"]}


def tokenize(sentence):
    """Lower-case ``sentence`` and split it into words and the punctuation ``! ? . , ; :``.

    Apostrophes stay inside words (``it's``), except the negation ``n't``, which becomes a
    word of its own spelled ``not`` (``didn't`` -> ``did not``, ``can't`` -> ``can not``),
    so the model sees one negation word. Other characters (quotes, dashes, brackets) are
    dropped. Returns a list of strings.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, received {type(sentence).__name__}")
    out = []
    for tok in _TOKEN.findall(sentence.lower().replace("\u2019", "'")):
        if tok in _IRREGULAR:
            out.extend(_IRREGULAR[tok])
        elif tok.endswith("n't") and len(tok) > 3:
            out.extend([tok[:-3], "not"])
        else:
            out.append(tok)
    return out


def load_sentences(source, path=None):
    """Sentences and labels of one source: ``(sentences, labels)``, raw strings and ints.

    ``source`` is one of :data:`SOURCES`; ``path`` overrides the file (for tests). Lines
    are split on ``"\\n"`` only (the IMDb file contains the character U+0085, which
    Python's ``splitlines`` would treat as a line break). A non-blank line must be
    ``sentence<TAB>label`` with the label ``0`` or ``1``; anything else raises
    ``ValueError`` naming the file, the line number and what was found.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, received {source!r}")
    path = data_file(FOLDER, _FILES[source]) if path is None else path
    text = open(path, encoding="utf-8").read()
    sentences, labels = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2:
            raise ValueError(f"{path}, line {number}: expected 2 tab-separated fields "
                             f"(sentence, label), found {len(fields)}: {line[:60]!r}")
        label = fields[1].strip()
        if label not in ("0", "1"):
            raise ValueError(f"{path}, line {number}: the label must be 0 or 1, found "
                             f"{label!r}")
        if not fields[0].strip():
            raise ValueError(f"{path}, line {number}: the sentence is empty")
        sentences.append(fields[0].strip())
        labels.append(int(label))
    if not sentences:
        raise ValueError(f"{path} holds no sentences")
    return sentences, labels


def split_sentences(labels_by_source, fractions=(0.7, 0.1, 0.2), seed=0):
    """Indices of a split stratified by source and label.

    ``labels_by_source`` maps each source to its list of labels. Within each (source,
    label) group a permutation drawn from ``seed`` sends the first ``fractions[0]`` to
    ``"train"``, the next ``fractions[1]`` to ``"valid"`` and the rest to ``"test"``.
    Returns ``{split: [(source, index), ...]}`` with indices into each source's list.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, received "
                         f"{fractions!r}")
    rng = np.random.default_rng(seed)
    out = {"train": [], "valid": [], "test": []}
    for source in sorted(labels_by_source):
        labels = np.asarray(labels_by_source[source])
        for label in (0, 1):
            idx = np.flatnonzero(labels == label)
            idx = idx[rng.permutation(len(idx))]
            n_train = int(round(fractions[0] * len(idx)))
            n_valid = int(round(fractions[1] * len(idx)))
            for name, part in (("train", idx[:n_train]),
                               ("valid", idx[n_train:n_train + n_valid]),
                               ("test", idx[n_train + n_valid:])):
                out[name].extend((source, int(i)) for i in sorted(part))
    for name in out:
        out[name].sort()
    return out


def load_splits(seed=0):
    """The chapter's split of all three sources: ``{split: (tokens, labels, sources)}``.

    ``tokens`` is a list of token lists (:func:`tokenize`), ``labels`` a list of ints,
    ``sources`` the source of each sentence. Sizes: train 2,100, valid 300, test 600,
    each half positive and a third from each source.
    """
    data = {s: load_sentences(s) for s in SOURCES}
    index = split_sentences({s: data[s][1] for s in SOURCES}, seed=seed)
    out = {}
    for name, pairs in index.items():
        out[name] = ([tokenize(data[s][0][i]) for s, i in pairs],
                     [data[s][1][i] for s, i in pairs],
                     [s for s, _ in pairs])
    return out


def data_files():
    """Paths of the three source files (for a checkpoint's data checksums)."""
    return [data_file(FOLDER, _FILES[s]) for s in SOURCES]


class Vocabulary:
    """Words to ids: ``0`` is padding, ``1`` unknown, then every word seen ``min_count`` times.

    Built from training sentences only; ``ids(tokens)`` maps a sentence, unknown words to
    1. ``words`` lists the word of each id.
    """

    PAD, UNK = 0, 1

    def __init__(self, sentences, min_count=1):
        counts = {}
        for s in sentences:
            for w in s:
                counts[w] = counts.get(w, 0) + 1
        kept = sorted(w for w, c in counts.items() if c >= min_count)
        self.words = ["<pad>", "<unk>"] + kept
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def ids(self, tokens):
        """The ids of a list of tokens (unknown words -> 1)."""
        return [self.index.get(w, self.UNK) for w in tokens]

    @classmethod
    def from_words(cls, words):
        """Rebuild a vocabulary from its ``words`` list (as stored in a checkpoint)."""
        if list(words[:2]) != ["<pad>", "<unk>"]:
            raise ValueError("a vocabulary's word list starts with '<pad>', '<unk>'")
        v = cls([])
        v.words = list(words)
        v.index = {w: i for i, w in enumerate(v.words)}
        return v


# ---------------------------------------------------------------- the negation probe
# Sentiment words of the probe and of the augmentation; each occurs in the training split.
POSITIVE_WORDS = ("good", "great", "nice", "excellent", "amazing", "perfect", "fantastic",
                  "delicious", "wonderful", "awesome")
NEGATIVE_WORDS = ("bad", "terrible", "awful", "poor", "horrible", "disappointing",
                  "boring", "worst", "rude", "mediocre")
_PROBE_NOUNS = ("food", "service", "movie", "phone", "film", "place", "acting", "battery",
                "staff", "sound", "story", "quality")
# Each template holds a positive slot {a} and a negative slot {b}; the label is that of
# the word that is NOT negated. Swapping {a} and {b} gives the same bag of words with
# the opposite label.
_PROBE_TEMPLATES = (
    ("the {n} was {a} , not {b}", 1),
    ("the {n} was not {b} , it was {a}", 1),
    ("not {b} at all , the {n} was {a}", 1),
    ("the {n} is {a} and not {b}", 1),
    ("i would not call the {n} {b} , it is {a}", 1),
)


def negation_probe(n_pairs=200, seed=0):
    """The negation probe: ``n_pairs`` pairs of sentences, ``(tokens, labels, pair_ids)``.

    Every pair fills one template with a noun, a positive word ``a`` and a negative
    word ``b`` twice, the second time with ``a`` and ``b`` swapped::

        "the food was good , not bad"   (1)   /   "the food was bad , not good"   (0)

    Both sentences hold the same words (the same multiset) and the labels differ: what
    is negated decides. A bag-of-words model (any function of the word counts, with or
    without a threshold) gives both sentences the same score and the same prediction,
    so it is right on exactly one sentence of each pair: exactly 50% by construction.
    A model that reads the order can be right on both. Pairs are drawn without
    repetition from a seeded generator; none of the sentences comes from the data set,
    and the chapter checks that none occurs in the training data.
    """
    combos = list(itertools.product(range(len(_PROBE_TEMPLATES)), _PROBE_NOUNS,
                                    POSITIVE_WORDS, NEGATIVE_WORDS))
    if not 1 <= n_pairs <= len(combos):
        raise ValueError(f"n_pairs must lie in [1, {len(combos)}], received {n_pairs}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(combos), size=n_pairs, replace=False)
    tokens, labels, pair_ids = [], [], []
    for k, c in enumerate(sorted(int(i) for i in chosen)):
        t, n, a, b = combos[c]
        template, label = _PROBE_TEMPLATES[t]
        for aa, bb, y in ((a, b, label), (b, a, 1 - label)):
            tokens.append(template.format(n=n, a=aa, b=bb).split())
            labels.append(y)
            pair_ids.append(k)
    return tokens, labels, pair_ids


# ---------------------------------------------------------------- augmentation
_COPULAS = frozenset({"is", "was", "are", "were", "be", "been", "am", "'s", "it's",
                      "looks", "looked", "tastes", "tasted", "seems", "seemed", "feels"})
_DEGREE = frozenset({"very", "so", "really", "too", "pretty", "quite", "extremely", "that"})
_SENTIMENT = {w: 1 for w in POSITIVE_WORDS} | {w: 0 for w in NEGATIVE_WORDS} | {
    w: 1 for w in ("happy", "impressed", "pleased", "worth", "satisfied", "recommended",
                   "comfortable", "fresh", "friendly", "tasty", "funny", "beautiful",
                   "enjoyable", "helpful", "fast", "clear", "best", "worthwhile")} | {
    w: 0 for w in ("disappointed", "bland", "cold", "slow", "dirty", "unhappy", "weak",
                   "stupid", "waste", "broken", "annoying", "useless", "overpriced",
                   "dull", "lame", "cheap", "sad", "ugly", "worse", "unfortunate")}


NEGATION_FORMS = ("not", "never", "not-at-all", "opinion", "verb")
"""The forms of :func:`negate_augment`; ``("not",)`` is the basic rule, all five the chapter's."""

# Frames that put a whole clause under a negated (or plain) verb of opinion; each pair is
# (affirmative, negated). The negation then stands several words before what it negates.
_OPINION_FRAMES = ((["i", "think"], ["i", "do", "not", "think"]),
                   (["i", "would", "say"], ["i", "would", "not", "say"]),
                   (["we", "thought"], ["we", "did", "not", "think"]),
                   (["you", "could", "say"], ["you", "could", "never", "say"]))
# Verbs of liking: base form -> (past form, polarity).
_OPINION_MAX_SUBJECT = 4      # the frame needs a short subject: copula among the first 5 words
_VERBS = {"love": ("loved", 1), "like": ("liked", 1), "enjoy": ("enjoyed", 1),
          "recommend": ("recommended", 1)}
_PAST = {past: base for base, (past, _) in _VERBS.items()}
_SUBJECTS = frozenset({"i", "we", "you", "they"})
_MODALS = frozenset({"would", "will", "can", "could", "should"})
_ADVERBS = frozenset({"really", "just", "absolutely", "highly", "totally", "truly",
                      "definitely"})


def negate_augment(sentences, labels, seed=0, exclude=(), forms=("not",)):
    """Rule-based negation augmentation of a TRAINING split: ``(new_sentences, new_labels)``.

    A sentence qualifies when, after a copula (``is``, ``was``, ``are``, ``looks``, ...)
    and an optional degree word (``very``, ``so``, ...), it has a word of the sentiment
    lexicon whose polarity agrees with the sentence's label (``the food was good``, 1),
    or the same with ``not`` after the copula and a polarity opposite to the label
    (``it was not bad``, 1). The first such match of a sentence yields three new
    sentences (form ``"not"``, always applied):

    * **negate**: insert ``not`` (or delete it), label flipped:
      ``the food was good`` (1) -> ``the food was not good`` (0);
    * **swap**: replace the word with one of the opposite polarity drawn from
      :data:`POSITIVE_WORDS` / :data:`NEGATIVE_WORDS`, label flipped:
      ``the food was terrible`` (0);
    * **swap and negate**: both, label kept: ``the food was not terrible`` (1).

    ``forms`` adds other ways of saying "not" (any of :data:`NEGATION_FORMS`). Each is
    applied to both un-negated clauses of a match, the original word's (``the food was
    good``, label ``L``) and the swapped one's, and gives label ``1 - L`` unless said:

    * ``"never"``: ``never`` after the copula: ``the food was never good``;
    * ``"not-at-all"``: ``not`` after the copula and ``at all`` after the word:
      ``the food was not good at all``;
    * ``"opinion"``: the whole sentence under a verb of opinion, once affirmative
      (label ``L``) and once negated: ``i think the food was good`` (L),
      ``i do not think the food was good`` (1 - L); the frame (``i think`` / ``i would
      say`` / ``we thought`` / ``you could say`` and their negations with ``not`` or
      ``never``) is drawn from ``seed``. The negation stands several words before the
      sentiment word, and the sentence that follows is left intact. Only when the
      copula is among the first five words (a short subject: ``the food was``);
    * ``"verb"`` (sentences without a copula match): a verb of liking (``love like
      enjoy recommend``, present or past) after a subject (``i``, ``we``, ...) or a modal
      (``would``, ``will``, ...), with an optional adverb, whose polarity (negated or
      not) agrees with the label, is negated or un-negated, label flipped:
      ``i loved it`` -> ``i did not love it``, ``i would not recommend it`` ->
      ``i would recommend it``, ``i did not like it`` -> ``i liked it``.

    ``seed`` draws the replacement words and frames, so the result is reproducible.
    Sentences listed in ``exclude`` (token lists, e.g. the probe) are never produced.
    The originals are not returned; add them yourself. Apply it to the training split
    only.
    """
    if len(sentences) != len(labels):
        raise ValueError(f"sentences and labels must have the same length, received "
                         f"{len(sentences)} and {len(labels)}")
    unknown = [f for f in forms if f not in NEGATION_FORMS]
    if unknown or "not" not in forms:
        raise ValueError(f"forms must include 'not' and be among {list(NEGATION_FORMS)}, "
                         f"received {list(forms)!r}")
    banned = {tuple(s) for s in exclude}
    rng = np.random.default_rng(seed)
    new_s, new_y = [], []

    def emit(cand, label):
        if tuple(cand) not in banned:
            new_s.append(cand)
            new_y.append(int(label))

    for s, y in zip(sentences, labels):
        s, y = list(s), int(y)
        match = _match(s, y)
        if match is None:
            if "verb" in forms:
                flipped = _flip_verb(s, y)
                if flipped is not None:
                    emit(flipped, 1 - y)
            continue
        i, j, negated, polarity = match
        other = NEGATIVE_WORDS if polarity == 1 else POSITIVE_WORDS
        swapped = s[:j] + [str(other[rng.integers(len(other))])] + s[j + 1:]
        flip = (lambda t: t[:i + 1] + t[i + 2:]) if negated else (
            lambda t: t[:i + 1] + ["not"] + t[i + 1:])
        for cand, label in ((flip(s), 1 - y), (swapped, 1 - y), (flip(swapped), y)):
            emit(cand, label)
        if len(forms) == 1:
            continue
        # the two un-negated clauses: the original word's (label = its polarity) and
        # the swapped word's; the word's index there is jp
        jp = j - 1 if negated else j
        plain = s if not negated else flip(s)
        plain_swapped = swapped if not negated else flip(swapped)
        for clause, label in ((plain, polarity), (plain_swapped, 1 - polarity)):
            if "never" in forms:
                emit(clause[:i + 1] + ["never"] + clause[i + 1:], 1 - label)
            if "not-at-all" in forms:
                emit(clause[:i + 1] + ["not"] + clause[i + 1:jp + 1] + ["at", "all"]
                     + clause[jp + 1:], 1 - label)
            if "opinion" in forms and i <= _OPINION_MAX_SUBJECT:
                yes, no = _OPINION_FRAMES[rng.integers(len(_OPINION_FRAMES))]
                emit(yes + clause, label)
                emit(no + clause, 1 - label)
    return new_s, new_y


def _flip_verb(s, y):
    """``s`` with its first verb of liking negated or un-negated, or None (see above)."""
    for k, w in enumerate(s):
        base = _PAST.get(w, w if w in _VERBS else None)
        if base is None or k == 0:
            continue
        a = k - 1 if s[k - 1] in _ADVERBS else k          # first word of adverb + verb
        if a == 0:
            continue
        prev = s[a - 1]
        if prev == "not" and a >= 2 and s[a - 2] in {"did", "do"} | _MODALS:
            negated, head = True, a - 2                        # "did not (really) like"
        elif prev in _SUBJECTS or prev in _MODALS:
            negated, head = False, a - 1
        else:
            continue
        polarity = _VERBS[base][1]
        if (polarity == y) == negated:
            continue                                           # label disagrees
        adverb = s[a:k]
        if negated:
            aux = s[head]
            if aux in _MODALS:
                verb = [base]
            else:
                verb = [_VERBS[base][0] if aux == "did" else base]
            return s[:head] + ([aux] if aux in _MODALS else []) + adverb + verb + s[k + 1:]
        if prev in _MODALS:
            return s[:a] + ["not"] + adverb + [base] + s[k + 1:]
        aux = "did" if w == _VERBS[base][0] else "do"
        return s[:a] + [aux, "not"] + adverb + [base] + s[k + 1:]
    return None


def _match(s, y):
    """``(i, j, negated, polarity)``: copula at ``i``, sentiment word at ``j``; or None."""
    for i, w in enumerate(s[:-1]):
        if w not in _COPULAS:
            continue
        j = i + 1
        negated = s[j] == "not"
        if negated:
            j += 1
        if j < len(s) and s[j] in _DEGREE:
            j += 1
        if j >= len(s) or s[j] not in _SENTIMENT:
            continue
        polarity = _SENTIMENT[s[j]]
        if (negated and y == 1 - polarity) or (not negated and y == polarity):
            return i, j, negated, polarity
    return None
