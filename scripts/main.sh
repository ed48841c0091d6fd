#!/usr/bin/env bash
# The main job: set-up, then transcribe the bundled synthetic GRID clip with the default model embedded in
# LipNet.ML (beam search + GRID grammar), printing the text, the truth (from the clip's align file) and the CER.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
clip=samples/data/grid/video/s1/sbwb8s.mp4
dotnet build src/LipNet.Cli -c Release --no-restore --verbosity quiet -nologo >/dev/null
dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll transcribe "$clip" --beam 50 --grammar grid "$@"
