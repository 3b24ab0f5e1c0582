# Set-up and everyday commands. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
JS_STAMP := js/node_modules/.installed
BUNDLE := pbrain_widgets/static/widget.js
# outside node_modules: the package's build hook runs `npm ci` there again on every install
LAB_STAMP := labextension/.npm-installed
# the prebuilt JupyterLab extension (the notification bridge's plugin); the builder writes it here
LABEXT := pbrain_widgets/labextension/package.json

.PHONY: demo test test-python test-js test-browser lint js labextension bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(JS_STAMP): js/package.json
	cd js && (test -f package-lock.json && npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	touch $@

js: $(BUNDLE)
$(BUNDLE): $(JS_STAMP) $(shell find js/src -type f 2>/dev/null) js/package.json
	cd js && npm run build

$(LAB_STAMP): labextension/package.json labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund
	touch $@

# jupyter-builder (the Python side of JupyterLab's extension builder; JupyterLab depends on it)
# goes into the venv first: the package's own install needs the extension built
labextension: $(LABEXT)
$(LABEXT): $(VENV)/bin/python $(LAB_STAMP) labextension/tsconfig.json js/src/bridge.ts js/src/lab/plugin.ts
	$(PIP) install --quiet "jupyter-builder>=1.3,<2"
	cd labextension && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm run build

$(STAMP): $(VENV)/bin/python pyproject.toml $(BUNDLE) $(LABEXT)
	$(PIP) install --quiet -e ".[dev]"
	touch $@

# JupyterLab refuses to run as root unless told; machines of this kind log in as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# the repository is the server root (README and docs open in JupyterLab); the demo opens at once
demo: $(STAMP)
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=. notebooks/demo.ipynb

lint: $(STAMP)
	$(VENV)/bin/ruff check pbrain_widgets tests bench
	$(VENV)/bin/ruff format --check pbrain_widgets tests bench
	$(VENV)/bin/mypy

test-js: $(JS_STAMP)
	cd js && npm test

test-python: $(STAMP)
	$(VENV)/bin/pytest -q tests --ignore=tests/browser --nbval-lax notebooks

test-browser: $(STAMP)
	$(VENV)/bin/pytest -q tests/browser

test: lint test-js $(STAMP)
	$(VENV)/bin/pytest -q tests --nbval-lax notebooks

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) js/node_modules labextension/node_modules $(LAB_STAMP) labextension/lib pbrain_widgets/labextension pbrain_widgets/static/*.js build dist
