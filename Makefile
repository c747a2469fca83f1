# The two commands of the README, `make run` and `make test`, `make lint` (ruff, mypy, import contracts) and
# `make soak` (the fault soak on the production topology; SOAK_ARGS passes options, e.g. --invoices 200).
.PHONY: run test lint soak

run:
	@scripts/bootstrap.sh
	@uv run --no-sync ledgerbridge serve

test:
	@scripts/bootstrap.sh --test
	@LEDGERBRIDGE_PROVIDER_SPECS=$${LEDGERBRIDGE_PROVIDER_SPECS:-$(CURDIR)/../shared/providers} uv run --no-sync pytest -q --durations=30

lint:
	@uv run ruff check .
	@uv run mypy
	@uv run lint-imports

soak:
	@scripts/bootstrap.sh --test
	@uv run --no-sync python bench/soak.py $(SOAK_ARGS)
