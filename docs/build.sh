#!/usr/bin/env bash
# Builds the documentation site into site/ with every example executed; fails on a broken
# link, a missing API reference or an example that raises. Installs nothing: run
# `pip install -e ".[docs]"` (or `pip install ".[docs]"`) first.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_MKDOCS_2_WARNING=1
exec python3 -m mkdocs build --strict "$@"
