# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL := resources/models/pose_landmarker_full.task
HAND_MODEL := resources/models/hand_landmarker.task
FACE_MODEL := resources/models/face_landmarker.task
# The shipped lifter as the program runs it (numpy, no torch), exported from the trained checkpoint
LIFTER_EXPORT := resources/models/lifter.npz
SYS_PACKAGES := xvfb xauth libegl1 libgl1 libglib2.0-0 libfontconfig1 libxkbcommon-x11-0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libpulse0 \
	assimp-utils nodejs npm
XVFB_RUN := xvfb-run -a -s "-screen 0 1920x1080x24"

BLENDER_VENV := .venv-blender
BLENDER_STAMP := $(BLENDER_VENV)/.installed

.PHONY: run test env sysdeps model bench clean bundle bundle-test blender-env gltf-validator

# constraints.txt: the exact versions of what the app's stability rests on, for every target
PIP_INSTALL := $(PY) -m pip install -q -c constraints.txt

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PIP_INSTALL) torch==2.13.0
	$(PIP_INSTALL) -e ".[dev,training,cluster]"
	touch $(STAMP)

env: $(STAMP)

# Debian packages for Qt and OpenGL (the GUI, and the GUI tests under Xvfb).
sysdeps:
	@if ! command -v xvfb-run >/dev/null || ! ldconfig -p | grep -q libxcb-cursor \
		|| ! command -v assimp >/dev/null || ! command -v npm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $(SYS_PACKAGES); \
		else sudo apt-get update -q && sudo apt-get install -y -q $(SYS_PACKAGES); fi; \
	fi

# Blender as a Python module, for the test that imports Monocap's BVH with Blender's own importer
# (tests/engine/animation/test_blender_import.py). bpy 4.2 needs CPython 3.11; without it the test skips.
$(BLENDER_STAMP):
	@if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		($(PYTHON) -m venv $(BLENDER_VENV) && $(BLENDER_VENV)/bin/python -m pip install -q bpy==4.2.0 && touch $@) \
		|| echo "make: bpy could not be installed; the Blender import test will skip"; \
	else echo "make: bpy 4.2 needs Python 3.11; the Blender import test will skip"; fi

blender-env: $(BLENDER_STAMP)

# The Khronos glTF validator (npm), which the glTF export tests run with node on every file they
# write (tests/engine/animation/export_clients.py); without node or npm those tests skip.
GLTF_VALIDATOR := $(VENV)/node/node_modules/gltf-validator/package.json
$(GLTF_VALIDATOR): | $(STAMP) sysdeps
	@command -v npm >/dev/null && npm install -s --prefix $(VENV)/node --no-audit --no-fund \
		gltf-validator@2.0.0-dev.3.10 || echo "make: gltf-validator could not be installed; the glTF validator checks will skip"

gltf-validator: $(GLTF_VALIDATOR)

$(MODEL): | $(STAMP)
	$(PY) resources/models/make_pose_task.py

$(HAND_MODEL): | $(STAMP)
	$(PY) resources/models/make_hand_task.py

$(FACE_MODEL): | $(STAMP)
	$(PY) resources/models/make_face_task.py

$(LIFTER_EXPORT): resources/models/lifter.pt | $(STAMP)
	$(PY) -m training.export_model lifter $< $@

model: $(MODEL) $(HAND_MODEL) $(FACE_MODEL) $(LIFTER_EXPORT)

run: $(STAMP) $(MODEL) $(HAND_MODEL) $(FACE_MODEL) $(LIFTER_EXPORT)
	$(VENV)/bin/monocap-app

test: $(STAMP) $(MODEL) $(HAND_MODEL) $(FACE_MODEL) $(LIFTER_EXPORT) sysdeps blender-env gltf-validator
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=xcb $(XVFB_RUN) $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) $(MODEL) $(HAND_MODEL) $(FACE_MODEL) $(LIFTER_EXPORT)
	$(PY) benchmarks/pipeline_speed.py

# The desktop bundle (docs/BUNDLE.md): dist/monocap/monocap, the GUI and the command line in one
# executable that needs no Python. Built from its own runtime-only virtualenv (no torch, no training
# or test packages, OpenCV's headless wheel), so the development venv keeps torch. Several minutes
# on two cores; niced so other work keeps going.
BUNDLE_VENV := .venv-bundle
BUNDLE_PY := $(BUNDLE_VENV)/bin/python
BUNDLE_STAMP := $(BUNDLE_VENV)/.installed

$(BUNDLE_STAMP): desktop/bundle-requirements.txt constraints.txt
	rm -rf $(BUNDLE_VENV)
	$(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_PY) -m pip install -q --upgrade pip
	$(BUNDLE_PY) -m pip install -q -c constraints.txt -r desktop/bundle-requirements.txt
	$(BUNDLE_PY) -m pip install -q -c constraints.txt --no-deps mediapipe
	touch $@

bundle: $(BUNDLE_STAMP) model
	@start=$$(date +%s); \
	nice -n 10 $(BUNDLE_PY) -m PyInstaller --noconfirm --log-level WARN build.spec || exit $$?; \
	echo "bundle: built in $$(( $$(date +%s) - start )) s, $$(du -sh dist/monocap | cut -f1) in dist/monocap"

# Builds the bundle, then runs its command line on the sample clip and its GUI under Xvfb (the tests
# run from the development venv; they read the executable's archive with PyInstaller's reader).
bundle-test: bundle sysdeps
	@$(PY) -c "import PyInstaller" 2>/dev/null || $(PIP_INSTALL) pyinstaller
	MONOCAP_BUNDLE_TEST=1 $(PY) -m pytest tests/bundle $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(BLENDER_VENV) $(BUNDLE_VENV) out .pytest_cache build dist
