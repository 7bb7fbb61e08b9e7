# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs into .venv.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test lint bench real install clean messages

install: $(VENV)/.synced

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

demo: install
	$(VENV)/bin/protection-etl demo --config demo/pipeline.toml

# --dist loadgroup: the tests that start Prefect servers of their own share one worker (tests/conftest.py).
# pytest exit 5 means it collected no test: said in one line, and still a failure.
test: install
	$(VENV)/bin/ruff check .
	@$(VENV)/bin/pytest -n 2 --dist loadgroup -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no test (exit 5)" >&2; fi; exit $$status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

# After changing a message for people: extract them all and update the French catalogue, then translate the new
# entries in protection_etl/locale/fr/LC_MESSAGES/messages.po (it is compiled when first used: no build step).
LOCALE := protection_etl/locale
messages: install
	$(VENV)/bin/pybabel --quiet extract -F babel.cfg -k N_ -k msg -k nmsg:1,2 --no-location --sort-output --omit-header -w 120 \
		-o $(LOCALE)/messages.pot protection_etl
	$(VENV)/bin/pybabel --quiet update -i $(LOCALE)/messages.pot -d $(LOCALE) -l fr --init-missing \
		--ignore-obsolete -w 120

real: install
	$(VENV)/bin/python scripts/real_report.py

bench: install
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf demo/warehouse .pytest_cache .ruff_cache
