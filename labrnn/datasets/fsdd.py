"""Free Spoken Digit Dataset (FSDD): recordings, log-mel features and digit strings (chapter 18).

FSDD (Jackson et al., CC BY-SA 4.0) holds 3,000 mono 8 kHz 16-bit WAV recordings of
single spoken digits, ``{digit}_{speaker}_{index}.wav``: 6 speakers x 10 digits x 50.
The whole set (21 MB) is too large for the repository, so ``data/fsdd/`` ships

* ``fsdd_logmel.npz``: the log-mel features of all 3,000 recordings, computed by
  :func:`log_mel_spectrogram` (32 mel bands, 32 ms Hann windows every 20 ms: 50 frames
  per second) and stored as float16 (about 4 MB), with each recording's digit,
  speaker and index; written by ``python -m labrnn.datasets.fsdd build --source DIR``;
* ``recordings/``: a few of the original WAV files, byte for byte, for the figures
  and to check that the stored features are those of the recordings;
* ``SOURCE-README.md``, ``speakers.csv`` and ``LICENSE.md``.

Feature pipeline, equation ``logmel``: frame the signal (window ``w`` of ``n_win``
samples every ``hop`` samples), take the power spectrum of each frame
``P_t(f) = |FFT_n_fft(w * x_t)(f)|^2``, pool it with triangular filters equally spaced
on the mel scale ``mel(f) = 2595 log10(1 + f / 700)``, and take the logarithm:
``X_t(m) = log(sum_f F(m, f) P_t(f) + floor)``.

Digit strings (:func:`make_utterance`) join recordings of one speaker, with pauses of
random length before, between and after the digits, and add white noise. Both happen in
the mel *power* domain: speech and independent noise add in power on average, and the
periodogram of white noise is exponentially distributed around its mean in every
frequency bin, so a noise frame is ``F @ (level * Exponential(1) draws)``. The
waveform version (:func:`join_waveforms`) does the same with samples, for the figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
import wave
from pathlib import Path

import numpy as np

from . import data_file

__all__ = ["RATE", "N_FFT", "N_WIN", "HOP", "N_MELS", "FMIN", "FMAX", "DIGITS", "BLANK",
           "read_wav", "hann", "mel_filterbank", "power_spectrogram", "log_mel_spectrogram",
           "build_features", "load_features", "FSDD", "make_utterance", "join_waveforms",
           "wav_path", "speakers"]

RATE = 8000          # samples per second
N_WIN = 256          # 32 ms analysis window
HOP = 160            # 20 ms between frames: 50 frames per second
N_FFT = 512          # zero-padded FFT: 257 bins of 15.6 Hz
N_MELS = 32
FMIN, FMAX = 50.0, 4000.0
FLOOR = 1e-10        # added before the log: silence stays finite
DIGITS = tuple(range(10))
BLANK = 0            # CTC class 0 is the blank, digit d is class d + 1

FEATURES = "fsdd_logmel.npz"
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


# ---------------------------------------------------------------- reading recordings

def read_wav(path):
    """Read a mono 16-bit PCM WAV file with the standard ``wave`` module.

    Returns ``(samples, rate)``: float64 samples in ``[-1, 1)`` and the sample
    rate in Hz. A file that is not a WAV, is not mono 16-bit PCM, or holds fewer
    samples than its header announces (a truncated download) raises ``ValueError``
    naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no WAV file at {path}")
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, n = (w.getnchannels(), w.getsampwidth(), w.getframerate(),
                                        w.getnframes())
            raw = w.readframes(n)
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path} is not a readable WAV file ({exc}); expected a RIFF/WAVE "
                         "file with 16-bit PCM samples") from exc
    if channels != 1 or width != 2:
        raise ValueError(f"{path} has {channels} channel(s) of {8 * width}-bit samples; "
                         "expected mono 16-bit PCM")
    if len(raw) != n * width:
        raise ValueError(f"{path} is truncated: its header announces {n} samples but it holds "
                         f"{len(raw) // width}")
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0, rate


def _parse_name(path):
    m = _NAME.match(Path(path).name)
    if not m:
        raise ValueError(f"{path}: FSDD file names look like 7_jackson_32.wav "
                         "({digit}_{speaker}_{index}.wav)")
    return int(m.group(1)), m.group(2), int(m.group(3))


def wav_path(digit, speaker, index):
    """Path of a WAV recording shipped in ``data/fsdd/recordings/`` (only a few are)."""
    return data_file("fsdd", "recordings", f"{int(digit)}_{speaker}_{int(index)}.wav")


def speakers():
    """The speakers' facts from ``data/fsdd/speakers.csv``: name -> dict (gender, accent, ...)."""
    with open(data_file("fsdd", "speakers.csv"), newline="") as f:
        return {row["speaker"]: row for row in csv.DictReader(f)}


# ---------------------------------------------------------------- features

def hann(n):
    """Periodic Hann window of ``n`` samples: ``0.5 - 0.5 cos(2 pi k / n)``."""
    k = np.arange(n)
    return 0.5 - 0.5 * np.cos(2 * np.pi * k / n)


def _mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_inv(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels=N_MELS, n_fft=N_FFT, rate=RATE, fmin=FMIN, fmax=FMAX):
    """Triangular filters ``F`` (n_mels, n_fft // 2 + 1) with centres equally spaced in mel.

    Filter ``m`` rises linearly from centre ``m - 1`` to centre ``m`` and falls to
    centre ``m + 1`` (peak 1). Every filter covers at least one FFT bin for the
    defaults.
    """
    edges = _mel_inv(np.linspace(_mel(fmin), _mel(fmax), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs[None, :] - lo) / (mid - lo)
    fall = (hi - freqs[None, :]) / (hi - mid)
    return np.maximum(0.0, np.minimum(rise, fall))


def _frames(signal, n_win, hop):
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1-d (mono samples), received shape {x.shape}")
    n = 1 + max(0, int(np.ceil((x.size - n_win) / hop)))
    x = np.concatenate([x, np.zeros((n - 1) * hop + n_win - x.size)])
    idx = np.arange(n_win)[None, :] + hop * np.arange(n)[:, None]
    return x[idx]


def power_spectrogram(signal, n_win=N_WIN, hop=HOP, n_fft=N_FFT):
    """``P[t, f] = |FFT(w * x_t)|^2`` (frames, n_fft // 2 + 1); the last frame is zero-padded."""
    frames = _frames(signal, n_win, hop) * hann(n_win)[None, :]
    return np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2


def log_mel_spectrogram(signal, n_mels=N_MELS, n_win=N_WIN, hop=HOP, n_fft=N_FFT, rate=RATE,
                        fmin=FMIN, fmax=FMAX):
    """Log-mel features (frames, n_mels) of a mono signal, equation ``logmel``.

    ``X[t, m] = log(sum_f F[m, f] P[t, f] + 1e-10)`` with ``P`` from
    :func:`power_spectrogram` and ``F`` from :func:`mel_filterbank`. With the
    defaults: 50 frames per second of 32 mel bands (50 Hz - 4 kHz).
    """
    fb = mel_filterbank(n_mels, n_fft, rate, fmin, fmax)
    return np.log(power_spectrogram(signal, n_win, hop, n_fft) @ fb.T + FLOOR)


def build_features(source, out):
    """Compute the log-mel features of every ``*.wav`` under ``source`` into ``out`` (.npz).

    Stores ``logmel`` (all frames, float16, concatenated), ``offsets`` (N + 1),
    ``digit``, ``speaker`` (index into ``speakers``), ``index``, ``speakers`` and
    the SHA-256 of every source file in name order (``sources_sha256``).
    """
    files = sorted(Path(source).glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no .wav files under {source}")
    meta = [_parse_name(f) for f in files]
    names = sorted({s for _, s, _ in meta})
    feats, sha = [], hashlib.sha256()
    for f in files:
        sha.update(f.read_bytes())
        x, rate = read_wav(f)
        if rate != RATE:
            raise ValueError(f"{f} is sampled at {rate} Hz; expected {RATE}")
        feats.append(log_mel_spectrogram(x).astype(np.float16))
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in feats])]).astype(np.int64)
    np.savez_compressed(
        out, logmel=np.concatenate(feats), offsets=offsets,
        digit=np.array([d for d, _, _ in meta], dtype=np.int8),
        speaker=np.array([names.index(s) for _, s, _ in meta], dtype=np.int8),
        index=np.array([i for _, _, i in meta], dtype=np.int16),
        speakers=np.array(names), sources_sha256=np.array(sha.hexdigest()))
    return Path(out)


def load_features(path=None):
    """The stored features as an :class:`FSDD` object (reads ``data/fsdd/fsdd_logmel.npz``)."""
    return FSDD(path)


class FSDD:
    """All recordings' log-mel features with their digit, speaker and index.

    ``len(ds)`` recordings; ``ds.features(i)`` the float64 log-mel array
    (frames, 32) of recording ``i``; ``ds.digit``, ``ds.speaker_name``,
    ``ds.index`` NumPy arrays (N,); ``ds.select(speakers=..., indices=...)``
    the recording numbers matching a split.
    """

    def __init__(self, path=None):
        path = Path(path) if path is not None else data_file("fsdd", FEATURES)
        keys = ("logmel", "offsets", "digit", "speaker", "index", "speakers")
        try:
            z = np.load(path, allow_pickle=False)
            if not hasattr(z, "files"):
                raise ValueError("it holds a single array, not an archive")
        except (OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path} is not a readable .npz file ({exc})") from exc
        with z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise ValueError(f"{path} lacks the arrays {missing}; rebuild it with "
                                 "python -m labrnn.datasets.fsdd build --source DIR")
            d = {k: z[k] for k in keys}
        self.path = path
        self.logmel = d["logmel"]
        self.offsets = d["offsets"]
        self.digit = d["digit"].astype(np.int64)
        self.speakers = [str(s) for s in d["speakers"]]
        self.speaker_name = np.array([self.speakers[i] for i in d["speaker"]])
        self.index = d["index"].astype(np.int64)
        if self.offsets[-1] != len(self.logmel) or len(self.offsets) != len(self.digit) + 1:
            raise ValueError(f"{path} is inconsistent: offsets do not match the stored frames")

    def __len__(self):
        return len(self.digit)

    def features(self, i):
        """Log-mel features (frames, n_mels) of recording ``i`` as float64."""
        return self.logmel[self.offsets[i]:self.offsets[i + 1]].astype(np.float64)

    def find(self, digit, speaker, index):
        """The recording number of ``{digit}_{speaker}_{index}.wav``."""
        hit = np.flatnonzero((self.digit == digit) & (self.speaker_name == speaker)
                             & (self.index == index))
        if hit.size != 1:
            raise KeyError(f"no recording {digit}_{speaker}_{index} in {self.path}")
        return int(hit[0])

    def select(self, speakers=None, indices=None):
        """Recording numbers whose speaker is in ``speakers`` and index in ``indices``."""
        keep = np.ones(len(self), dtype=bool)
        if speakers is not None:
            unknown = sorted(set(speakers) - set(self.speakers))
            if unknown:
                raise ValueError(f"unknown speakers {unknown}; FSDD has {self.speakers}")
            keep &= np.isin(self.speaker_name, list(speakers))
        if indices is not None:
            keep &= np.isin(self.index, list(indices))
        return np.flatnonzero(keep)


# ---------------------------------------------------------------- digit strings

def _noise_mel(frames, level, rng, fb):
    """Mel power of white noise: ``F @ (level * Exponential(1))`` per frame."""
    return (level * rng.exponential(size=(frames, fb.shape[1]))) @ fb.T


def make_utterance(ds, recordings, rng, pause=(2, 12), snr_db=(10.0, 30.0), fb=None, pauses=None):
    """Join the recordings ``recordings`` (numbers into ``ds``) into one utterance's log-mel.

    Before, between and after the digits a pause of ``randint(pause[0], pause[1] + 1)``
    frames (40-240 ms by default); white noise at a signal-to-noise ratio drawn
    uniformly from ``snr_db`` (relative to the mean mel power of the speech frames)
    is added to every frame in the power domain (see the module docstring).
    ``pauses`` (optional) gives the ``len(recordings) + 1`` pause lengths in frames
    instead of drawing them (a batch of equal-length utterances). ``rng`` is a seeded ``numpy.random.Generator``. Returns ``(X, labels)``: X
    (frames, n_mels) float64, labels the digits' CTC classes (digit + 1).
    """
    fb = mel_filterbank() if fb is None else fb
    parts = [np.exp(ds.features(i).astype(np.float64)) - FLOOR for i in recordings]
    parts = [np.maximum(p, 0.0) for p in parts]
    speech = np.concatenate(parts)
    mean_power = float(speech.sum(axis=1).mean())
    snr = rng.uniform(*snr_db)
    # total noise power per frame = mean speech power / 10^(snr/10)
    level = mean_power / 10 ** (snr / 10) / fb.sum()
    if pauses is None:
        pauses = rng.integers(pause[0], pause[1] + 1, size=len(parts) + 1)
    if len(pauses) != len(parts) + 1 or min(pauses) < 0:
        raise ValueError(f"pauses must hold {len(parts) + 1} non-negative frame counts (before, "
                         f"between and after {len(parts)} recordings), received {list(pauses)}")
    pieces = []
    for p, gap in zip(parts, pauses):
        pieces.append(np.zeros((int(gap), fb.shape[0])))
        pieces.append(p)
    pieces.append(np.zeros((int(pauses[-1]), fb.shape[0])))
    power = np.concatenate(pieces)
    power = power + _noise_mel(len(power), level, rng, fb)
    labels = [int(ds.digit[i]) + 1 for i in recordings]
    return np.log(power + FLOOR), labels


def join_waveforms(signals, rng, rate=RATE, pause=(0.04, 0.24), snr_db=20.0):
    """Waveform version of :func:`make_utterance`: pauses (seconds) and Gaussian white noise.

    ``signals`` a list of 1-d sample arrays; the noise's variance is the mean power of
    the speech samples over ``10^(snr_db / 10)``. Returns ``(samples, starts)`` with
    the sample index at which each recording starts.
    """
    pieces, starts, pos = [], [], 0
    for s in signals:
        gap = np.zeros(int(rng.uniform(*pause) * rate))
        pieces.append(gap)
        pos += gap.size
        starts.append(pos)
        pieces.append(np.asarray(s, dtype=np.float64))
        pos += len(s)
    pieces.append(np.zeros(int(rng.uniform(*pause) * rate)))
    x = np.concatenate(pieces)
    power = float(np.mean(np.concatenate([np.asarray(s, float) for s in signals]) ** 2))
    x = x + rng.normal(scale=np.sqrt(power / 10 ** (snr_db / 10)), size=x.size)
    return x, starts


# ---------------------------------------------------------------- command line

def main(argv=None):
    """``python -m labrnn.datasets.fsdd build --source DIR [--out PATH]``: write the features."""
    ap = argparse.ArgumentParser(prog="python -m labrnn.datasets.fsdd",
                                 description="Build data/fsdd/fsdd_logmel.npz from FSDD WAV files")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="compute the log-mel features of every recording")
    b.add_argument("--source", required=True, help="folder with the FSDD .wav recordings")
    b.add_argument("--out", default=None, help="output .npz (default data/fsdd/fsdd_logmel.npz)")
    args = ap.parse_args(argv)
    from . import data_dir
    out = Path(args.out) if args.out else data_dir() / "fsdd" / FEATURES
    out.parent.mkdir(parents=True, exist_ok=True)
    print("wrote", build_features(args.source, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
