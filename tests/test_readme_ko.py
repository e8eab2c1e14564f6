"""The Korean README (README.ko.md) is the English one translated, not a different document.

Its code blocks are the English blocks (only their `#` comments may be translated), it has the
same sections, its links resolve, and it speaks the Korean edition's terms
(밑바닥부터 시작하는 딥러닝).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_KO = (ROOT / "README.ko.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```.*?^```$", re.S | re.M)
BOOK_TERMS = ("퍼셉트론", "활성화 함수", "계단 함수", "시그모이드 함수", "소프트맥스 함수",
              "손실 함수", "교차 엔트로피 오차", "평균 제곱 오차", "수치 미분", "기울기",
              "경사 하강법", "오차역전파법", "계산 그래프", "연쇄법칙", "가중치 초기화",
              "배치 정규화", "드롭아웃", "가중치 감소", "합성곱 신경망", "풀링 계층",
              "하이퍼파라미터", "에폭", "미니배치")


def code_blocks(text: str) -> list[str]:
    """Each fenced block (fence line included) without its `#` comments, which are prose.

    Whole comment lines (also the printed output shown as comments) are dropped and a trailing
    `  # ...` is cut off; what remains, the code and the commands, must match character for
    character.
    """
    return ["\n".join(re.sub(r"\s+#.*$", "", line) for line in block.splitlines()
                      if not line.lstrip().startswith("#"))
            for block in FENCE.findall(text)]


def headings(text: str, level: str) -> list[str]:
    return re.findall(rf"^{level} .*$", FENCE.sub("", text), re.M)


def test_the_korean_readme_has_the_same_code_blocks_in_order():
    assert len(code_blocks(README)) >= 10
    assert code_blocks(README_KO) == code_blocks(README)


def test_the_korean_readme_has_the_same_sections():
    for level in ("#", "##", "###"):
        assert len(headings(README_KO, level)) == len(headings(README, level)), level


def test_the_readmes_link_to_each_other():
    assert README_KO.splitlines()[0] == "[English](README.md)"
    assert README.splitlines()[1] == "[한국어](README.ko.md)"


def test_every_relative_link_in_the_korean_readme_exists():
    links = [t for t in re.findall(r"\]\(([^)#]+)\)", README_KO) if "://" not in t]
    assert len(links) >= 40
    missing = [t for t in links if not (ROOT / t).exists()]
    assert not missing, f"README.ko.md links to files that do not exist: {missing}"


def test_every_anchor_in_the_korean_readme_has_a_target():
    anchors = re.findall(r"\]\(#([^)]+)\)", README_KO)
    assert anchors
    for anchor in anchors:
        assert f'<a id="{anchor}"></a>' in README_KO, f"README.ko.md: no target for #{anchor}"


def test_the_korean_readme_uses_the_korean_editions_terms():
    missing = [term for term in BOOK_TERMS if term not in README_KO]
    assert not missing, f"README.ko.md never says {missing}"


def test_the_korean_readme_is_korean_prose():
    prose = FENCE.sub("", README_KO)
    hangul = len(re.findall(r"[\uac00-\ud7a3]", prose))
    assert hangul > 3000, hangul
