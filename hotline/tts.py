"""Text-to-speech engines for `hotline audio build`, and the phone format of audio files.

gTTS (Google Translate's voices; needs the internet: a release step) and espeak-ng (offline,
from Debian: local use and tests). sox, a long-maintained audio tool from Debian, turns
any file into what a phone line carries: mono, 8 kHz, silence trimmed, loudness levelled.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from .speech import french_spans, plain

GTTS_TIMEOUT = 15.0


class EngineUnavailable(RuntimeError):
    pass


class Gtts:
    name = "gtts"
    suffix = ".mp3"
    offline = False

    def render(self, text: str, voice: str, out: Path) -> None:
        """French names ([fr:...]) are rendered by the French voice and the MP3s joined
        (MP3 frames follow one another: the joined file plays as one)."""
        from gtts import gTTS

        lang, _, tld = voice.partition("@")  # "en@co.uk": English with a British accent
        if lang == FRENCH_VOICES["gtts"]:
            spans = [(plain(text), False)]
        else:
            spans = french_spans(text)
        with out.open("wb") as f:
            for words, french in spans:
                if not any(c.isalnum() for c in words):
                    continue  # punctuation between two French names: nothing to say
                piece = gTTS(words, lang="fr" if french else lang,
                             tld="fr" if french else (tld or "com"), timeout=GTTS_TIMEOUT)
                piece.write_to_fp(f)


class Espeak:
    name = "espeak"
    suffix = ".wav"
    offline = True

    def __init__(self) -> None:
        self.binary = shutil.which("espeak-ng") or shutil.which("espeak")

    def render(self, text: str, voice: str, out: Path) -> None:
        if not self.binary:
            raise EngineUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.wav"
            subprocess.run([self.binary, *self.arguments(text, voice), "-w", str(raw)],
                           check=True, capture_output=True, timeout=60)
            phone_format(raw, out, trim=False)


    @staticmethod
    def arguments(text: str, voice: str) -> list[str]:
        """espeak-ng's arguments: French names ([fr:...]) in SSML <voice name="fr"> (-m)."""
        spans = french_spans(text)
        if voice == FRENCH_VOICES["espeak"] or not any(french for _, french in spans):
            return ["-v", voice, "-s", "140", plain(text)]
        ssml = "".join(f'<voice name="{FRENCH_VOICES["espeak"]}">{escape(words)}</voice>'
                       if french else escape(words) for words, french in spans)
        return ["-m", "-v", voice, "-s", "140", f"<speak>{ssml}</speak>"]


ENGINES = {"gtts": Gtts, "espeak": Espeak}
FRENCH_VOICES = {"gtts": "fr", "espeak": "fr"}


def phone_format(src: Path, dst: Path, trim: bool = True) -> None:
    """Mono 8 kHz mu-law WAV (what a phone line carries, so Twilio plays it untouched and
    it is half the size of PCM), peak-normalised, leading and trailing silence trimmed."""
    sox = shutil.which("sox")
    if not sox:
        if src.suffix.lower() == dst.suffix.lower():
            shutil.copyfile(src, dst)
            return
        raise EngineUnavailable("sox is not installed (apt-get install sox)")
    effects = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%",
               "reverse"] if trim else []
    subprocess.run([sox, str(src), "-c", "1", "-r", "8000", "-e", "mu-law", "-b", "8", str(dst),
                    *effects, "norm", "-3"], check=True, capture_output=True, timeout=120)


def duration_seconds(path: Path) -> float:
    """Length of an audio file as decoded by soxi (sox)."""
    soxi = shutil.which("soxi")
    if not soxi:
        raise EngineUnavailable("soxi (sox) is needed to read the length of audio files")
    out = subprocess.run([soxi, "-D", str(path)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())
