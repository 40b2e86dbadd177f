# The two commands of the README:
#   make run    set up, build the demo data, execute every notebook, regenerate every figure
#   make test   set up, build the demo data, run the unit tests, the doctests of gle_utils, and every
#               notebook once under nbval (--nbval-lax: the cells marked NBVAL_CHECK_OUTPUT are compared
#               with the committed ones; figures and models go to a temporary folder)
# For daily work:
#   make test-fast   the unit tests only (skips what is marked slow: every notebook run), a few minutes
#   make bench       per notebook: cold and warm wall time, peak memory; writes the README's Timings table
#   make bench-binder  a Binder session here as postBuild leaves it: 2 GB cap, 1 core; the README's Binder table
#   make bench-scale   each stage's time and memory at 150 to 1200 new photos (the series at 150 and 300), projected to GAF; the README's plot
#   make site        the course website in _build/html (a Jupyter Book of the executed notebooks)
#   make browser     install headless Chromium for tests/test_site.py (Debian's package; as root; make test does)
# Options: make run DATASET=gaf DATA_DIR=/path/to/GAF   (writes to runs/gaf/, figures included)
#          make run JOBS=1                                 (one notebook at a time; default: two)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATASET ?= demo
DATA_DIR ?=
JOBS ?= 2
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

.PHONY: setup data run test test-fast bench bench-binder bench-scale student course check clean

# Create the virtual environment if missing and install the pinned packages (once per change).
# uv installs the same pins as pip, several times faster (it downloads and unpacks in parallel;
# --compile-bytecode: the .pyc files pip would write; a shell with PYTHONDONTWRITEBYTECODE=1, as
# here, would otherwise write no .pyc file at all, and every process of make test would compile
# every module it imports again). Where uv cannot be had or cannot reach the
# index (it reads neither pip.conf nor PIP_* settings), pip installs them instead.
UV := uv==0.13.9
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q
setup: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	($(PIP) $(UV) && $(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.txt) \
		|| (echo "uv failed: installing with pip instead" && $(PIP) -r requirements.txt)
	$(PIP) --no-deps -e .
	touch $@

# Build the offline demo set (cached: a no-op when it exists).
data: setup
	$(BIN)/python -m gle_utils.demo
	$(BIN)/python -m gle_utils.backbones

run: data
	$(BIN)/python tools/run_notebooks.py --jobs $(JOBS) --dataset $(DATASET) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

# Two pytest processes (-n 2) already keep both cores of the reference machine busy, so each runs its
# joblib work (detection workers, forests with n_jobs=-1) in itself: LOKY_MAX_CPU_COUNT=1. Results
# do not depend on it (tests/test_faces.py checks detection with 1 and 2 processes).
# For the same reason each process, and each notebook kernel it starts, runs TensorFlow, OpenMP and
# OpenBLAS on one thread: two processes with a pool of two threads each wait on each other's
# threads. The notebooks' checked outputs are the same either way; the cores are then only busy
# with work (README, Timings: 763 s of tests against 814 s on the AMD machine of 4 December).
# `make run` keeps the libraries' defaults: notebook A1 times TensorFlow as a user runs it.
ONE_THREAD_EACH = LOKY_MAX_CPU_COUNT=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
# The browser is installed while the packages are (-j2: apt-get waits on the network, uv and
# the demo builder on the cores); everything else here runs one step after the other.
test:
	$(MAKE) --no-print-directory -j2 browser data
	$(ONE_THREAD_EACH) $(BIN)/python -m pytest tests gle_utils --doctest-modules $(NOTEBOOKS) --nbval-lax --nbval-current-env \
		-n 2 --dist loadfile --no-loadscope-reorder --durations=15

test-fast: data
	$(ONE_THREAD_EACH) $(BIN)/python -m pytest -q tests gle_utils --doctest-modules -m "not slow" -n 2

bench: data
	$(BIN)/python tools/benchmark.py

bench-binder: data
	$(BIN)/python tools/benchmark.py --binder

bench-scale: data
	$(BIN)/python tools/bench_scale.py --plot figures/scale_time_vs_photos.png

# The student versions (solutions removed, outputs cleared) in notebooks/student/.
student: setup
	$(BIN)/python tools/make_student.py

# The nbgrader course in course/ (git-ignored) and the student versions, from the notebooks.
course: setup
	$(BIN)/python tools/make_course.py

# Check your answers to a notebook's exercises: make check NB=05 (without NB: every notebook's)
check: setup
	$(BIN)/python -m pytest -q --tb=short -p no:cacheprovider tests/exercises/check_exercises.py -k nb$(NB)

clean:
	rm -rf data/cache runs .nb_runs

# Other Pythons and Colab (issue 18; README, "Python versions" and "Colab"). Each installs
# TensorFlow afresh in a temporary venv, with pyproject.toml's ranges: many minutes, not in make test.
.PHONY: check-pythons check-colab
check-pythons: setup
	$(BIN)/python tools/check_pythons.py
	$(BIN)/python tools/check_pythons.py --floor 3.10

check-colab: setup
	$(BIN)/python tools/check_pythons.py --colab

# The course website: a Jupyter Book of the committed, executed notebooks (none is run), in
# _build/html/ (git-ignored); then every link of it is followed (tools/build_site.py).
.PHONY: site browser
site: setup
	$(BIN)/python tools/build_site.py

# tests/test_site.py opens the site in headless Chromium: Debian's package, installed here when it
# is missing and this runs as root with apt-get (CI); otherwise this says what to install.
browser:
	@if command -v chromium >/dev/null; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else echo "tests/test_site.py needs headless Chromium: sudo apt-get install chromium (Debian, Ubuntu)" >&2; fi
