# The two commands of the README, `make run` and `make test`, then `make test-long`, `make lint` (ruff, mypy, import contracts) and
# `make soak` (the fault soak on the production topology; SOAK_ARGS passes options, e.g. --invoices 200).
.PHONY: run test test-long lint soak

run:
	@scripts/bootstrap.sh
	@uv run --no-sync ledgerbridge serve

# Tests run on every core (pytest-xdist, a test file per worker at a time); `make test-long` adds the fault soak and every provider's bench run.
test:
	@scripts/bootstrap.sh --test
	@LEDGERBRIDGE_PROVIDER_SPECS=$${LEDGERBRIDGE_PROVIDER_SPECS:-$(CURDIR)/../shared/providers} uv run --no-sync pytest -q -n auto --dist loadfile --durations=30 $(PYTEST_ARGS)

test-long:
	@$(MAKE) --no-print-directory test PYTEST_ARGS=--long

lint:
	@uv run ruff check .
	@uv run mypy
	@uv run lint-imports

soak:
	@scripts/bootstrap.sh --test
	@uv run --no-sync python bench/soak.py $(SOAK_ARGS)
