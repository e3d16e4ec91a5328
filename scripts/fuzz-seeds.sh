#!/usr/bin/env bash
# Builds fuzz/seeds/<target>/ for scripts/fuzz.sh from ../shared/corpus (files under 64 kB; the
# corpus itself is not copied into the repository) and fuzz/regressions/<target>/ (committed).
# render and analysis take manifest streams as they are; krm takes each stream wrapped into a
# ResourceList (documents indented under `items:`, as kpt sends them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corpus=../shared/corpus
rm -rf fuzz/seeds
mkdir -p fuzz/seeds/render fuzz/seeds/analysis fuzz/seeds/krm fuzz/corpus/render fuzz/corpus/analysis fuzz/corpus/krm
if [[ -d $corpus ]]; then
  python3 - "$corpus" <<'PY'
import hashlib, os, sys
corpus = sys.argv[1]
def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join("fuzz/seeds", target, name), "wb") as f:
        f.write(data)
for root, _, files in os.walk(corpus):
    for f in sorted(files):
        if not f.endswith((".yaml", ".yml", ".json")):
            continue
        path = os.path.join(root, f)
        if os.path.getsize(path) >= 64 << 10:
            continue
        data = open(path, "rb").read()
        put("render", data)
        put("analysis", data)
        # A ResourceList: every document's lines indented under `items:` (a `- ` on the first).
        items = []
        for doc in data.decode("utf-8", "replace").split("\n---"):
            lines = [l for l in doc.split("\n") if l.strip() and not l.startswith("---") and not l.lstrip().startswith("#")]
            if not lines or lines[0].startswith((" ", "-", "{")):
                continue
            items.append("- " + lines[0] + "\n" + "".join("  " + l + "\n" for l in lines[1:]))
        if items:
            put("krm", ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(items)).encode())
PY
else
  echo "fuzz-seeds: $corpus not found; seeding from fuzz/regressions only" >&2
fi
for target in render analysis krm; do
  if [[ -d fuzz/regressions/$target ]]; then
    cp fuzz/regressions/$target/* "fuzz/seeds/$target/" 2>/dev/null || true
  fi
done
count() { find "fuzz/seeds/$1" -type f | wc -l; }
echo "fuzz-seeds: $(count render) render, $(count krm) krm, $(count analysis) analysis seeds" >&2
