# Each target creates the virtual environment on first use and installs what it needs: mitbadak
# (editable) with the extras that target names, again only when pyproject.toml changes.
VENV    ?= .venv
PYTHON  ?= python3
EXTRAS  ?= test
PY      := $(VENV)/bin/python
comma   := ,
INSTALL  = test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	stamp=$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)); \
	[ "$$stamp" -nt pyproject.toml ] || { $(PY) -m pip install --quiet --upgrade pip && \
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]' && touch "$$stamp"; }

.PHONY: demo test bench bench-peers lint figures clean

demo:
	@$(INSTALL)
	$(VENV)/bin/mitbadak train

test:
	@$(INSTALL)
	$(PY) -m pytest -q

bench: EXTRAS = test,parity,bench
bench:
	@$(INSTALL)
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_lstm.py
	$(PY) benchmarks/bench_gpt.py

# mitbadak against PyTorch, JAX, tinygrad, DeZero and MyGrad (tinygrad's CPU backend needs clang:
# apt-get install clang); ~10 minutes. BOOK_DIR=<checkout of oreilly-japan/deep-learning-from-scratch>
# adds the book's own code as a column
bench-peers: EXTRAS = test,bench,peers
bench-peers:
	@$(INSTALL)
	$(PY) benchmarks/bench_peers.py --write-docs $(if $(BOOK_DIR),--book-dir "$(BOOK_DIR)")

figures:
	@$(INSTALL)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m mitbadak.experiments.gallery --out docs/figures

lint: EXTRAS = lint
lint:
	@$(INSTALL)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
