# The two commands a newcomer needs are `make run` and `make test`; both install
# into .venv from uv.lock first, so a fresh clone needs only Python 3.11+.

VENV := .venv
PYTHON := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
# uv must use the Python that made the venv, never download one of its own.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-fast lint bench release screenshots clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@test -x $(UV) || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) sync --frozen --quiet
	@touch $@

run: install
	$(PYTHON) scripts/dev_run.py

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

# The unit and single-process tests only: what to run while editing.
test-fast: install
	$(VENV)/bin/pytest -m "not slow and not browser"

# Retake the README's pictures with the browser tests.
screenshots: install
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/test_end_to_end.py tests/web/test_browser.py

bench: install
	$(PYTHON) -m bench

release: install
	$(PYTHON) -m shared.release

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
