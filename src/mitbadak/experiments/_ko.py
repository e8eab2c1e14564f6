"""The lessons' figures in Korean (``mitbadak experiment NAME --lang ko``): one table, `KO`.

Each entry maps a text a lesson draws (a title, an axis label, a legend entry) to its Korean,
in the terms of the book's Korean edition (밑바닥부터 시작하는 딥러닝): 퍼셉트론, 활성화 함수,
오차역전파법, 배치 정규화, 가중치 감소, 손실 함수, 정확도, 에폭. ``{name}`` stands for any
text, carried over (and translated itself if the table has it): see `mitbadak.viz.i18n`.
A text the table lacks is drawn in English; tests/test_figures_ko.py lists, for every lesson,
the English words its figures still show. A new lesson adds its section below.
"""

from __future__ import annotations

from mitbadak.viz.i18n import Catalogue

#: Words that stay as they are in Korean: names of gates, optimizers, networks, datasets,
#: initialisations, and the symbols of formulas.
KEEP = ("AND", "NAND", "OR", "XOR", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam",
        "MLP", "ReLU", "TwoLayerNet", "SimpleConvNet", "He", "Xavier", "digits", "mnist",
        "fashion", "MNIST", "wd", "exp", "sum", "max", "inf", "nan", "ln", "dh", "dx", "ms",
        "float", "softmax", "tanh")

ENTRIES = {
    # shared
    "epoch": "에폭",
    "iteration": "반복",
    "accuracy": "정확도",
    "train": "훈련",
    "test": "시험",
    "validation": "검증",
    "lr {lr}": "학습률 {lr}",
    "std {std}": "표준편차 {std}",
    "training loss (smoothed)": "훈련 손실 (평활화)",
    "training accuracy": "훈련 정확도",
    "sigmoid": "시그모이드",
    "relu": "ReLU",
    # perceptron
    "{gate}: one line": "{gate}: 직선 하나",
    "target {t}": "정답 {t}",
    "Perceptron decision regions (shaded: output 1). No single line separates XOR.":
        "퍼셉트론의 결정 영역 (음영: 출력 1). XOR은 직선 하나로 나눌 수 없다.",
    "{gate} (converged)": "{gate} (수렴)",
    "{gate} (not converged)": "{gate} (수렴하지 않음)",
    "misclassified samples in the epoch": "에폭마다 잘못 분류한 샘플 수",
    "The perceptron learning rule (lr {lr}, seed {seed})":
        "퍼셉트론 학습 규칙 (학습률 {lr}, 시드 {seed})",
    # activations
    "step": "계단 함수",
    "dh/dx (autograd)": "dh/dx (자동 미분)",
    "Activation functions and their derivatives (computed by backpropagation)":
        "활성화 함수와 그 도함수 (오차역전파법으로 계산)",
    "naive: exp(a) / sum(exp(a))": "단순 구현: exp(a) / sum(exp(a))",
    "stable: exp(a - max a) / sum(...)": "오버플로 대책: exp(a - max a) / sum(...)",
    "input a_i": "입력 a_i",
    "Softmax of {a}": "{a}의 소프트맥스 함수",
    # gradient
    "$-\\nabla f$: downhill, longer where steeper": "$-\\nabla f$: 내려가는 방향, 가파를수록 길다",
    "lr {lr} ({name}): f = {f}": "학습률 {lr} ({name}): f = {f}",
    "good": "적당함",
    "too large": "너무 큼",
    "too small": "너무 작음",
    "  first step lands at {point}": "  첫 걸음이 {point}에 닿는다",
    "x + h == x in float64:\nnumerical gradient 0, path frozen":
        "float64에서 x + h == x:\n수치 미분 기울기가 0, 경로가 멈춘다",
    "{n} steps of gradient descent from {start}": "{start}에서 시작한 경사 하강법 {n}단계",
    "f(x) (log scale)": "f(x) (로그 스케일)",
    "f along the path": "경로를 따라간 f",
    # gradient-check
    "mean": "평균",
    "max": "최댓값",
    "|backprop - numerical|": "|역전파 - 수치 미분|",
    "Backprop vs numerical gradient": "오차역전파법 대 수치 미분",
    "backprop": "역전파",
    "numerical": "수치 미분",
    "numerical\n(extrapolated)": "수치 미분\n(외삽)",
    "2 forwards\nper parameter": "매개변수마다\n순전파 2번",
    "seconds per gradient": "기울기 한 번 구하는 시간 (초)",
    "Backprop is {times}x faster": "역전파가 {times}배 빠르다",
    "numerical d {loss} / d W2\n{n} of {size} entries nonzero":
        "수치 미분 d {loss} / d W2\n{size}개 중 {n}개가 0이 아님",
    "cross-entropy": "교차 엔트로피 오차",
    "hidden unit": "은닉층 뉴런",
    "class": "클래스",
    "all zero: moving one weight by h\nchanges no prediction":
        "모두 0: 가중치 하나를 h만큼 움직여도\n예측은 바뀌지 않는다",
    "TwoLayerNet {net} on {data}, batch {batch}, float64":
        "{data}에서 TwoLayerNet {net}, 배치 {batch}, float64",
    # optimizers
    "{name} (lr {lr}): f = {f}": "{name} (학습률 {lr}): f = {f}",
    "{n} steps on f(x, y) = x²/20 + y² from {start}":
        "{start}에서 시작해 f(x, y) = x²/20 + y² 위를 {n}단계",
    "{name} (lr {lr})": "{name} (학습률 {lr})",
    "MLP {net} (ReLU, He) on {data}, batch {batch}":
        "{data}에서 MLP {net} (ReLU, He), 배치 {batch}",
    # init-histograms
    "layer {i}": "{i}번째 층",
    "std {std}, saturated {share}": "표준편차 {std}, 포화 {share}",
    "std {std}, zero {share}": "표준편차 {std}, 0인 값 {share}",
    "{activation}, std {std}": "{activation}, 표준편차 {std}",
    "{activation}, xavier": "{activation}, Xavier 초깃값",
    "{activation}, he": "{activation}, He 초깃값",
    "(non-zero values)": "(0이 아닌 값)",
    "Activations of {layers} layers of {units} units on {n} random inputs "
    "(share of all activations per bin)":
        "무작위 입력 {n}개에 대한 {layers}층 (층마다 뉴런 {units}개)의 활성화값 분포 "
        "(구간마다 전체 활성화값에서 차지하는 비율)",
    # init-compare
    "{activation} units, lr {lr}": "{activation} 뉴런, 학습률 {lr}",
    "ln 10 (chance)": "ln 10 (무작위 추측)",
    "MLP {net} on {data}: SGD, batch {batch}": "{data}에서 MLP {net}: SGD, 배치 {batch}",
    # batchnorm
    "BatchNorm": "배치 정규화",
    "without": "배치 정규화 없음",
    "MLP {net} (ReLU) on {n} {data} samples, SGD lr {lr}, weights of std w":
        "{data} 샘플 {n}개에서 MLP {net} (ReLU), SGD 학습률 {lr}, 가중치 초깃값의 표준편차 w",
    # overfitting
    "{setting}: gap {gap}": "{setting}: 차이 {gap}",
    "none": "규제 없음",
    "weight decay {rate}": "가중치 감소 {rate}",
    "dropout {rate}": "드롭아웃 {rate}",
    "MLP {net} on {n} {data} training samples (test: {test}), SGD lr {lr}":
        "{data} 훈련 샘플 {n}개에서 MLP {net} (시험: {test}개), SGD 학습률 {lr}",
    # hyperparams
    "learning rate": "학습률",
    "weight decay": "가중치 감소",
    "validation accuracy": "검증 정확도",
    "{n} random trials on {data}: validation accuracy after {epochs} epochs":
        "{data}에서 무작위 시도 {n}번: {epochs} 에폭 뒤의 검증 정확도",
    "best (star): {val} at lr {lr}, weight decay {wd}":
        "최고 (별): 학습률 {lr}, 가중치 감소 {wd}에서 {val}",
    "#{rank}: val {val}": "#{rank}: 검증 {val}",
    "lr {lr}, wd {wd}": "학습률 {lr}, wd {wd}",
    "The {n} best trials: accuracy per epoch ({train} training, {val} validation samples "
    "of {data})":
        "상위 {n}개 시도: 에폭마다의 정확도 ({data}의 훈련 샘플 {train}개, 검증 샘플 {val}개)",
    # filters
    "before training: neighbour correlation {r}, test accuracy {a}":
        "학습 전: 이웃 가중치의 상관계수 {r}, 시험 정확도 {a}",
    "after training: neighbour correlation {r}, test accuracy {a}":
        "학습 후: 이웃 가중치의 상관계수 {r}, 시험 정확도 {a}",
    "SimpleConvNet's {n} first-layer filters on {data} ({iterations} iterations, "
    "{epochs} epochs)":
        "{data}에서 학습한 SimpleConvNet 첫 번째 층의 필터 {n}개 (반복 {iterations}번, "
        "{epochs} 에폭)",
    "a test image: {label}": "시험 이미지: {label}",
    "its {n} activation maps after conv + ReLU (each on its own scale)":
        "합성곱 + ReLU를 거친 특징 맵 {n}장 (각자의 범위로 정규화)",
    "T-shirt/top": "티셔츠/탑", "Trouser": "바지", "Pullover": "풀오버", "Dress": "드레스",
    "Coat": "코트", "Sandal": "샌들", "Shirt": "셔츠", "Sneaker": "스니커즈", "Bag": "가방",
    "Ankle boot": "앵클 부츠",
}

#: Entries of one figure only: an English word with another meaning there.
FIGURES = {"gradient": {"step": "단계"}}

KO = Catalogue(ENTRIES, KEEP, FIGURES)
