"""Sound for a finished video: the user's own file fitted to the video, or an ambient bed synthesised
from a seed (no downloads, no audio files in the repository).

Every function returns float32 samples shaped (N, 2), stereo, in [-1, 1], at :data:`RATE` Hz.
"""
from __future__ import annotations

import math
import os
import typing
from pathlib import Path

import numpy as np

from pipelines.core.errors import InputError
from pipelines.core.schema import SoundBed

#: One sample rate for everything: Opus (WebM) only takes 48 kHz, and AAC is happy with it.
RATE = 48_000
#: Built-in beds, synthesised in code. "silence" writes a silent track (some sites want one).
SOUND_BEDS: tuple[str, ...] = typing.get_args(SoundBed)
#: A file whose peak stays below this (about -80 dBFS) is treated as silent.
SILENT_PEAK = 1e-4
#: Files longer than this get a notice (only the first seconds are decoded, so length costs nothing).
LONG_FILE_S = 3600.0


def _noise(n: int, rng: np.random.Generator, shape) -> np.ndarray:
    """Noise of n samples whose spectrum follows ``shape(freq_hz)``; shaped in the frequency domain,
    so the result is exactly periodic over n samples (a looping video loops its sound without a click)."""
    freqs = np.fft.rfftfreq(n, 1.0 / RATE)
    spec = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) * shape(freqs)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return x / (np.abs(x).max() + 1e-12)


def _lfo(n: int, duration: float, rng: np.random.Generator, period_s: float, count: int = 3) -> np.ndarray:
    """A slow random modulation in [0, 1], a sum of sinusoids that complete whole cycles in the
    video's duration (so it is periodic too)."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for _ in range(count):
        cycles = max(1, round(duration / (period_s * rng.uniform(0.6, 1.6))))
        out += np.sin(2 * np.pi * cycles * t / duration + rng.uniform(0, 2 * np.pi))
    return 0.5 + 0.5 * out / count


def _band(lo: float, hi: float, tilt: float = 0.0):
    """A smooth band-pass magnitude response, with a 1/f**tilt slope."""
    def shape(f):
        f = np.maximum(f, 1.0)
        return (1 / (1 + (lo / f) ** 4)) * (1 / (1 + (f / hi) ** 4)) / f ** (tilt / 2)
    return shape


def _stereo(rng, n, make) -> np.ndarray:
    return np.stack([make(np.random.default_rng(rng.integers(2**32))) for _ in range(2)], axis=-1)


def synth_bed(name: str, duration: float, seed: int = 0) -> np.ndarray:
    """Synthesise the ambient bed ``name`` (one of :data:`SOUND_BEDS`), ``duration`` seconds long.

    Same name, duration and seed give the same samples. Every bed is periodic over its duration, so a
    seamless-loop video keeps seamless sound. Returns (N, 2) float32 peaking at 0.5 (-6 dBFS).
    """
    if name not in SOUND_BEDS:
        raise InputError(f"unknown sound bed {name!r}; choose one of {', '.join(SOUND_BEDS)}, a file, or none")
    n = max(1, round(duration * RATE))
    if name == "silence":
        return np.zeros((n, 2), np.float32)
    rng = np.random.default_rng([seed, SOUND_BEDS.index(name)])

    if name == "wind":
        def make(r):
            # Two bands whose loudness wanders independently: gusts that change colour.
            low = _noise(n, r, _band(120, 600, 1.0)) * _lfo(n, duration, r, 3.0) ** 2
            high = _noise(n, r, _band(500, 2500, 1.0)) * _lfo(n, duration, r, 2.0) ** 3
            return low + 0.5 * high
    elif name == "rain":
        def make(r):
            hiss = _noise(n, r, _band(800, 9000, 0.5))
            # Drops: sparse clicks, each a short ringing burst; circular convolution keeps it periodic.
            clicks = np.zeros(n)
            k = int(duration * 60)
            clicks[r.integers(0, n, k)] = r.uniform(0.2, 1.0, k) * r.choice([-1, 1], k)
            ring = np.exp(-np.arange(int(0.004 * RATE)) / (0.0008 * RATE))
            ring = ring * np.sin(2 * np.pi * 3000 * np.arange(ring.size) / RATE)
            drops = np.fft.irfft(np.fft.rfft(clicks) * np.fft.rfft(ring, n), n)
            return 0.6 * hiss + drops / (np.abs(drops).max() + 1e-12)
    elif name == "sea":
        def make(r):
            # Waves: a rumble and a wash that swell together every few seconds.
            swell = _lfo(n, duration, r, 6.0, count=1) ** 2
            rumble = _noise(n, r, _band(40, 400, 1.5))
            wash = _noise(n, r, _band(400, 5000, 0.5))
            return rumble * (0.3 + 0.7 * swell) + 0.5 * wash * swell ** 2
    else:  # pad
        root = 110.0 * 2 ** (rng.integers(0, 7) / 12)
        chord = [0, 3, 7, 10, 14] if rng.random() < 0.5 else [0, 4, 7, 11, 14]
        t = np.arange(n) / RATE

        def make(r):
            x = np.zeros(n)
            for semis in chord:
                for detune in (-0.08, 0.0, 0.08):
                    f = root * 2 ** ((semis + detune) / 12)
                    # Whole cycles per take, so the pad is periodic; three soft harmonics.
                    f = max(1, round(f * duration)) / duration
                    for h, amp in ((1, 1.0), (2, 0.3), (3, 0.12)):
                        x += amp * np.sin(2 * np.pi * h * f * t + r.uniform(0, 2 * np.pi))
            return x * (0.6 + 0.4 * _lfo(n, duration, r, 4.0))

    x = _stereo(rng, n, make)
    return (0.5 * x / (np.abs(x).max() + 1e-12)).astype(np.float32)


def load_audio(path: str | os.PathLike, duration: float, notices: list[str] | None = None) -> np.ndarray:
    """Decode the user's audio file and fit it to ``duration`` seconds: trimmed if longer, looped
    (with a short crossfade at each seam) if shorter. Only what is needed is decoded, so an hours-long
    file costs no more than a short one.

    Raises InputError naming the file for a missing, unreadable, non-audio, corrupt or silent file.
    """
    import av

    p = Path(path)
    if not p.is_file():
        raise InputError(f"audio file {str(p)!r} not found; pass an existing wav/mp3/m4a/ogg file, "
                         f"a built-in bed ({', '.join(SOUND_BEDS)}) or none")
    n = max(1, round(duration * RATE))
    chunks: list[np.ndarray] = []
    got = 0
    try:
        with av.open(str(p)) as container:
            if not container.streams.audio:
                raise InputError(f"{p.name!r} has no audio stream; choose a wav/mp3/m4a/ogg file")
            stream = container.streams.audio[0]
            if notices is not None and container.duration and container.duration / 1e6 > LONG_FILE_S:
                notices.append(f"{p.name} is {container.duration / 3.6e9:.1f} h long; "
                               f"using its first {duration:.1f} s")
            # Mono stays mono here and is copied to both channels below: ffmpeg's upmix would lower it 3 dB.
            mono = stream.codec_context.channels == 1
            resampler = av.AudioResampler(format="fltp", layout="mono" if mono else "stereo", rate=RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    got += chunks[-1].shape[1]
                if got >= n:
                    break
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise InputError(f"{p.name!r} is not a readable audio file ({type(exc).__name__}: {exc}); "
                         "choose a wav/mp3/m4a/ogg file") from None
    if got == 0:
        raise InputError(f"{p.name!r} contains no decodable audio (empty or corrupt); choose another file")
    x = np.concatenate(chunks, axis=1).T.astype(np.float32)
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    peak = float(np.abs(x).max())
    if not math.isfinite(peak) or peak < SILENT_PEAK:
        raise InputError(f"{p.name!r} is silent (peak {20 * math.log10(max(peak, 1e-12)):.0f} dBFS); "
                         "choose another file, a built-in bed, or --audio none")
    return _fit_length(x, n)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return np.ascontiguousarray(x[:n])
    seam = min(len(x) // 4, int(0.05 * RATE))
    if seam > 0:
        # Crossfade the tail into the head so the loop seam does not click.
        ramp = np.linspace(0, 1, seam, dtype=np.float32)[:, None]
        x = x.copy()
        x[:seam] = x[:seam] * ramp + x[-seam:] * (1 - ramp)
        x = x[:-seam]
    reps = -(-n // len(x))
    return np.ascontiguousarray(np.tile(x, (reps, 1))[:n])


def shape_audio(x: np.ndarray, volume: float, fade_in: float, fade_out: float) -> np.ndarray:
    """Apply volume and linear fades (seconds); fades longer than the sound are shortened to half
    its length each. Clips to [-1, 1]."""
    y = x * np.float32(volume)
    n = len(y)
    for secs, head in ((fade_in, True), (fade_out, False)):
        k = min(int(secs * RATE), n // 2)
        if k > 0:
            ramp = np.linspace(0, 1, k, dtype=np.float32)[:, None]
            if head:
                y[:k] *= ramp
            else:
                y[-k:] *= ramp[::-1]
    return np.clip(y, -1.0, 1.0, out=y)


def sound_for(source: str | None, duration: float, *, seed: int = 0, volume: float = 1.0,
              fade_in: float = 0.0, fade_out: float = 0.0, notices: list[str] | None = None) -> np.ndarray | None:
    """The finished sound for ``source``: None or "none" gives None (no audio stream); a bed name
    synthesises it; anything else is read as a file path."""
    if source is None or source.strip().lower() == "none":
        return None
    name = source.strip().lower()
    x = synth_bed(name, duration, seed) if name in SOUND_BEDS else load_audio(source, duration, notices)
    return shape_audio(x, volume, fade_in, fade_out)
