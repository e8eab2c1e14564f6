"""The lessons' figures in Korean (``mitbadak experiment NAME --lang ko``): one table, `KO`.

Each entry maps a text a lesson draws (a title, an axis label, a legend entry) to its Korean,
in the terms of the book's Korean edition (밑바닥부터 시작하는 딥러닝): 퍼셉트론, 활성화 함수,
오차역전파법, 배치 정규화, 가중치 감소, 손실 함수, 정확도, 에폭. ``{name}`` stands for any
text, carried over (and translated itself if the table has it): see `mitbadak.viz.i18n`.
A text the table lacks is drawn in English; tests/test_figures_ko.py lists, for every lesson,
the English words its figures still show. A new lesson adds its section below. Texts that are
data (the words of a corpus, the characters along a heat map's axes) have no entry: the lesson
marks them with the gid `mitbadak.viz.i18n.DATA`, and they are drawn as they are.
"""

from __future__ import annotations

from mitbadak.viz.i18n import Catalogue

#: Words that stay as they are in Korean: names of gates, optimizers, networks, datasets,
#: initialisations, and the symbols of formulas.
KEEP = ("AND", "NAND", "OR", "XOR", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam",
        "MLP", "ReLU", "TwoLayerNet", "SimpleConvNet", "He", "Xavier", "digits", "mnist",
        "fashion", "MNIST", "wd", "exp", "sum", "max", "inf", "nan", "ln", "dh", "dx", "ms",
        "float", "softmax", "tanh",
        "LSTM", "GPT", "RNN", "CBOW", "PPMI", "SVD", "MSE", "ISO", "tinyshakespeare", "nat",
        "forget", "randn", "Wh", "dL", "True")

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
    # language-model
    "loss": "손실",
    "mini-batch loss": "미니배치 손실",
    "training loss (nats per character)": "훈련 손실 (문자당 nat)",
    "perplexity": "퍼플렉서티",
    "perplexity per character after each epoch": "에폭마다 잰 문자당 퍼플렉서티",
    "LSTM language model {size}, dropout {p}, tied weights, on {data}":
        "{data}에서 학습한 LSTM 언어 모델 {size}, 드롭아웃 {p}, 가중치 공유",
    "tinyshakespeare (characters)": "tinyshakespeare (문자 단위)",
    # word2vec (the words beside the points are the corpus's own: data, never translated)
    "{method}: the {n} most common words": "{method}: 가장 자주 나오는 단어 {n}개",
    "count-based (PPMI + SVD)": "통계 기반 기법 (PPMI + SVD)",
    "CBOW with negative sampling": "네거티브 샘플링을 쓴 CBOW",
    # (the corpus in full: its own commas would split a "{data}, {words} words" pattern)
    "Word vectors of tinyshakespeare (words, lower-cased, punctuation dropped), {words} words, "
    "vocabulary {vocab}: 2-D projection (SVD)":
        "tinyshakespeare (단어 단위, 소문자로 바꾸고 문장 부호는 뺌)의 단어 벡터 "
        "(단어 {words}개, 어휘 수 {vocab}): 2차원 투영 (SVD)",
    "loss (mean of {n} batches)": "손실 (배치 {n}개의 평균)",
    "CBOW, negative sampling ({k} negatives), batch {batch}, window {window}":
        "CBOW, 네거티브 샘플링 (부정적 예 {k}개), 배치 {batch}, 윈도우 크기 {window}",
    # rnn-gradients
    "The book's loop: dh = dh @ Wh.T (tanh left out)": "책의 반복문: dh = dh @ Wh.T (tanh 생략)",
    "Wh = randn(3, 3) * {scale} ({name})": "Wh = randn(3, 3) * {scale} ({name})",
    "explode": "기울기 폭발",
    "vanish": "기울기 소실",
    "steps back in time": "시간을 거슬러 올라간 단계 수",
    "time step t": "시각 t",
    "gradient norm / N": "기울기 노름 / N",
    "{run}: dL/dh_t": "{run}: dL/dh_t",
    "{run}: dL/dc_t": "{run}: dL/dc_t",
    "RNN, W_h scale {scale}": "RNN, W_h 배율 {scale}",
    "LSTM, forget bias {bias}": "LSTM, forget 게이트 편향 {bias}",
    "nn.RNNCell and nn.LSTMCell, hidden {hidden}, L = sum(h_{t})":
        "nn.RNNCell과 nn.LSTMCell, 은닉 상태 크기 {hidden}, L = sum(h_{t})",
    "MSE loss": "평균 제곱 오차 (MSE)",
    "nn.RNN (W_h scale {scale}), SGD lr {lr}: {task}":
        "nn.RNN (W_h 배율 {scale}), SGD 학습률 {lr}: {task}",
    "y = sum of the first {k} of {n} inputs": "y = 입력 {n}개 중 처음 {k}개의 합",
    "unclipped": "클리핑 없음",
    "clipped": "기울기 클리핑",
    "{name} (max norm {norm})": "{name} (최대 노름 {norm})",
    "gradient norm before clipping": "클리핑 전의 기울기 노름",
    # seq2seq
    "test accuracy (whole answer right)": "시험 정확도 (답 전체가 맞은 비율)",
    "Addition: test accuracy (hidden {hidden}, wordvec {wordvec}, batch {batch})":
        "덧셈: 시험 정확도 (은닉 상태 크기 {hidden}, 단어 벡터 크기 {wordvec}, 배치 {batch})",
    "plain (Seq2seq)": "기본 (Seq2seq)",
    "reversed (Seq2seq)": "입력 반전 (Seq2seq)",
    "peeky+reversed (PeekySeq2seq)": "엿보기 + 입력 반전 (PeekySeq2seq)",
    "the book's, after {n} epochs (approx.)": "책의 결과, {n} 에폭 뒤 (어림값)",
    # attention
    "the book's, from epoch {n} on (approx.)": "책의 결과, {n}번째 에폭부터 (어림값)",
    "Dates to ISO: test accuracy (hidden {hidden}, reversed input)":
        "날짜를 ISO 형식으로: 시험 정확도 (은닉 상태 크기 {hidden}, 입력 반전)",
    "question (input)": "질문 (입력)",
    "answer (output)": "답 (출력)",
    "attention weight": "어텐션 가중치",
    "Which question characters each answer character looked at":
        "답의 각 문자가 질문의 어느 문자에 주목했는가",
    # attention-maps (the characters along the axes are the text's own: data)
    "key (looked at)": "키 (주목받는 문자)",
    "query (looking)": "쿼리 (주목하는 문자)",
    "layer {layer} head {head}: back {back}, prev {prev}":
        "{layer}층 헤드 {head}: 평균 거리 {back}, 직전 문자 {prev}",
    "attention of a {layers}-layer, {heads}-head GPT ({n} parameters, {steps} steps) on {data}":
        "{data}에서 학습한 {layers}층, 헤드 {heads}개 GPT의 어텐션 (매개변수 {n}개, {steps}단계)",
    # transformer-vs-lstm
    "training time (s, this machine)": "학습 시간 (초, 이 컴퓨터에서)",
    "validation loss (nats per char)": "검증 손실 (문자당 nat)",
    "validation loss against training time on {data}": "{data}에서 학습 시간에 따른 검증 손실",
    "{name} ({n} parameters, {steps} steps)": "{name} (매개변수 {n}개, {steps}단계)",
    # newton
    "From x = {x} to the minimum at x = 1": "x = {x}에서 최솟값인 x = 1까지",
    "newton": "뉴턴 방법",
    "gradient descent": "경사 하강법",
    "{method}: {n} steps": "{method}: {n}단계",
    "|x - 1| (log scale)": "|x - 1| (로그 스케일)",
    "Newton (f'' by double backprop) vs gradient descent (lr {lr})":
        "뉴턴 방법 (f''는 이중 역전파로) 대 경사 하강법 (학습률 {lr})",
    "tolerance": "허용 오차",
    # tanh-derivatives
    "tanh and its derivatives by repeated mb.autograd.grad(..., create_graph=True)":
        "mb.autograd.grad(..., create_graph=True)를 거듭 적용해 구한 tanh와 그 도함수",
    "{function} ({n} operations)": "{function} (연산 {n}개)",
    "derivative {order}": "{order}차 도함수",
    # gradient-penalty
    "critic loss  $-$gap + $\\lambda$ (||$\\nabla_x D$|| $-$ 1)$^2$":
        "비평자 손실  $-$차이 + $\\lambda$ (||$\\nabla_x D$|| $-$ 1)$^2$",
    "gradient norm": "기울기 노름",
    "mean ||$\\nabla_x D$|| at the interpolates": "보간점에서 잰 ||$\\nabla_x D$||의 평균",
    "gap": "차이",
    "gap: mean D(real) $-$ mean D(fake)": "차이: D(진짜)의 평균 $-$ D(가짜)의 평균",
    "true $W_1$ = {distance}": "참값 $W_1$ = {distance}",
}

#: Entries of one figure only: an English word with another meaning there.
FIGURES = {"gradient": {"step": "단계"}, "newton": {"step": "단계"},
           "gradient-penalty": {"step": "단계"}}

KO = Catalogue(ENTRIES, KEEP, FIGURES)
