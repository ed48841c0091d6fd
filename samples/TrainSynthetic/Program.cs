// Trains a LipNet on synthetic clips rendered in memory (no video files) with LipNetTrainer and prints the
// loss and greedy CER as it goes; writes the inference model (with its card) at the end.
//
//   dotnet run -c Release --project samples/TrainSynthetic -- [clips=8] [steps=600] [lr=0.006] [preset=Small] [out=out/synthetic.onnx]
using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Training;

int clips = args.Length > 0 ? int.Parse(args[0]) : 8;
int steps = args.Length > 1 ? int.Parse(args[1]) : 600;
float lr = args.Length > 2 ? float.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 6e-3f;
var arch = LipNetArchitecture.Preset(args.Length > 3 ? args[3] : "Small");
string output = args.Length > 4 ? args[4] : "out/synthetic.onnx";

// Clips from 4 speakers, normalized once into one batch (the whole set is one batch: an overfit check).
var corpus = new SyntheticCorpusOptions { Speakers = 4, ClipsPerSpeaker = (clips + 3) / 4, Seed = 1 };
// Per-channel standardization, as `lipnet train` does (the exported card records it).
var normalizer = new FrameNormalizer(FrameNormalizeOptions.Standardized);
int perClip = 3 * arch.Frames * arch.Height * arch.Width;
var video = new float[clips * perClip];
var sentences = new List<string>();
for (int i = 0; i < clips; i++)
{
    var clip = SyntheticCorpus.Render(corpus, i % 4, i / 4);
    normalizer.Normalize(SyntheticCorpus.MouthCrops(clip), video.AsSpan(i * perClip, perClip));
    sentences.Add(clip.Sentence);
}

using var trainer = new LipNetTrainer(arch, new TrainerOptions { BatchSize = clips, LearningRate = lr, WarmupSteps = 20, TotalSteps = steps, Seed = 1 });
var targets = sentences.Select(trainer.Vocabulary.Encode).ToList();
var lengths = Enumerable.Repeat(arch.Frames, clips).ToList();
var clock = System.Diagnostics.Stopwatch.StartNew();
double cer = 1;
for (int i = 0; i < steps; i++)
{
    var step = trainer.TrainStep(video, targets, lengths);
    if (step.Step % 10 != 0 && step.Step != 1)
        continue;
    (var texts, cer) = trainer.Evaluate(video, sentences);
    Console.WriteLine($"step {step.Step,4}: loss {step.Loss:F3}, |grad| {step.GradientNorm:F2}, lr {step.LearningRate:E1}, greedy CER {cer:P1} " +
                      $"({clock.Elapsed.TotalSeconds:F0} s; forward {step.ForwardMs:F0} ms, backward {step.BackwardMs:F0} ms) \"{texts[0]}\" for \"{sentences[0]}\"");
    if (cer < 0.02)
        break;
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
File.WriteAllBytes(output, trainer.Export($"samples/TrainSynthetic: {clips} synthetic clips, {trainer.Step} steps, lr {lr}, training CER {cer:P1}", normalize: normalizer.Options).ToByteArray());
Console.WriteLine($"{output}: {trainer.Step} steps in {clock.Elapsed.TotalSeconds:F0} s, training CER {cer:P1}");
