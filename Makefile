# The two commands of the README: `make demo` (set up, then run the whole loop on the local sandbox)
# and `make test` (the whole test suite). Everything is installed from this repository's own files.
VENV   := .venv
BIN    := $(VENV)/bin
export TF_CLI_CONFIG_FILE := $(CURDIR)/terraform.rc
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo synth test lint bench clean

$(VENV)/.installed: pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/orgguard demo

synth: setup
	$(BIN)/python main.py

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/synth_speed.py

clean:  # never deletes terraform state: synth keeps it beside the stacks (docs/operators.md, "State")
	rm -rf .sandbox bench/out
	@if [ -n "$$(find cdktf.out \( -name '*.tfstate' -o -name '*.tfstate.backup' \) -print -quit 2>/dev/null)" ]; \
	then echo "cdktf.out holds terraform state: not removed; move the state away (or use state: s3) first"; exit 1; fi
	rm -rf cdktf.out
