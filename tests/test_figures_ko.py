"""Figures in Korean (`mitbadak experiment NAME --lang ko`): the translation catalogue, every
lesson's figures translated, drawn in a Korean font without a missing glyph, and nothing
leaking into other figures."""

import json
import re
import warnings
from pathlib import Path

import matplotlib
import pytest

from mitbadak.cli import main
from mitbadak.cli.experiment import LANGUAGES as CLI_LANGUAGES
from mitbadak.experiments import EXPERIMENTS, _report, compute, load, run_experiment
from mitbadak.experiments._ko import KO
from mitbadak.viz import i18n
from mitbadak.viz.figures import new_figure
from mitbadak.viz.i18n import Catalogue, FontNotFoundError, korean_font, localize

FIGURES = Path(__file__).parents[1] / "docs" / "figures"
HANGUL = re.compile("[\uac00-\ud7a3]")


def installed_korean_font():
    try:
        return korean_font()
    except FontNotFoundError:
        return None


@pytest.fixture
def glyphs_checked(monkeypatch):
    """With a Korean font installed (CI installs fonts-nanum), a missing glyph is an error;
    without one, the figures are drawn in DejaVu Sans and the glyphs are not checked."""
    with warnings.catch_warnings():
        if installed_korean_font() is None:
            monkeypatch.setattr(_report, "korean_font", lambda: i18n.FALLBACK_FAMILY)
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        else:
            warnings.filterwarnings("error", message="Glyph .* missing from font")
        yield


def test_exact_entries_patterns_and_english_fallback():
    ko = Catalogue({"epoch": "에폭", "sigmoid": "시그모이드",
                    "{activation} units, lr {lr}": "{activation} 뉴런, 학습률 {lr}"})
    assert ko("epoch") == "에폭"
    assert ko("sigmoid units, lr 0.01") == "시그모이드 뉴런, 학습률 0.01"  # the value translated
    assert ko("tanh units, lr 1") == "tanh 뉴런, 학습률 1"  # or kept
    assert ko.translate("test accuracy") is None and ko("test accuracy") == "test accuracy"
    assert ko("epoch\nsigmoid\nmore") == "에폭\n시그모이드\nmore"  # line by line


def test_the_pattern_with_most_fixed_text_wins_and_figures_can_differ():
    ko = Catalogue({"std {s}": "표준편차 {s}", "std {s}, zero {p}": "표준편차 {s}, 0인 값 {p}",
                    "step": "계단 함수"}, figures={"gradient": {"step": "단계"}})
    assert ko("std 0.1, zero 50%") == "표준편차 0.1, 0인 값 50%"
    assert ko("step") == "계단 함수" and ko.for_figure("gradient")("step") == "단계"
    assert ko.for_figure("activations") is ko


def test_untranslated_names_english_words_outside_formulas_and_kept_names():
    ko = Catalogue({}, keep=["SGD"])
    assert ko.untranslated("$\\nabla f$: SGD 학습률 0.1 (x, y)") == []
    assert ko.untranslated("SGD training loss") == ["training", "loss"]
    # names from code (digits, underscores, dots) are not English words; a sentence's dot is
    assert ko.untranslated("Seq2seq, clip_grad_norm_, mb.autograd.grad, h_50 (approx.)") == [
        "approx"]


def lesson_result(name):
    """The lesson's full result as the gallery wrote it in docs/figures, else its quick one."""
    saved = FIGURES / f"{name}.json"
    if saved.exists():
        return json.loads(saved.read_text())["result"]
    return compute(name, quick=True)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_lesson_figure_is_translated(name, tmp_path, monkeypatch, glyphs_checked):
    """Each text of each lesson's figures, translated, keeps no English word: a new lesson
    adds its texts to `mitbadak.experiments._ko.ENTRIES` (this test lists what is missing)."""
    left = []
    monkeypatch.setattr(_report, "localize",
                        lambda figure, catalogue, family: left.extend(
                            localize(figure, catalogue, family)))
    with _report.figure_language("ko"):
        load(name).draw(lesson_result(name), tmp_path)
    assert left == []


def test_a_korean_figure_renders_without_missing_glyphs(tmp_path):
    family = installed_korean_font()
    if family is None:
        pytest.skip("no Korean font installed (apt-get install fonts-nanum)")
    rc = dict(matplotlib.rcParams)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = run_experiment("gradient-check", tmp_path, quick=True, lang="ko",
                                dataset="digits")
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in report.files if p.suffix == ".png")
    assert dict(matplotlib.rcParams) == rc  # no global setting changed
    assert new_figure().text(0, 0, "x").get_fontfamily() == rc["font.family"]


def test_only_korean_texts_take_the_korean_font():
    family = installed_korean_font() or i18n.FALLBACK_FAMILY
    figure = new_figure()
    axes = figure.subplots()
    axes.semilogy([1, 2, 3], [1e-3, 1, 1e3])
    axes.bar(["backprop", "numerical"], [1, 2])
    axes.set(xlabel="epoch", title="$x_0$ (log scale)")
    assert localize(figure, KO, family) == ["$x_0$ (log scale)"]
    figure.canvas.draw()
    assert axes.get_xlabel() == "에폭" and axes.xaxis.label.get_fontfamily()[0] == family
    assert [t.get_text() for t in axes.get_xticklabels()] == ["역전파", "수치 미분"]
    assert axes.get_xticklabels()[0].get_fontfamily()[0] == family
    # numbers and formulas keep matplotlib's font, whose minus sign a Korean font may lack
    assert axes.get_yticklabels()[0].get_fontfamily() == matplotlib.rcParams["font.family"]


def test_data_texts_and_data_axes_stay_as_drawn():
    """A text marked as data (a corpus's word) and the tick labels of an axis marked as data
    (a sequence's characters) are neither translated nor counted as English left."""
    figure = new_figure()
    axes = figure.subplots()
    word = axes.annotate("epoch", (0, 0), gid=i18n.DATA)  # a word the catalogue knows
    other = axes.annotate("menenius", (1, 1), gid=i18n.DATA)
    for ticks in (axes.set_xticks, axes.set_yticks):
        ticks([0, 1], ["train", "coriolanus"])
    axes.xaxis.set_gid(i18n.DATA)
    axes.set(xlabel="epoch", ylabel="accuracy")
    left = localize(figure, KO, installed_korean_font() or i18n.FALLBACK_FAMILY)
    assert set(left) == {"coriolanus"}  # the y axis's, which is not data
    figure.canvas.draw()
    assert (word.get_text(), other.get_text()) == ("epoch", "menenius")
    assert [t.get_text() for t in axes.get_xticklabels()] == ["train", "coriolanus"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["훈련", "coriolanus"]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("에폭", "정확도")  # an axis's own label


def test_a_missing_font_is_one_line_naming_the_package(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(i18n, "KOREAN_FONTS", (("No Such Font", "nosuchfont"),))
    monkeypatch.setattr(matplotlib.font_manager.fontManager, "ttflist", [])
    with pytest.raises(FontNotFoundError, match="apt-get install fonts-nanum"):
        korean_font()
    assert main(["experiment", "gradient", "--quick", "--lang", "ko",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "fonts-nanum" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # said before the run, not after it


def test_help_stays_english_and_the_languages_agree(capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    out = capsys.readouterr().out
    assert "--lang" in out and not HANGUL.search(out)
    assert CLI_LANGUAGES == _report.LANGUAGES
