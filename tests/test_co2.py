"""The Mauna Loa loader reads the committed file by position, decodes missing values, and fails clearly."""

import math

import numpy as np
import pytest

from labrnn.datasets.co2 import HEADER, chronological_split, co2_path, load_co2

ROW = "1958-03,1958.2027,315.71,314.44,-01,-9.99,-0.99"


def _write(tmp_path, rows, header=HEADER):
    path = tmp_path / "co2.csv"
    path.write_text("\n".join([header] + rows) + "\n")
    return path


def test_committed_file_is_read_whole():
    s = load_co2()
    raw = co2_path().read_text().splitlines()[1:]
    assert len(s.co2) == len(raw) == 820
    assert (s.year[0], s.month[0], s.year[-1], s.month[-1]) == (1958, 3, 2026, 6)
    assert s.co2[0] == 315.71 and s.deseasonalized[0] == 314.44
    assert not np.isnan(s.co2).any()                         # no monthly mean is missing
    coded_days = sum(r.split(",")[4] == "-01" for r in raw)
    assert coded_days > 0 and int(np.isnan(s.days).sum()) == coded_days
    assert math.isnan(s.std_days[0]) and math.isnan(s.uncertainty[0])
    last = raw[-1].split(",")
    assert s.days[-1] == float(last[4]) and s.uncertainty[-1] == float(last[6])


def test_missing_codes_become_nan_and_real_values_stay(tmp_path):
    rows = [ROW, "1958-04,1958.2877,-99.99,315.16,12,0.50,0.20"]
    s = load_co2(_write(tmp_path, rows))
    assert math.isnan(s.co2[1]) and s.days[1] == 12 and s.std_days[1] == 0.5
    assert math.isnan(s.days[0]) and s.co2[0] == 315.71


@pytest.mark.parametrize("row, message", [
    ("1958-04,1958.2877,317.45,315.16,-01,-9.99", r"line 3: expected 7 fields .* found 6"),
    ("1958-04,1958.2877,317.45,315.16,-01,-9.99,-0.99,7", r"line 3: expected 7 fields .* found 8"),
    ("1958-04,1958.2877,abc,315.16,-01,-9.99,-0.99", r"line 3: field 'co2' is 'abc', expected a number"),
    ("1958-04,1958.2877,,315.16,-01,-9.99,-0.99", r"line 3: field 'co2' is '', expected a number"),
    ("1958-13,1958.2877,317.45,315.16,-01,-9.99,-0.99", r"line 3: field 'date' is '1958-13', expected YYYY-MM"),
    ("1958-05,1958.3699,317.51,314.69,-01,-9.99,-0.99", r"line 3: month 1958-05 does not follow 1958-03"),
])
def test_malformed_rows_name_the_line_and_field(tmp_path, row, message):
    with pytest.raises(ValueError, match=message):
        load_co2(_write(tmp_path, [ROW, row]))


def test_wrong_header_and_empty_file(tmp_path):
    with pytest.raises(ValueError, match="line 1 should be the header"):
        load_co2(_write(tmp_path, [ROW], header="date,value"))
    with pytest.raises(ValueError, match="no data rows"):
        load_co2(_write(tmp_path, []))


def test_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("LABRNN_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="co2-mm-mlo.csv"):
        load_co2()


def test_chronological_split():
    s = load_co2()
    sp = chronological_split(s)
    assert s.year[sp["train"]].max() == 2010 and s.year[sp["valid"]].min() == 2011
    assert s.year[sp["valid"]].max() == 2017 and s.year[sp["test"]].min() == 2018
    assert sp["train"].stop == sp["valid"].start and sp["valid"].stop == sp["test"].start
    assert sp["test"].stop == len(s.co2)
    with pytest.raises(ValueError, match="train_end < valid_end"):
        chronological_split(s, 2017, 2010)
    with pytest.raises(ValueError, match="empty split"):
        chronological_split(s, 1900, 1950)
