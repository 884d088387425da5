# The two commands of the README: `make run` (demo platform) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install lint check layers types security bandit deps-audit migrate seed format messages bench backup restore-check faults bench-install load

$(STAMP): requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# The links the demo writes (QR codes, e-mails) point at the server `make run` starts, whatever its PORT.
seed run: export SITE_URL := $(or $(SITE_URL),http://127.0.0.1:$(PORT))

run: seed
	@echo "Plateforme CléA sur http://127.0.0.1:$(PORT)/ (Ctrl-C pour arrêter)"
	@echo "Espace de Paul Roussel, candidat certifié de la démo (lien à usage unique, 30 minutes) :"
	@$(PY) manage.py candidate_link --demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

# The layers contract of pyproject.toml (docs/architecture.md): an app imports only the apps below it.
layers: install
	$(VENV)/bin/lint-imports

# mypy over the checked scope of pyproject.toml; its cache (.mypy_cache/) makes a second run take about a second.
types: install
	$(VENV)/bin/mypy

# Security (README, "Sécurité"): bandit finds no high-severity issue in the code that ships (its scope in
# pyproject.toml), and pip-audit no known vulnerability in the pinned requirements where PyPI's vulnerability data can
# be reached (skipped with the reason printed where it cannot; 30 s at most). `check --deploy` runs in the suite
# (tests/test_security_headers.py).
security: bandit deps-audit

bandit: install
	$(VENV)/bin/bandit -c pyproject.toml -r . -q --severity-level high

deps-audit: install
	$(PY) .ci/pip_audit.py

# The cheap static checks first, then the suite. pytest exits 5 when it collected no test: that is a failure
# here like any other non-zero code.
# pytest-xdist runs the tests in PYTEST_WORKERS processes (`auto`: one per core; 0: in this process, e.g. for
# --pdb); `loadgroup` hands out tests one by one, keeping the browser tests on one worker (tests/conftest.py).
# PYTEST_ARGS adds options or selects tests: make test PYTEST_ARGS="tests/juries -x".
# Python's default is to keep compiled modules (and pytest its assertion-rewritten test modules) in __pycache__;
# an environment that sets PYTHONDONTWRITEBYTECODE (this workplace's does) made every pytest process compile the
# project and rewrite ~500 test modules again: about 6 s of processor per process.
unexport PYTHONDONTWRITEBYTECODE
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
test: lint check layers types security
	@$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no test: failing." >&2; fi; exit $$status

# The French catalogue (README, "Le français de la plateforme"): extracted from the code and the templates (xgettext,
# Debian's `gettext`), plural forms filled, compiled by polib. Both files are committed: run it after changing a text.
messages: install
	$(PY) manage.py catalogue_update

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Backups (README, "Production"), PostgreSQL only. `make backup` writes $(BACKUP_DIR)/clea-<base>-<date>/: the dump,
# then the media archive, then the manifest. `make restore-check BACKUP=backups/clea-...` restores that backup into
# a scratch database (created and dropped) and checks every table's row count and every document's file and
# SHA-256; without BACKUP, it dumps the DATABASE_URL database first and reads the files in MEDIA_ROOT.
BACKUP_DIR ?= backups
BACKUP ?=
backup: install
	$(PY) manage.py backup $(BACKUP_DIR)

restore-check: install
	$(PY) manage.py restore_check $(BACKUP)

# The benchmarks of bench/README.md, on a throw-away PostgreSQL database rebuilt from scratch (needs wrk and Redis).
# BENCH_N=1000000 took 33 min of data generation on 2 shared CPUs (558 MB for the command), then the statistics'
# facts that the dashboard and the load test read (bench/README.md, section 1).
BENCH_DB ?= clea_bench
BENCH_N ?= 20000
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_ENV = DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) DEBUG=true SECRET_KEY=bench
bench: install
	dropdb --if-exists -h 127.0.0.1 -U postgres $(BENCH_DB)
	createdb -h 127.0.0.1 -U postgres $(BENCH_DB)
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v0
	$(BENCH_ENV) $(PY) manage.py load_communes
	$(BENCH_ENV) $(PY) bench/national_dataset.py --dossiers $(BENCH_N) --seed 1
	psql -h 127.0.0.1 -U postgres $(BENCH_DB) -c "vacuum analyze"
	$(BENCH_ENV) $(PY) manage.py indicators_rebuild
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) $(PY) bench/pages.py
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=redis://127.0.0.1:6379/5 $(PY) bench/pdf.py
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=redis://127.0.0.1:6379/5 $(PY) bench/documents.py

# The load test (bench/README.md, section 8): locust's users of every role, in steps of users, against gunicorn with
# the production settings on $(BENCH_DB) (built by `make bench`). It writes there: the sessions it logs in, a
# Certif'Pro organisation with 10 accounts, and the draft grids its evaluators save. Writes bench/results/load.md.
# LOAD_ARGS passes options, e.g. LOAD_ARGS="--steps 10,25,50 --step-seconds 30" for a quick run. locust comes from
# requirements/bench.txt, installed by bench-install, not by `make install`.
LOAD_ARGS ?=
bench-install: install
	$(PY) -m pip install --quiet -r requirements/bench.txt

load: bench-install
	DATABASE_URL=$(BENCH_PG)/$(BENCH_DB) REDIS_URL=redis://127.0.0.1:6379/5 $(PY) bench/load.py $(LOAD_ARGS)

# Issue 13's faults end to end (bench/README.md, section 5): a throw-away database, a private redis-server on a free
# port, real Celery workers killed and Redis restarted. About 15 minutes: the re-queueing job runs at beat's pace.
# FAULTS_ARGS passes options, e.g. FAULTS_ARGS="--requeue-every 5 --requeue-after 10" for a quick run.
FAULTS_DB ?= clea_faults_bench
FAULTS_ARGS ?=
faults: install
	dropdb --if-exists -h 127.0.0.1 -U postgres $(FAULTS_DB)
	createdb -h 127.0.0.1 -U postgres $(FAULTS_DB)
	DATABASE_URL=$(BENCH_PG)/$(FAULTS_DB) DEBUG=true SECRET_KEY=bench $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_PG)/$(FAULTS_DB) $(PY) bench/faults.py $(FAULTS_ARGS)
