# Two commands do everything: `make course` and `make test` (see README.md).
#
# torch is chosen explicitly: TORCH=cpu (default) installs the small CPU build,
# TORCH=cuda installs the default PyPI build with its CUDA libraries (several GB).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
TORCH ?= cpu
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed-$(TORCH)
# The online profile is tested against olah, a Hub mirror, in its own environment (its web stack
# stays out of the course's): pinned, because the tests rely on its API and offline mode.
HUB_VENV := .venv-hub
OLAH_VERSION := 0.5.4
HUB_STAMP := $(HUB_VENV)/.installed-olah-$(OLAH_VERSION)
LINT_PATHS := utils tests notebooks benchmarks slides

.PHONY: install hub-venv course test lint format data bench gpu-report gpu-kit slides site student badges clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(MAKE) --no-print-directory torch-$(TORCH)
	$(PIP) install -e ".[dev,offline,site]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@rm -f $(VENV)/.installed-* && touch $@

.PHONY: torch-cpu torch-cuda
# The CPU wheel carries a "+cpu" tag: a local wheel cache may have it, otherwise PyTorch's CPU index does.
torch-cpu:
	$(PIP) install "torch==$(TORCH_VERSION)+cpu" 2>/dev/null || \
	  $(PIP) install "torch==$(TORCH_VERSION)+cpu" --index-url $(TORCH_CPU_INDEX)

torch-cuda:
	$(PIP) install "torch>=2.4"

hub-venv: $(HUB_STAMP)

$(HUB_STAMP):
	@test -x $(HUB_VENV)/bin/python || $(PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip --disable-pip-version-check install -q "olah==$(OLAH_VERSION)"
	@rm -f $(HUB_VENV)/.installed-* && touch $@

# Every lecture, executed into build/notebooks/ with all outputs: a progress bar per lecture, then
# the time each took (also in build/notebooks/timings.json, which the site reads).
course: $(STAMP)
	$(PY) -m utils.course --out build/notebooks notebooks/[0-9]*.ipynb

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
	$(VENV)/bin/ruff format $(LINT_PATHS)

# Unit tests, and every notebook under nbval on a CI-sized slice (COURSE_SUBSET=300) in both
# profiles: offline, and online against a local Hub stand-in (tests/hub_standin.py). Slow tests
# are marked: `$(PY) -m pytest -m "not slow" tests` leaves them out.
test: lint $(HUB_STAMP)
	$(PY) -m pytest tests

data: $(STAMP)
	$(PY) -m utils.data data/emotion

# Feature extraction (build/bench/extraction-*.json), then fine-tuning steps in fp32 and bf16
# (build/bench/finetune-cpu.json).
bench: $(STAMP)
	$(PY) benchmarks/extraction.py
	$(PY) benchmarks/finetune.py

# The course's GPU numbers (README, GPU report): extraction, fine-tuning, projected course time, into
# build/gpu-report/. Options go in GPU_REPORT_ARGS, e.g. a quick CPU check:
# make gpu-report GPU_REPORT_ARGS="--device cpu --tweets 300 --steps 3 --layers 1"
GPU_REPORT_ARGS ?=
gpu-report: $(STAMP)
	$(PY) benchmarks/gpu_report.py --out build/gpu-report $(GPU_REPORT_ARGS)

# The same report packed for an offline GPU node (build/gpu-kit/, under 60 MiB, not committed).
gpu-kit: $(STAMP)
	$(PY) benchmarks/gpu_kit.py build/gpu-kit

clean:
	rm -rf build

# Student edition, committed in notebooks/student/ so that Colab can open it: solution cells become
# stubs, all outputs cleared, badges open the student copies. Run after editing a teacher notebook.
student: $(STAMP)
	$(PY) -m utils.editions student

# Colab badges and install cells of every notebook, from [tool.emotion_course] in pyproject.toml.
badges: $(STAMP)
	$(PY) -m utils.editions badges

# Lecture slides: a reveal.js deck (offline) and a PDF per executed notebook; see slides/README.md.
# From `make course`'s build/notebooks/, or from another executed run: make slides SLIDES_FROM=DIR
SLIDES_FROM ?= build/notebooks
slides: $(STAMP)
	@ls $(SLIDES_FROM)/[0-9][0-9]_*.ipynb >/dev/null 2>&1 || { echo "No executed lecture notebooks in \
	$(SLIDES_FROM)/: run 'make course' first, or 'make slides SLIDES_FROM=DIR'."; exit 1; }
	@bash slides/install-chromium.sh
	$(PY) slides/build.py --from $(SLIDES_FROM) --out build/slides

# The course as a static website in build/site/ (Sphinx, MyST-NB, Sphinx Book Theme; nothing is
# executed). From `make course`'s build/notebooks/, or another executed run: make site SITE_FROM=DIR
SITE_FROM ?= build/notebooks
site: $(STAMP)
	@ls $(SITE_FROM)/[0-9][0-9]_*.ipynb >/dev/null 2>&1 || { echo "No executed lecture notebooks in \
	$(SITE_FROM)/: run 'make course' first, or 'make site SITE_FROM=DIR'."; exit 1; }
	$(PY) -m slides.site --from $(SITE_FROM) --out build/site
