#!/usr/bin/env bash
# Anselin's (1988) Columbus crime model, the whole spine from the shell:
# queen weights -> OLS with spatial diagnostics -> spatial lag and error models
# (ML, and 2SLS for the lag) -> side-by-side tables in Markdown and LaTeX.
#
# Usage: bash examples/columbus/run.sh [OUTDIR]     (default: rtsmig-out/columbus)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
regions="$here/../../shapefiles/columbus/columbus.shp"
out=${1:-rtsmig-out/columbus}
mkdir -p "$out"

rtsmig weights build "$regions" --id POLYID --kind queen -o "$out/queen.gal"
rtsmig weights describe "$out/queen.gal" -o "$out/queen.txt"
for model in ols lag error; do
  rtsmig fit "$regions" --id POLYID --weights "$out/queen.gal" --model "$model" \
    --y CRIME --x INC,HOVAL -o "$out/$model"
done
rtsmig fit "$regions" --id POLYID --weights "$out/queen.gal" --model lag --method gmm \
  --y CRIME --x INC,HOVAL -o "$out/lag-gmm"
rtsmig table "$out/ols" "$out/lag" "$out/error" "$out/lag-gmm" -o "$out/models.md"
rtsmig table "$out/ols" "$out/lag" "$out/error" "$out/lag-gmm" -o "$out/models.tex"
cat "$out/models.md"
echo "tables: $out/models.md $out/models.tex; per-model results: $out/{ols,lag,error,lag-gmm}/" >&2
