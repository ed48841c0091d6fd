#!/usr/bin/env bash
# LipNet.ML against the peers a user would pick instead (PyTorch + OpenCV eager; plain ONNX Runtime on torch.onnx.export),
# back to back on the same clips and weights; prints a table of ratios. A benchmark: it measures and asserts nothing.
#
#   benchmarks/peers/run.sh
#
# Environment (small defaults for a quick look; raise them for a careful measurement):
#   CLIPS=10          clips: the first of CLIP_DIR/*.mp4, else the bundled samples/data/{grid,synthetic} clips
#   CLIP_DIR=../shared/data/grid/video/s1   (relative to the repository root)
#   REPEAT=1          timed passes over the clips, end to end (after a warm-up)
#   STEPS=3           timed training steps (after a warm-up step)
#   RUNS=10           timed model runs of each ONNX file in the plain runner (after a warm-up run)
#   PEER_THREADS=     torch threads of the PyTorch peer (default: every logical processor)
#   OUR_THREADS=      --threads of lipnet bench / bench-train (default: each command's own default)
#   WORK=/tmp/lipnet-peers   where the models are written
#   RESULTS_JSON=     also write every measurement and the table as JSON to this file
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
py=/usr/bin/python3            # Debian's python3-torch / python3-opencv live here, not in a pyenv python
CLIPS=${CLIPS:-10} REPEAT=${REPEAT:-1} STEPS=${STEPS:-3} RUNS=${RUNS:-10}
PEER_THREADS=${PEER_THREADS:-$(nproc)} WORK=${WORK:-/tmp/lipnet-peers}
ours_threads=(); [[ -n "${OUR_THREADS:-}" ]] && ours_threads=(--threads "$OUR_THREADS")
mkdir -p "$WORK"
lines="$WORK/results.jsonl"; : > "$lines"

echo "building (Release) ..." >&2
dotnet build -c Release src/LipNet.Cli/LipNet.Cli.csproj -v q -nologo >&2
dotnet build -c Release benchmarks/LipNet.ML.Benchmarks/LipNet.ML.Benchmarks.csproj -v q -nologo >&2
lipnet=(dotnet src/LipNet.Cli/bin/Release/net10.0/lipnet.dll)
bench=(dotnet benchmarks/LipNet.ML.Benchmarks/bin/Release/net10.0/LipNet.ML.Benchmarks.dll)
peer=("$py" benchmarks/peers/lipnet_torch.py)

"${bench[@]}" --write-peer-models "$WORK" >&2
weights=(--weights "$WORK/paper.safetensors" --card "$WORK/card.json")
"${peer[@]}" export "${weights[@]}" --out "$WORK/torch.onnx" --check "$WORK/check.safetensors" >&2

shared=${CLIP_DIR:-$root/../shared/data/grid/video/s1}
if compgen -G "$shared/*.mp4" > /dev/null; then
    mapfile -t clips < <(ls "$shared"/*.mp4 | sort | head -n "$CLIPS")
else
    mapfile -t clips < <(ls samples/data/grid/video/s1/*.mp4 samples/data/synthetic/video/s1/*.mp4 | head -n "$CLIPS")
fi
echo "${#clips[@]} clips from $(dirname "${clips[0]}"), repeat $REPEAT; peer threads $PEER_THREADS, ours ${OUR_THREADS:-default}" >&2

record() { # record KEY SIDE JSON
    printf '{"key": "%s", "side": "%s", "result": %s}\n' "$1" "$2" "$3" >> "$lines"
}
ours_bench() { "${lipnet[@]}" bench "${clips[@]}" --model "$WORK/ours.onnx" --repeat "$REPEAT" "${ours_threads[@]}" "$@"; }

echo "end to end, peer ..." >&2
peer_e2e=$("${peer[@]}" infer "${weights[@]}" --threads "$PEER_THREADS" --repeat "$REPEAT" --texts "${clips[@]}")
record e2e peer "$peer_e2e"
echo "end to end, ours: fixed crop, greedy | fixed, beam 100 | card's crop, greedy | card's crop, beam 100 ..." >&2
record e2e_fixed_greedy ours "$(ours_bench --locator fixed --beam 0)"
record e2e_fixed_beam ours "$(ours_bench --locator fixed --beam 100)"
record e2e_card_greedy ours "$(ours_bench --beam 0)"
record e2e_card_beam ours "$(ours_bench)"
echo "training, peer and ours ..." >&2
record train peer "$("${peer[@]}" train "${weights[@]}" --threads "$PEER_THREADS" --batch-size 4 --steps "$STEPS")"
record train ours "$("${lipnet[@]}" bench-train --arch Paper --batch-size 4 --steps "$STEPS" "${ours_threads[@]}")"
echo "model only, plain ONNX Runtime session ..." >&2
record model_only both "$("${bench[@]}" --plain-runner "$WORK/ours.onnx" "$WORK/torch.onnx" --runs "$RUNS" --check "$WORK/check.safetensors")"
record texts ours "$("${bench[@]}" --fixed-texts "$WORK/ours.onnx" "${clips[@]}")"

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
flags=$(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
MACHINE="$model, $(nproc) logical processors; $flags" "$py" - "$lines" "${RESULTS_JSON:-}" <<'EOF'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
r = {(x["key"], x["side"]): x["result"] for x in rows}
peer, pt = r[("e2e", "peer")], r[("train", "peer")]
m = r[("model_only", "both")]
table = [
    # name, peer figure, ours figure, unit, goal
    ("end to end, fixed crop + greedy (like for like)", peer["clips_per_s"], r[("e2e_fixed_greedy", "ours")]["clips_per_s"], "clips/s", 1.5),
    ("end to end, fixed crop + beam 100", peer["clips_per_s"], r[("e2e_fixed_beam", "ours")]["clips_per_s"], "clips/s", None),
    ("end to end, card's crop + greedy", peer["clips_per_s"], r[("e2e_card_greedy", "ours")]["clips_per_s"], "clips/s", None),
    ("end to end, card's crop + beam 100 (default)", peer["clips_per_s"], r[("e2e_card_beam", "ours")]["clips_per_s"], "clips/s", 1.3),
    ("training, Paper, batch 4", pt["samples_per_s"], r[("train", "ours")]["samples_per_s"], "samples/s", 1.5),
    ("model only, plain ORT session: torch.onnx vs ours", m["b"]["clips_per_s"], m["a"]["clips_per_s"], "clips/s", 1.5),
]
print(f"machine: {os.environ['MACHINE']}")
print(f"peer: torch {peer['torch']} ({peer['threads']} threads), OpenCV {peer['opencv']}; {peer['clips']} clips timed end to end")
print()
print(f"| {'comparison':<50} | {'peer':>9} | {'ours':>9} | {'unit':<9} | {'ratio':>6} | {'goal':>6} |")
print(f"|{'-' * 52}|{'-' * 11}|{'-' * 11}|{'-' * 11}|{'-' * 8}|{'-' * 8}|")
out = []
for name, p, o, unit, goal in table:
    ratio = o / p
    mark = "" if goal is None else (" met" if ratio >= goal else " not")
    print(f"| {name:<50} | {p:>9.2f} | {o:>9.2f} | {unit:<9} | {ratio:>5.2f}x | {'' if goal is None else f'{goal}x':>6} |{mark}")
    out.append(dict(comparison=name, peer=p, ours=o, unit=unit, ratio=round(ratio, 3), goal=goal))
print()
texts_peer, texts_ours = peer["texts"], r[("texts", "ours")]
same = sum(a == b for a, b in zip(texts_peer, texts_ours))
print(f"check: fixed-crop greedy texts, peer = ours on {same}/{len(texts_ours)} clips (random weights); log-probs vs eager torch, "
      f"max |diff|: ours.onnx {m['a']['max_abs_diff_vs_torch_eager']:.1e}, torch.onnx {m['b']['max_abs_diff_vs_torch_eager']:.1e}")
print("stages, ms per clip: peer " + json.dumps(peer["stages_ms"]) + "; ours (fixed, greedy) " + json.dumps(r[("e2e_fixed_greedy", "ours")]["stages_ms"]))
print("                     ours (card's crop, beam 100) " + json.dumps(r[("e2e_card_beam", "ours")]["stages_ms"]))
print("training phases, ms per step: peer " + json.dumps(pt["phases_ms"]) + "; ours " + json.dumps(r[("train", "ours")]["phases_ms"]))
if sys.argv[2]:
    with open(sys.argv[2], "w") as f:
        json.dump(dict(machine=os.environ["MACHINE"], table=out, texts_equal=same, texts=len(texts_ours), raw=rows), f, indent=2)
EOF
