# The two commands of the README: `make serve` and `make test`. Both install what they need
# into .venv first (scripts/bootstrap: uv, from uv.lock).
.PHONY: serve test lint bench install

install:
	@scripts/bootstrap

serve: install
	.venv/bin/sogenactif serve $(ARGS)

lint: install
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy

# The whole suite, against SQLite and PostgreSQL (PostgreSQL must answer on 127.0.0.1:5432).
test: install lint
	@scripts/system-deps
	SOGENACTIF_REQUIRE_POSTGRES=1 .venv/bin/pytest $(PYTEST_ARGS)

bench: install
	.venv/bin/sogenactif bench $(ARGS)
