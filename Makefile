# Two entry points: `make reproduce` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce test venv bench font names clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Bytecode for hcrisis's own modules (machines that set PYTHONDONTWRITEBYTECODE
# would otherwise compile them on every run); only changed files are recompiled.
reproduce: $(STAMP)
	$(BIN)/python -m compileall -q src/hcrisis
	$(BIN)/hcrisis reproduce

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m compileall -q src/hcrisis
	$(BIN)/python benchmarks/run.py

# Rewrite the SVG font subset shipped beside the bundled font (after changing
# the font or the base characters in hcrisis.text.cloud).
font: $(STAMP)
	$(BIN)/python -c "from hcrisis.text.cloud import write_base_font; write_base_font()"

# Rebuild the given-name and surname lists of hcrisis.ingest.names from Faker.
names: $(STAMP)
	$(BIN)/python -c "from hcrisis.ingest.names import write_name_lists; write_name_lists()"

clean:
	rm -rf $(VENV) outputs/*
