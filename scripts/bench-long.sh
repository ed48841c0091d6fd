#!/usr/bin/env bash
# Long-video benchmark (issue #18): writes 1-minute and 10-minute synthetic monologues (GRID sentences by an unseen
# synthetic speaker, seed 7, with word-level align files) once into a cache folder, then for each prints the peak
# resident memory and wall time of `lipnet transcribe` (beam 50 + GRID grammar), its segments, CER and WER, and the
# live mode's latency on the 1-minute one delivered at its frame rate (--realtime). A benchmark, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
dotnet build src/LipNet.Cli -c Release --no-restore --verbosity quiet -nologo >/dev/null
lipnet() { dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll "$@"; }
cache="${LIPNET_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lipnet/bench-long}"
for n in 20 200; do
  lipnet synth --out "$cache/m$n" --speakers 1 --clips-per-speaker 1 --sentences $n --seed 7 --format mp4 >/dev/null
  video="$cache/m$n/video/s1/monologue000.mp4"
  /usr/bin/time -v -o "$cache/time-$n.txt" dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll transcribe "$video" \
    --beam 50 --grammar grid --json > "$cache/m$n.json"
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$cache/time-$n.txt")
  wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$cache/time-$n.txt")
  json="$cache/m$n.json"
  cer=$(grep -o '"cer":[0-9.e-]*' "$json" | head -1 | cut -d: -f2); wer=$(grep -o '"wer":[0-9.e-]*' "$json" | head -1 | cut -d: -f2)
  echo "$((n * 3))-second monologue ($n sentences): peak RSS $((rss / 1024)) MB, wall $wall, $(grep -o '"words":' "$json" | wc -l) segments, CER $cer, WER $wer"
done
lipnet live --input "$cache/m20/video/s1/monologue000.mp4" --realtime --beam 50 --grammar grid --json | tail -1
