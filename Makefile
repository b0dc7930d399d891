# Set-up and everyday commands. Everything runs in .venv, created on first use.
#   make demo   run the shipped scenarios on the simulated rig and write reports/
#   make test   run the framework's own tests
#   make bench  run every benchmark and print a table
#   make lint   ruff

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "creating $(VENV) failed: on Debian/Ubuntu install python3-venv (sudo apt install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hil run scenarios/ --report-dir reports

test: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache .hypothesis *.egg-info
