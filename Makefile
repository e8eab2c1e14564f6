# Each target creates the virtual environment on first use and installs what it needs.
VENV    ?= .venv
PYTHON  ?= python3
EXTRAS  ?= test
PY      := $(VENV)/bin/python
comma   := ,
STAMP    = $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: demo test bench lint figures clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/mitbadak train

test: $(STAMP)
	$(PY) -m pytest -q

bench: EXTRAS = test,parity,bench
bench: $(STAMP)
	$(PY) benchmarks/bench_train.py

figures: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m mitbadak.experiments.gallery --out docs/figures

lint: $(STAMP)
	$(PY) -m pip install --quiet -e '.[lint]'
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
