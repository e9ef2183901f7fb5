"""Monthly mean CO2 at Mauna Loa, 1958-03 to 2026-06 (book chapter 16).

The file ``data/co2_mauna_loa/co2-mm-mlo.csv`` (NOAA GML and Scripps, via the
``datasets/co2-ppm`` data package, ODC-PDDL 1.0; see ``SOURCE-README.md``)
needs care:

* its **header names 6 columns but every row has 7 fields**. The header reads
  ``Date,Decimal Date,Average,Interpolated,Trend,Number of Days``; the fields
  are, in order, the month (``YYYY-MM``), the decimal date, the monthly mean
  (ppm), the de-seasonalised monthly mean (ppm), the number of days with data,
  the standard deviation of those days (ppm) and the uncertainty of the
  monthly mean (ppm). The loader reads the rows by position, not by the header;
* **missing values are coded**: ``-1`` days, ``-9.99`` standard deviation and
  ``-0.99`` uncertainty mean "not available" (the early years); NOAA's
  ``-99.99`` would mark a missing monthly mean. They are returned as ``NaN``.

:func:`load_co2` checks every row (number of fields, numbers, consecutive
months) and raises a ``ValueError`` naming the line and the field when one is
malformed. :func:`chronological_split` gives the chapter's split by time.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import data_file

__all__ = ["FIELDS", "MISSING", "CO2Series", "load_co2", "chronological_split", "co2_path"]

FIELDS = ("date", "decimal_date", "co2", "deseasonalized", "days", "std_days", "uncertainty")
MISSING = {"co2": -99.99, "deseasonalized": -99.99, "days": -1, "std_days": -9.99,
           "uncertainty": -0.99}
HEADER = "Date,Decimal Date,Average,Interpolated,Trend,Number of Days"


class CO2Series(NamedTuple):
    """The series as host NumPy arrays of one length ``N`` (one entry per month).

    ``year``, ``month`` (int); ``decimal_date``, ``co2`` (monthly mean, ppm),
    ``deseasonalized`` (ppm), ``days`` (float: NaN where missing), ``std_days``,
    ``uncertainty`` (ppm; NaN where missing).
    """

    year: np.ndarray
    month: np.ndarray
    decimal_date: np.ndarray
    co2: np.ndarray
    deseasonalized: np.ndarray
    days: np.ndarray
    std_days: np.ndarray
    uncertainty: np.ndarray


def co2_path():
    """Path of the committed CSV file (``data/co2_mauna_loa/co2-mm-mlo.csv``)."""
    return data_file("co2_mauna_loa", "co2-mm-mlo.csv")


def _number(text, name, where):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: field {name!r} is {text!r}, expected a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: field {name!r} is {text!r}, expected a finite number")
    return value


def load_co2(path=None):
    """Read the Mauna Loa monthly series; returns a :class:`CO2Series`.

    ``path`` defaults to :func:`co2_path`. Coded missing values (see
    :data:`MISSING`) become ``NaN``. Raises ``ValueError`` naming the line for a
    wrong header, a row without exactly 7 fields, a field that is not a number,
    a date that is not ``YYYY-MM`` or a month that does not follow the previous one.
    """
    path = co2_path() if path is None else path
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise ValueError(f"{path}: line 1 should be the header {HEADER!r}, found "
                         f"{(lines[0] if lines else '')!r}")
    cols = {name: [] for name in ("year", "month") + FIELDS[1:]}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        where = f"{path}, line {lineno}"
        fields = line.split(",")
        if len(fields) != len(FIELDS):
            raise ValueError(f"{where}: expected {len(FIELDS)} fields ({', '.join(FIELDS)}), "
                             f"found {len(fields)}: {line!r}")
        date = fields[0].strip()
        parts = date.split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
            raise ValueError(f"{where}: field 'date' is {date!r}, expected YYYY-MM")
        year, month = int(parts[0]), int(parts[1])
        if cols["year"]:
            py, pm = cols["year"][-1], cols["month"][-1]
            want = (py + (pm == 12), pm % 12 + 1)
            if (year, month) != want:
                raise ValueError(f"{where}: month {date} does not follow {py}-{pm:02d}; the "
                                 f"series must be consecutive months (expected "
                                 f"{want[0]}-{want[1]:02d})")
        cols["year"].append(year)
        cols["month"].append(month)
        for name, text in zip(FIELDS[1:], fields[1:]):
            value = _number(text.strip(), name, where)
            code = MISSING.get(name)
            if code is not None and abs(value - code) < 1e-9:
                value = math.nan
            cols[name].append(value)
    if not cols["year"]:
        raise ValueError(f"{path}: no data rows after the header")
    out = {k: np.asarray(v, dtype=np.int64 if k in ("year", "month") else np.float64)
           for k, v in cols.items()}
    return CO2Series(**out)


def chronological_split(series, train_end=2010, valid_end=2017):
    """Index ranges of the chapter's split by time: ``{"train": slice, "valid": slice, "test": slice}``.

    ``train``: every month up to December ``train_end``; ``valid``: the years
    ``train_end + 1`` to ``valid_end``; ``test``: from January ``valid_end + 1`` on.
    """
    year = np.asarray(series.year)
    if not (isinstance(train_end, int) and isinstance(valid_end, int) and train_end < valid_end):
        raise ValueError(f"train_end < valid_end must be integer years, received "
                         f"train_end={train_end!r}, valid_end={valid_end!r}")
    a, b = int(np.searchsorted(year, train_end, "right")), int(np.searchsorted(year, valid_end, "right"))
    if not 0 < a < b < year.size:
        raise ValueError(f"train_end={train_end}, valid_end={valid_end} leave an empty split for "
                         f"years {int(year[0])}-{int(year[-1])}")
    return {"train": slice(0, a), "valid": slice(a, b), "test": slice(b, year.size)}
