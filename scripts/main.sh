#!/usr/bin/env bash
# The main job: set-up, then transcribe the bundled clips with the default model embedded in LipNet.ML (beam search +
# GRID grammar): two real GRID speaker-s1 clips from the held-out list (CC BY 4.0, see samples/data/README.md) and one
# synthetic clip, printing for each the text, the truth (from the clip's align file) and the CER / WER.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
clips=(samples/data/grid/video/s1/bwwbzp.mp4 samples/data/grid/video/s1/bbaf4p.mp4 samples/data/synthetic/video/s1/sbwb8s.mp4)
dotnet build src/LipNet.Cli -c Release --no-restore --verbosity quiet -nologo >/dev/null
dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll transcribe "${clips[@]}" --beam 50 --grammar grid "$@"
