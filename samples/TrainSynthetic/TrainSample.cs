using System.Globalization;
using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Training;

namespace LipNet.Samples;

public static class TrainSample
{
    /// <summary>Trains until the training CER is under 2% or the steps run out; returns the last greedy CER.</summary>
    public static double Train(string[] args, TextWriter output)
    {
        int clips = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 600;
        float lr = args.Length > 2 ? float.Parse(args[2], CultureInfo.InvariantCulture) : 6e-3f;
        var arch = LipNetArchitecture.Preset(args.Length > 3 ? args[3] : "Small");
        string path = args.Length > 4 ? args[4] : "out/synthetic.onnx";

        // Clips from 4 speakers, normalized once into one batch (the whole set is one batch: an overfit check),
        // standardized per channel as `lipnet train` does (the exported card records it).
        var corpus = new SyntheticCorpusOptions { Speakers = 4, ClipsPerSpeaker = (clips + 3) / 4, Seed = 1 };
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

        using var trainer = new LipNetTrainer(arch, new TrainerOptions { BatchSize = clips, LearningRate = lr, WarmupSteps = 20, TotalSteps = Math.Max(steps, 100), Seed = 1 });
        var targets = sentences.Select(trainer.Vocabulary.Encode).ToList();
        var lengths = Enumerable.Repeat(arch.Frames, clips).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double cer = 1;
        for (int i = 0; i < steps; i++)
        {
            var step = trainer.TrainStep(video, targets, lengths);
            if (step.Step % 10 != 0 && step.Step != 1 && step.Step != steps)
                continue;
            (var texts, cer) = trainer.Evaluate(video, sentences);
            output.WriteLine($"step {step.Step,4}: loss {step.Loss:F3}, |grad| {step.GradientNorm:F2}, lr {step.LearningRate:E1}, greedy CER {cer:P1} " +
                             $"({clock.Elapsed.TotalSeconds:F0} s; forward {step.ForwardMs:F0} ms, backward {step.BackwardMs:F0} ms) \"{texts[0]}\" for \"{sentences[0]}\"");
            if (cer < 0.02)
                break;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, trainer.Export($"samples/TrainSynthetic: {clips} synthetic clips, {trainer.Step} steps, lr {lr}, training CER {cer:P1}", normalize: normalizer.Options).ToByteArray());
        output.WriteLine($"{path}: {trainer.Step} steps in {clock.Elapsed.TotalSeconds:F0} s, training CER {cer:P1}");
        return cer;
    }

    public static int Run(string[] args, TextWriter output)
    {
        Train(args, output);
        return 0;
    }
}
