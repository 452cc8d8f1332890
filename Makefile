# Two commands on a fresh machine (Python 3.10+ and make):
#   make lab    install into .venv and open the tutorial in JupyterLab
#   make test   install into .venv and run every test, notebooks included (quick mode)
#   make test-fast   the unit tests only (no notebooks, browser, wheel or slow runs): under 2 minutes
#   make assignments   write student versions (solutions stubbed out) to assignments/
#   make publish   run every lesson in the class setting and store its outputs in the notebook (as long as README's lesson times added up)

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test test-fast assignments publish clean

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $@

# JupyterLab refuses to run as root (containers) unless told it is intended
LAB_ARGS ?= $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

# trusted: the players stored in the lessons may run their script (the notebooks are this repository's own)
lab: $(BIN)/.installed
	$(BIN)/jupyter trust notebooks/[0-9]*.ipynb
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/

test: $(BIN)/.installed
	$(BIN)/python -m pytest

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest tests -m "not notebook and not browser and not slow"

# Student versions for a class; no nbgrader needed (docs/teaching.md)
assignments: $(BIN)/.installed
	$(BIN)/python scripts/make_assignments.py --out assignments

# Every notebook stores a class run's outputs (docs/library.md): run after changing a lesson's code
publish: $(BIN)/.installed
	$(BIN)/python scripts/publish_lessons.py
	$(BIN)/python scripts/readme_pictures.py
	$(BIN)/python scripts/teaching_tables.py

clean:
	rm -rf notebooks/runs runs .pytest_cache assignments
