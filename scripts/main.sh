#!/usr/bin/env bash
# The main job: set-up, then locate and crop the mouth in the bundled synthetic GRID clip.
# (Transcription replaces this once the default model ships.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
clip=samples/data/grid/video/s1/swwb1a.mp4
dotnet build src/LipNet.Cli -c Release --no-restore --verbosity quiet -nologo >/dev/null
dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll crop "$clip" --out out/crop "$@"
echo "truth (from the GRID align file): $(awk '$3 != "sil" && $3 != "sp" {printf "%s ", $3}' samples/data/grid/align/s1/swwb1a.align)"
