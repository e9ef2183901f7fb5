"""The FSDD loader, the log-mel features and the digit-string builder (labrnn.datasets.fsdd)."""

import shutil
import wave

import numpy as np
import pytest

from labrnn.datasets import data_file
from labrnn.datasets import fsdd
from labrnn.datasets.fsdd import (FSDD, N_MELS, build_features, join_waveforms, log_mel_spectrogram,
                                  make_utterance, mel_filterbank, read_wav, wav_path)

SHIPPED = sorted(data_file("fsdd", "recordings").glob("*.wav"))


@pytest.fixture(scope="module")
def ds():
    return FSDD()


def test_read_wav_reads_a_shipped_recording():
    path = wav_path(7, "jackson", 0)
    x, rate = read_wav(path)
    assert rate == 8000 and x.dtype == np.float64
    assert x.size == (path.stat().st_size - 44) // 2          # a plain 44-byte header
    assert -1.0 <= x.min() < 0 < x.max() < 1.0


def test_truncated_wav_is_refused_naming_the_file(tmp_path):
    src = wav_path(3, "theo", 0)
    bad = tmp_path / "3_theo_0.wav"
    bad.write_bytes(src.read_bytes()[:-1000])
    with pytest.raises(ValueError, match=r"3_theo_0.wav is truncated: its header announces \d+ "
                                         r"samples but it holds \d+"):
        read_wav(bad)


def test_malformed_and_wrong_format_wavs_are_refused(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not a RIFF file at all" * 4)
    with pytest.raises(ValueError, match=r"junk.wav is not a readable WAV file"):
        read_wav(junk)
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 20)
    with pytest.raises(ValueError, match=r"has 2 channel\(s\) of 16-bit samples; expected mono"):
        read_wav(stereo)
    with pytest.raises(FileNotFoundError, match="no WAV file"):
        read_wav(tmp_path / "missing.wav")


def test_mel_filterbank_triangles():
    fb = mel_filterbank()
    assert fb.shape == (N_MELS, 257)
    assert (fb >= 0).all() and (fb.max(axis=1) > 0.5).all()       # every filter sees a bin
    peaks = fb.argmax(axis=1)
    assert (np.diff(peaks) > 0).all()                               # centres increase
    # triangle: rises then falls, each filter is one contiguous run of bins
    for row in fb:
        nz = np.flatnonzero(row)
        assert (np.diff(nz) == 1).all()


def test_log_mel_of_a_tone_peaks_in_the_right_band():
    t = np.arange(8000) / 8000
    X = log_mel_spectrogram(np.sin(2 * np.pi * 1000 * t))
    assert X.shape == (50, N_MELS)                                  # 50 frames per second
    fb = mel_filterbank()
    band = int(np.argmax(fb[:, round(1000 / (8000 / 512))]))        # the band of the 1 kHz bin
    assert abs(int(np.argmax(X[25])) - band) <= 1


def test_shipped_features_are_those_of_the_shipped_recordings(ds):
    assert len(SHIPPED) == 20
    for path in SHIPPED:
        d, spk, idx = path.stem.split("_")
        x, _ = read_wav(path)
        stored = ds.features(ds.find(int(d), spk, int(idx)))
        # stored as float16: about 3 significant digits
        np.testing.assert_allclose(stored, log_mel_spectrogram(x), rtol=2e-3, atol=2e-3)


def test_dataset_holds_every_recording(ds):
    assert len(ds) == 3000
    assert sorted(ds.speakers) == ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
    for s in ds.speakers:
        for d in range(10):
            assert len(np.flatnonzero((ds.speaker_name == s) & (ds.digit == d))) == 50
    assert len(ds.select(["theo"], range(5))) == 50
    with pytest.raises(ValueError, match=r"unknown speakers \['zoe'\]"):
        ds.select(["zoe"])
    with pytest.raises(KeyError, match="no recording 3_theo_99"):
        ds.find(3, "theo", 99)


def test_bad_feature_file_is_refused(tmp_path):
    p = tmp_path / "f.npz"
    np.savez(p, logmel=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"lacks the arrays \['offsets'"):
        FSDD(p)
    q = tmp_path / "g.npz"
    q.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="is not a readable .npz file"):
        FSDD(q)


def test_build_features_round_trip(tmp_path):
    src = tmp_path / "wavs"
    src.mkdir()
    for p in SHIPPED[:3]:
        shutil.copy(p, src / p.name)
    out = build_features(src, tmp_path / "f.npz")
    small = FSDD(out)
    assert len(small) == 3
    x, _ = read_wav(SHIPPED[0])
    np.testing.assert_allclose(small.features(0), log_mel_spectrogram(x), rtol=2e-3, atol=2e-3)
    assert fsdd.main(["build", "--source", str(src), "--out", str(tmp_path / "h.npz")]) == 0
    with pytest.raises(ValueError, match=r"FSDD file names look like"):
        (src / "oops.wav").write_bytes(SHIPPED[0].read_bytes())
        build_features(src, tmp_path / "x.npz")


def test_make_utterance_lengths_labels_and_noise(ds):
    recs = [ds.find(4, "jackson", 0), ds.find(4, "jackson", 1), ds.find(0, "jackson", 0)]
    pauses = [3, 5, 0, 7]
    X, labels = make_utterance(ds, recs, np.random.default_rng(0), pauses=pauses)
    n = [len(ds.features(i)) for i in recs]
    assert X.shape == (sum(n) + sum(pauses), N_MELS)
    assert labels == [5, 5, 1]                              # CTC class = digit + 1
    X2, _ = make_utterance(ds, recs, np.random.default_rng(0), pauses=pauses)
    np.testing.assert_array_equal(X, X2)                   # seeded
    # the leading pause is noise only: quieter than the speech that follows
    assert X[:3].mean() < X[3:3 + n[0]].mean() - 2
    X3, _ = make_utterance(ds, recs, np.random.default_rng(1))
    assert len(X3) >= sum(n) + 4 * 2
    with pytest.raises(ValueError, match=r"pauses must hold 4 non-negative frame counts"):
        make_utterance(ds, recs, np.random.default_rng(0), pauses=[1, 2])


def test_join_waveforms_places_recordings():
    a, b = np.ones(100) * 0.5, -np.ones(50) * 0.5
    x, starts = join_waveforms([a, b], np.random.default_rng(0), snr_db=60.0)
    assert len(starts) == 2 and starts[1] >= starts[0] + 100
    np.testing.assert_allclose(x[starts[0]:starts[0] + 100], 0.5, atol=0.01)
    np.testing.assert_allclose(x[starts[1]:starts[1] + 50], -0.5, atol=0.01)
