"""Figures in another language: translate a finished Figure's text and draw it in a font that
has the language's letters (``mitbadak experiment NAME --lang ko``).

A figure is drawn in English as it always is; `localize` then rewrites each of its texts
(titles, axis labels, legend entries, annotations, fixed tick labels) through a `Catalogue`,
and gives each text that now has Korean letters a font family list: a Korean font first,
matplotlib's DejaVu Sans after it for any glyph the first lacks (matplotlib falls back glyph
by glyph). Only that figure's texts change: no ``rcParams`` are touched, so no other figure
is affected.

A catalogue maps English texts to translations. An entry may hold ``{name}`` placeholders,
which match any text and carry it over, itself translated if the catalogue knows it::

    ko = Catalogue({"sigmoid": "시그모이드", "{act} units, lr {lr}": "{act} 뉴런, 학습률 {lr}"})
    ko("sigmoid units, lr 0.01")  # "시그모이드 뉴런, 학습률 0.01"
    ko("test accuracy")           # "test accuracy": no entry, the English stays

A text without a translation stays English (the figure is still drawn); `untranslated`
names the English words left in a text, which is how a test checks that a catalogue covers
every figure of the lessons. A name from code (``Seq2seq``, ``clip_grad_norm_``,
``mb.autograd.grad``: letters joined by digits, underscores or dots) is not an English word.

Some texts are data, drawn as they are in every language: the words of a corpus beside their
points, the characters of a sequence along a heat map's axes. The lesson marks such a text,
or an axis whose tick labels are data, with the gid `DATA`::

    ax.annotate(word, (x, y), gid=DATA)
    ax.xaxis.set_gid(DATA)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")  # "{name}" after re.escape
_FIELD = re.compile(r"\{\w+\}")  # "{name}" in an entry
_MATH = re.compile(r"\$[^$]*\$")  # mathtext: $...$ is formula, not words
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")  # a word or a name
_WORD = re.compile(r"[A-Za-z]{2,}")  # a token that is a word, not a name from code
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")  # jamo and syllables
FALLBACK_FAMILY = "DejaVu Sans"  # matplotlib's own font: Latin, Greek and math symbols
DATA = "mitbadak-data"  # the gid of a text, or of an axis (its tick labels), that is data


class Catalogue:
    """English text -> translation, exact entries and ``{name}`` patterns (see the module
    docstring). ``keep`` lists words that read the same in the translation (names such as
    ``SGD``, ``ReLU``, ``MNIST``): `untranslated` does not count them. ``figures`` holds the
    entries that differ in one figure (by its file name without ``.png``), for an English word
    of two meanings."""

    def __init__(self, entries: Mapping[str, str], keep: Iterable[str] = (),
                 figures: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.exact = {english: text for english, text in entries.items() if "{" not in english}
        # the pattern with the most fixed text first: "std {s}, zero {p}" before "std {s}"
        self.patterns = [(re.compile(_PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(english))), text)
                         for english, text in sorted(entries.items(),
                                                     key=lambda e: -len(_FIELD.sub("", e[0])))
                         if "{" in english]
        self.keep = frozenset(keep)
        self.figures = {name: Catalogue({**entries, **own}, keep)
                        for name, own in (figures or {}).items()}

    def for_figure(self, name: str) -> Catalogue:
        """The catalogue for the figure saved as ``name``.png."""
        return self.figures.get(name, self)

    def translate(self, text: str) -> str | None:
        """The translation of ``text``, or None if no entry matches it.

        An exact entry first, then the pattern with the most fixed text among those that
        match all of ``text``, each placeholder's value translated in turn (or kept as it is).
        A text of several lines that no entry matches whole is translated line by line.
        """
        if text in self.exact:
            return self.exact[text]
        for pattern, translation in self.patterns:
            match = pattern.fullmatch(text)
            if match:
                return translation.format(**{name: self(value)
                                             for name, value in match.groupdict().items()})
        if "\n" in text:
            lines = text.split("\n")
            if any(self.translate(line) is not None for line in lines):
                return "\n".join(map(self, lines))
        return None

    def __call__(self, text: str) -> str:
        """``text`` translated, or as it is when the catalogue has no translation."""
        translated = self.translate(text)
        return text if translated is None else translated

    def untranslated(self, text: str) -> list[str]:
        """The English words left in ``text`` (formulas in ``$...$``, names from code and kept
        names aside)."""
        return [word for word in _TOKEN.findall(_MATH.sub("", text))
                if _WORD.fullmatch(word) and word not in self.keep]


def localize(figure: Any, catalogue: Catalogue, family: str) -> list[str]:
    """Translate every text of ``figure`` in place and draw those with Korean letters in
    ``family`` (with DejaVu Sans behind it for the rest). Returns the texts, after
    translation, that keep English words. Texts marked as data (gid `DATA`, see the module
    docstring) stay as they are and are not returned.

    Texts without Korean (numbers on the axes, formulas) keep matplotlib's font: mathtext
    draws a formula's digits and signs in the text's own font, and a Korean font may lack
    the minus sign of ``10^{-2}``.
    """
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    families = [family, FALLBACK_FAMILY]
    data: set[Text] = set()  # the tick labels of data axes
    # tick labels of words: bars of names (StrCategoryFormatter), set_xticks' labels
    # (a FuncFormatter in recent matplotlib, a FixedFormatter in older ones)
    for axes in figure.axes:
        for name, axis in (("x", axes.xaxis), ("y", axes.yaxis)):
            if axis.get_gid() == DATA:
                data.update(label for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                            for label in (tick.label1, tick.label2))
                continue
            words = axis.get_major_formatter()
            if isinstance(words, (FixedFormatter, FuncFormatter, StrCategoryFormatter)):
                axis.set_major_formatter(FuncFormatter(
                    lambda x, pos, words=words: catalogue(words(x, pos))))
                labels = words.format_ticks(axis.get_majorticklocs())
                if any(HANGUL.search(catalogue(label)) for label in labels):
                    axes.tick_params(axis=name, labelfontfamily=families)
    left = []
    for text in figure.findobj(Text):
        if text.get_gid() == DATA or text in data:
            continue
        translated = catalogue(text.get_text())
        text.set_text(translated)
        if HANGUL.search(translated):
            text.set_fontfamily(families)
        if catalogue.untranslated(translated):
            left.append(translated)
    return left


class FontNotFoundError(LookupError):
    """No installed font has the letters of the language asked for."""


#: Korean fonts, in order of preference: (family name, how its file names begin, lower case):
#: Debian's fonts-nanum, fonts-noto-cjk, Windows', macOS', fonts-unfonts-core.
KOREAN_FONTS = (
    ("NanumGothic", "nanumgothic."), ("NanumBarunGothic", "nanumbarungothic."),
    ("Noto Sans CJK KR", "notosanscjk"), ("Noto Sans KR", "notosanskr"),
    ("Malgun Gothic", "malgun"), ("Apple SD Gothic Neo", "applesdgothicneo"),
    ("AppleGothic", "applegothic"), ("UnDotum", "undotum"),
)
HANGUL_GA = 0xAC00  # 가: a font that has it has Hangul


def korean_font() -> str:
    """The family name of an installed Korean font (see `KOREAN_FONTS`), registered with
    matplotlib. Raises `FontNotFoundError`, naming the package to install, if there is none.

    matplotlib lists the system's fonts once, in a cache: a font installed after that is not
    in its list, so the font files themselves are looked for too, and added.
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for family, _ in KOREAN_FONTS:
        if family in known:
            return family
    files = sorted(font_manager.findSystemFonts(), key=lambda path: Path(path).name.lower())
    for _, prefix in KOREAN_FONTS:
        for path in files:
            if (Path(path).name.lower().startswith(prefix)
                    and FT2Font(path).get_char_index(HANGUL_GA)):
                font_manager.fontManager.addfont(path)
                return str(font_manager.FontProperties(fname=path).get_name())
    raise FontNotFoundError(
        "no Korean font found for --lang ko: install one, e.g. `apt-get install fonts-nanum` "
        "(Debian, Ubuntu) or `dnf install naver-nanum-gothic-fonts` (Fedora), then run again")
