# The two commands of the README, `make run` and `make test`, and `make lint` (ruff, mypy, import contracts).
.PHONY: run test lint

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
