# Muhafiz: two commands on a fresh machine (Python 3.11 and make).
#   make demo   set up, seed a synthetic demo and serve it at http://127.0.0.1:8000
#   make test   set up and run the whole test suite (SQLite by default; DATABASE_URL for PostgreSQL)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export MUHAFIZ_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test test-rq fuzz lint typecheck check bench clean system-deps

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/muhafiz demo

# Temporary test files live under the data directory; coreutils' rm clears trees of any depth.
TEST_TMP := $(MUHAFIZ_DATA_DIR)/pytest-tmp

test: $(STAMP) system-deps
	rm -rf $(TEST_TMP)
	MUHAFIZ_PROFILE=test $(BIN)/python -m pytest -n 2 --dist loadfile --basetemp=$(TEST_TMP) $(PYTEST_ARGS)

# The job tests again with jobs on RQ (Redis) instead of the database queue. REDIS_TEST_URL names
# a Redis database the tests may empty; one process, so that no two tests share it.
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
JOB_TESTS := src/muhafiz/ops/tests/test_jobs.py src/muhafiz/ops/tests/test_jobs_page.py \
  src/muhafiz/evidence/tests/test_scan_fanout.py src/muhafiz/hashbank/tests/test_uploads.py

test-rq: $(STAMP)
	rm -rf $(TEST_TMP)-rq
	REDIS_URL=$(REDIS_TEST_URL) MUHAFIZ_PROFILE=test $(BIN)/python -m pytest -p no:xdist -q \
	  --basetemp=$(TEST_TMP)-rq $(JOB_TESTS)

# Schemathesis against the API's OpenAPI document: two signed-in roles and an API client, on a
# test database seeded as the demo is; fails on any 5xx or any answer the document denies.
# A few minutes; FUZZ_EXAMPLES (examples per operation and principal) makes it longer.
FUZZ_EXAMPLES ?= 20

fuzz: $(STAMP)
	rm -rf $(TEST_TMP)-fuzz
	MUHAFIZ_PROFILE=test MUHAFIZ_FUZZ=1 MUHAFIZ_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest -n 2 --basetemp=$(TEST_TMP)-fuzz -q src/muhafiz/core/tests/test_api_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks
	$(BIN)/ruff format --check src benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	MUHAFIZ_PROFILE=test $(BIN)/mypy src

check: lint typecheck test

bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var
