"""The date generator writes correct dates (checked by an independent parser), splits by day, and fails clearly."""

import datetime as dt
import re

import numpy as np
import pytest

from labrnn.datasets import dates as D

_MON = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                        "sep", "oct", "nov", "dec"])}
_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _parse(text, fmt):
    """An independent reader of each format: (date, weekday name or None)."""
    def yy(s):
        return int(s) + (1900 if int(s) >= 50 else 2000)
    t = text.lower()
    wd = None
    if fmt == "weekday_full":
        wd, rest = t.split(", ", 1)
        return dt.datetime.strptime(rest, "%B %d, %Y").date(), wd[:3]
    if fmt == "lower_short":
        wd, rest = t.split(" ", 1)
        return dt.datetime.strptime(rest, "%d %b %Y").date(), wd
    if fmt in ("ordinal_of", "month_ordinal"):
        t = re.sub(r"(\d+)(st|nd|rd|th)", r"\1", t)
        return dt.datetime.strptime(t, "%d of %B %Y" if fmt == "ordinal_of" else "%B %d, %Y").date(), wd
    if fmt == "us_short":
        m, d, y = t.split("/")
        return dt.date(yy(y), int(m), int(d)), wd
    if fmt == "apostrophe_yy":
        d, mon, y = t.split(" ")
        return dt.date(yy(y[1:]), _MON[mon], int(d)), wd
    pattern = {"us_long": "%m/%d/%Y", "year_mon_day": "%Y %b %d", "day_month": "%d %B %Y",
               "month_day": "%B %d, %Y", "european_dot": "%d.%m.%Y", "dd_mon_yyyy": "%d-%b-%Y",
               "dotted_iso": "%Y.%m.%d"}[fmt]
    return dt.datetime.strptime(t, pattern).date(), wd


def test_every_format_is_read_back_to_its_target_with_the_right_weekday():
    rows = D.generate(3000, 5, formats=tuple(D.FORMATS)) + D.generate(500, 6, split="test")
    assert {f for _, _, f in rows} == set(D.FORMATS)
    for src, iso, fmt in rows:
        day, wd = _parse(src, fmt)
        assert day.isoformat() == iso, (src, fmt)
        if wd is not None:
            assert wd == _DAY[day.weekday()], (src, fmt)


def test_examples_from_the_chapter():
    d = dt.date(1987, 3, 3)
    assert D.render(d, "ordinal_of") == "3rd of March 1987"
    assert D.render(d, "us_short") == "03/03/87"
    assert D.render(d, "weekday_full") == "Tuesday, March 3, 1987"
    assert D.render(d, "year_mon_day") == "1987 Mar 3"
    assert D.render(dt.date(2011, 11, 11), "month_ordinal") == "November 11th, 2011"
    assert D.render(dt.date(2049, 4, 3), "european_dot") == "3.4.2049"


def test_two_digit_years():
    assert [D.two_digit_year(v) for v in (0, 49, 50, 99)] == [2000, 2049, 1950, 1999]
    with pytest.raises(ValueError, match=r"yy must be an integer in \[0, 99\].*received 100"):
        D.two_digit_year(100)


def test_splits_are_disjoint_and_cover_the_range():
    parts = [set(D.split_days(s).tolist()) for s in ("train", "valid", "test")]
    n = (D.LAST_DAY - D.FIRST_DAY).days + 1
    assert sum(map(len, parts)) == n and set().union(*parts) == set(range(n))
    assert not (parts[0] & parts[2]) and not (parts[0] & parts[1])
    test_dates = {iso for _, iso, _ in D.generate(300, 1, split="test")}
    train_dates = {(D.FIRST_DAY + dt.timedelta(days=k)).isoformat() for k in parts[0]}
    assert not (test_dates & train_dates)


def test_generation_is_reproducible_and_heldout_formats_are_separate():
    assert D.generate(50, 3) == D.generate(50, 3)
    assert D.generate(50, 3) != D.generate(50, 4)
    assert not set(D.TRAIN_FORMATS) & set(D.HELDOUT_FORMATS)
    assert {f for _, _, f in D.generate(400, 2)} == set(D.TRAIN_FORMATS)


def test_encode_batch_pads_time_major():
    pairs = [("1.1.1950", "1950-01-01"), ("March 3, 1987", "1987-03-03")]
    src, tgt, sl, tl = D.encode_batch(pairs)
    assert src.shape == (13, 2) and tgt.shape == (11, 2)
    assert sl.tolist() == [8, 13] and tl.tolist() == [11, 11]
    assert (src[8:, 0] == D.PAD).all() and (src[:, 1] != D.PAD).all()
    assert "".join(D.SRC_ALPHABET[i] for i in src[:, 1]) == "March 3, 1987"
    assert tgt[-1, 0] == D.EOS and D.decode_target(tgt[:, 1]) == "1987-03-03"


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"character '\?' at position 4"):
        D.encode_source("1987?")
    with pytest.raises(ValueError, match="unknown format 'iso'"):
        D.render(dt.date(1987, 3, 3), "iso")
    with pytest.raises(ValueError, match=r"day must lie in \[1950-01-01, 2049-12-31\]"):
        D.render(dt.date(1949, 12, 31), "us_short")
    with pytest.raises(ValueError, match="split must be one of"):
        D.split_days("dev")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        D.generate(0, 1)
    with pytest.raises(ValueError, match=r"unknown: \['iso'\]"):
        D.generate(3, 1, formats=["iso"])
    with pytest.raises(ValueError, match="outside '0-9' and '-'"):
        D.encode_batch([("1.1.1950", "1950/01/01")])
