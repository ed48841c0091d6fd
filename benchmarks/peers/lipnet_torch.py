#!/usr/bin/python3
"""The PyTorch + OpenCV peer of LipNet.ML: the paper's LipNet as a user would run it without this library.

Needs only Debian's python3-torch, python3-opencv and python3-numpy (use /usr/bin/python3). Reads the weights
(safetensors, LipNet-PyTorch names) and the model card (JSON) that `LipNet.ML.Benchmarks --write-peer-models` writes,
so the peer and the project run the same network on the same pixels. Subcommands, each printing one JSON line:

  infer   eager PyTorch end to end: OpenCV decode, the fixed mouth crop of FixedRegionMouthLocator (centre (0.5, 0.7),
          width 0.3 of the frame, 2:1), pixels / 255 (then the card's mean/std), the model, greedy CTC
  train   one training step: Paper, random input, CTC loss (the card's blank) + gradient clipping (5) + AdamW
  export  torch.onnx.export of the same module and weights (input `video` [N, 3, 75, 50, 100], output `log_probs`,
          dynamic batch), plus a check file: a random input and eager PyTorch's log-probs for it
A benchmark, not a test: it measures and asserts nothing.
"""
import argparse
import json
import sys
import time
import warnings

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# One safetensors reader/writer for the repository's Python scripts.
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
import safetensors_io  # noqa: E402
import make_parity_fixture as parity  # noqa: E402


class LipNet(parity.LipNet):
    """LipNet-PyTorch's network (conv1..3, gru1..2, FC), the parity fixtures' module, with log-softmax: (N, C, T, H, W) -> (N, T, V)."""

    def __init__(self, conv=(32, 64, 96), hidden=256, vocab=28, height=50, width=100):
        super().__init__(conv, hidden, vocab, height, width)

    def forward(self, x):
        return torch.log_softmax(super().forward(x), dim=-1)




def load_weights(path):
    """name -> float32 torch tensor."""
    return {name: torch.from_numpy(array.astype(np.float32)) for name, array in safetensors_io.load_safetensors(path).items()}


def save_safetensors(path, tensors):
    """name -> float32 numpy array, written F32."""
    safetensors_io.save_safetensors(path, {name: (array, "F32") for name, array in tensors.items()}, {})


class Card:
    """What the peer needs of LipNet.ML's model card: input size, normalization and the CTC vocabulary."""

    def __init__(self, path):
        with open(path) as f:
            card = json.load(f)
        arch = card.get("architecture") or {}
        self.conv = tuple(arch.get("conv_channels", (32, 64, 96)))
        self.hidden = arch.get("gru_hidden", 256)
        self.frames, self.height, self.width = card.get("frames", 75), card.get("height", 50), card.get("width", 100)
        self.rgb = card.get("channel_order", "rgb") == "rgb"
        self.mean = np.array(card["mean"], np.float32) if card.get("mean") else None
        self.std = np.array(card["std"], np.float32) if card.get("std") else None
        tokens = card.get("vocabulary") or [chr(c) for c in range(ord("a"), ord("z") + 1)] + [" "]
        self.blank_first = card.get("blank", "last") == "first"
        self.tokens = [""] + tokens if self.blank_first else tokens + [""]
        self.blank = 0 if self.blank_first else len(tokens)

    def model(self, weights_path):
        model = LipNet(self.conv, self.hidden, len(self.tokens), self.height, self.width)
        model.load_state_dict(load_weights(weights_path), strict=True)
        return model

    def encode(self, text):
        return [self.tokens.index(c) for c in text]


def decode_video(path):
    """Every frame, BGR uint8 (GRID clips are 25 fps already: the model's rate)."""
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise SystemExit(f"{path}: no frames")
    return frames


def crop_fixed(frames, card, cx=0.5, cy=0.7, width=0.3):
    """FixedRegionMouthLocator + MouthCropper: a box at (cx, cy) of the frame, `width` of its width, the crop's aspect;
    bilinear sampling with replicated borders (the box is under 1.5x the crop width for GRID's 360x288 frames)."""
    h, w = frames[0].shape[:2]
    f32 = np.float32
    bw = f32(width) * f32(w)
    bh = bw / (f32(card.width) / f32(card.height))
    x, y = f32(cx) * f32(w) - bw / f32(2), f32(cy) * f32(h) - bh / f32(2)
    if bw > 1.5 * card.width:
        raise SystemExit("box over 1.5x the crop width: LipNet.ML area-averages there, this peer does not")
    sx, sy = card.width / float(bw), card.height / float(bh)
    m = np.array([[sx, 0, -float(x) * sx], [0, sy, -float(y) * sy]])
    size = (card.width, card.height)
    return [cv2.warpAffine(f, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for f in frames]


def normalize(crops, card):
    """[1, 3, T, H, W] float32: RGB, / 255, (x - mean) / std, zero-padded or trimmed to the card's frames."""
    clip = np.stack(crops[: card.frames]).astype(np.float32) * np.float32(1 / 255)   # T, H, W, BGR
    if card.rgb:
        clip = clip[..., ::-1]
    if card.mean is not None:
        clip = clip - card.mean
    if card.std is not None:
        clip = clip * (np.float32(1) / card.std)
    out = np.zeros((1, 3, card.frames, card.height, card.width), np.float32)
    out[0, :, : len(clip)] = clip.transpose(3, 0, 1, 2)
    return torch.from_numpy(out), len(clip)


def greedy(log_probs, length, card):
    """Best path: argmax per frame, repeats merged, blanks dropped."""
    best = log_probs[0, :length].argmax(-1).tolist()
    out, previous = [], -1
    for i in best:
        if i != previous and i != card.blank:
            out.append(card.tokens[i])
        previous = i
    return "".join(out)


def infer(args):
    card = Card(args.card)
    model = card.model(args.weights).eval()
    stages = dict(decode=0.0, crop=0.0, normalize=0.0, model=0.0, ctc=0.0)

    def one(path, timings):
        t0 = time.perf_counter()
        frames = decode_video(path)
        t1 = time.perf_counter()
        crops = crop_fixed(frames, card)
        t2 = time.perf_counter()
        x, length = normalize(crops, card)
        t3 = time.perf_counter()
        with torch.inference_mode():
            y = model(x)
        t4 = time.perf_counter()
        text = greedy(y, length, card)
        t5 = time.perf_counter()
        if timings is not None:
            for k, d in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                timings[k] += d
        return text

    texts = [one(p, None) for p in args.clips[:1]]          # warm-up
    clips, start = 0, time.perf_counter()
    for _ in range(args.repeat):
        texts = [one(p, stages) for p in args.clips]
        clips += len(args.clips)
    seconds = time.perf_counter() - start
    result = dict(peer="pytorch+opencv", torch=torch.__version__, opencv=cv2.__version__, threads=torch.get_num_threads(),
                  clips=clips, clips_per_s=round(clips / seconds, 3),
                  model_clips_per_s=round(clips / stages["model"], 3),
                  stages_ms={k: round(1000 * v / clips, 3) for k, v in stages.items()})
    if args.texts:
        result["texts"] = texts
    print(json.dumps(result))


def train(args):
    card = Card(args.card)
    model = card.model(args.weights).train()
    torch.manual_seed(1)
    n = args.batch_size
    video = torch.rand(n, 3, card.frames, card.height, card.width)
    sentences = ["bin blue at f two now", "lay green with e nine again", "place red by q three soon", "set white in u six please"]
    targets = [card.encode(sentences[i % len(sentences)]) for i in range(n)]
    flat = torch.tensor([t for ts in targets for t in ts], dtype=torch.long)
    target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    input_lengths = torch.full((n,), card.frames, dtype=torch.long)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    phases = dict(forward=0.0, ctc=0.0, backward=0.0, optimizer=0.0)

    def step(timings):
        t0 = time.perf_counter()
        log_probs = model(video)
        t1 = time.perf_counter()
        loss = F.ctc_loss(log_probs.transpose(0, 1), flat, input_lengths, target_lengths, blank=card.blank, reduction="mean")
        t2 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        t4 = time.perf_counter()
        if timings is not None:
            for k, d in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                timings[k] += d
        return loss.item()

    step(None)                                               # warm-up
    start = time.perf_counter()
    for _ in range(args.steps):
        step(phases)
    seconds = time.perf_counter() - start
    print(json.dumps(dict(peer="pytorch", torch=torch.__version__, threads=torch.get_num_threads(), batch_size=n,
                          samples_per_s=round(args.steps * n / seconds, 3),
                          phases_ms={k: round(1000 * v / args.steps, 1) for k, v in phases.items()})))


def export(args):
    card = Card(args.card)
    model = card.model(args.weights).eval()
    x = torch.rand(1, 3, card.frames, card.height, card.width, generator=torch.Generator().manual_seed(7))
    opset = args.opset
    with warnings.catch_warnings():     # torch 1.13's exporter warns about shape inference of constants
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, (x,), args.out, input_names=["video"], output_names=["log_probs"],
                          dynamic_axes={"video": {0: "batch"}, "log_probs": {0: "batch"}}, opset_version=opset)
    if args.check:
        with torch.inference_mode():
            save_safetensors(args.check, {"input": x.numpy(), "expected_log_probs": model(x).numpy()})
    print(json.dumps(dict(peer="torch.onnx.export", torch=torch.__version__, opset=opset, out=args.out, check=args.check)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--weights", required=True, help="safetensors with LipNet-PyTorch names")
    common.add_argument("--card", required=True, help="LipNet.ML model card (JSON)")
    common.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    p = sub.add_parser("infer", parents=[common], help="end to end: decode, fixed crop, normalize, model, greedy CTC")
    p.add_argument("clips", nargs="+")
    p.add_argument("--repeat", type=int, default=1, help="timed passes over the clips after one warm-up clip")
    p.add_argument("--texts", action="store_true", help="also print the greedy text of each clip")
    p.set_defaults(run=infer)
    p = sub.add_parser("train", parents=[common], help="training steps on random input: CTC + AdamW")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    p.set_defaults(run=train)
    p = sub.add_parser("export", parents=[common], help="torch.onnx.export of the same module and weights")
    p.add_argument("--out", required=True)
    p.add_argument("--check", help="also write a random input and eager PyTorch's log-probs for it (safetensors)")
    p.add_argument("--opset", type=int, default=17)
    p.set_defaults(run=export)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
