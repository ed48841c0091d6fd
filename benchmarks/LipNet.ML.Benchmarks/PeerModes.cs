using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using LipNet.ML.Mouth;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// The C# side of <c>benchmarks/peers/run.sh</c> (measures, asserts nothing): writes the models the PyTorch peer and
/// <c>lipnet bench</c> share, times two ONNX files in a plain ONNX Runtime session, and prints the greedy texts of the
/// fixed-crop pipeline for the peer to be compared with.
/// </summary>
public static class PeerModes
{
    /// <summary>
    /// <c>--write-peer-models DIR</c>: the Paper network with seeded weights (<see cref="LipNetArchitecture.InitialWeights"/>,
    /// seed 1) as <c>paper.safetensors</c> (LipNet-PyTorch names, for the peer), our inference model <c>ours.onnx</c> of the
    /// same weights and <c>card.json</c>, its card. The card takes the default model's front end (crop profile,
    /// mean/std, channel order) and a trained model's vocabulary (blank first), so <c>lipnet bench --model ours.onnx</c>
    /// with the card's locator is what a user of the default model pays for, at Paper size.
    /// </summary>
    public static void WriteModels(string dir, TextWriter output)
    {
        Directory.CreateDirectory(dir);
        var arch = LipNetArchitecture.Paper;
        var weights = arch.InitialWeights(1);
        SafeTensors.Save(Path.Combine(dir, "paper.safetensors"), weights.Values, new Dictionary<string, string> { ["arch"] = arch.Name, ["seed"] = "1" });
        ModelCard reference;
        using (var defaultModel = LipNetModel.LoadDefault())
            reference = defaultModel.Card;
        var model = LipNetTrainer.ExportModel(arch, weights, "random weights, seed 1 (peer benchmark)", normalize: reference.NormalizeOptions(),
            cropProfile: reference.CropProfile);
        string ours = Path.Combine(dir, "ours.onnx");
        File.WriteAllBytes(ours, model.ToByteArray());
        using var loaded = LipNetModel.Load(ours);
        File.WriteAllText(Path.Combine(dir, "card.json"), loaded.Card.ToJson());
        output.WriteLine($"{dir}: paper.safetensors, ours.onnx ({arch.ParameterCount:N0} parameters, crop profile {loaded.Card.CropProfile ?? "haar"}, " +
            $"mean {(loaded.Card.Mean is { } m ? string.Join("/", m) : "none")}), card.json");
    }

    /// <summary>
    /// <c>--plain-runner A.onnx B.onnx [--runs N] [--check CHECK.safetensors]</c>: each model in an
    /// <see cref="InferenceSession"/> with default <see cref="SessionOptions"/>, batch 1, the same random clip; one warm-up
    /// run each, then N timed runs of each, alternating (default 10). Prints one JSON object with clips/s of each and A / B.
    /// With --check, also the largest |difference| of each model's log-probs from the expected ones stored with the check input.
    /// </summary>
    public static void PlainRunner(string[] args, TextWriter output)
    {
        int at = Array.IndexOf(args, "--plain-runner");
        string a = args[at + 1], b = args[at + 2];
        int runs = Value(args, "--runs") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 10;
        var check = Value(args, "--check") is { } c ? SafeTensors.Load(c) : null;
        var random = new Random(1);
        var clip = new float[3 * 75 * 50 * 100];
        for (int i = 0; i < clip.Length; i++)
            clip[i] = random.NextSingle();
        var results = new Dictionary<string, object>();
        var paths = new[] { a, b };
        var sessions = paths.Select(p => new InferenceSession(p)).ToArray();
        try
        {
            float[] Run(InferenceSession session, float[] x)
            {
                var tensor = new DenseTensor<float>(x, [1, 3, 75, 50, 100]);
                using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), tensor)]);
                return outputs.First().AsEnumerable<float>().ToArray();
            }
            foreach (var session in sessions)
                Run(session, clip);
            // Alternating runs, so a machine that slows down or speeds up meanwhile weighs on both alike.
            var seconds = new double[2];
            for (int i = 0; i < runs; i++)
                for (int k = 0; k < 2; k++)
                {
                    long start = Stopwatch.GetTimestamp();
                    Run(sessions[k], clip);
                    seconds[k] += Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            for (int k = 0; k < 2; k++)
            {
                var entry = new Dictionary<string, object> { ["model"] = paths[k], ["clips_per_s"] = Math.Round(runs / seconds[k], 3) };
                if (check is not null)
                    entry["max_abs_diff_vs_torch_eager"] = Run(sessions[k], check["input"].Data).Zip(check["expected_log_probs"].Data, (x, y) => Math.Abs(x - y)).Max();
                results[k == 0 ? "a" : "b"] = entry;
            }
            results["ratio_a_over_b"] = Math.Round(seconds[1] / seconds[0], 3);
        }
        finally
        {
            foreach (var session in sessions)
                session.Dispose();
        }
        results["runs"] = runs;
        output.WriteLine(JsonSerializer.Serialize(results));
    }

    /// <summary>
    /// <c>--fixed-texts MODEL CLIP...</c>: the greedy text of each clip through <see cref="LipReader"/> with the fixed mouth
    /// region (what <c>lipnet bench --locator fixed --beam 0</c> runs), as a JSON array.
    /// </summary>
    public static void FixedTexts(string[] args, TextWriter output)
    {
        int at = Array.IndexOf(args, "--fixed-texts");
        var clips = args.Skip(at + 2).TakeWhile(s => !s.StartsWith("--", StringComparison.Ordinal)).ToList();
        using var reader = new LipReader(args[at + 1], new LipReaderOptions { BeamWidth = 0, BatchSize = 1, Locator = new FixedRegionMouthLocator() });
        output.WriteLine(JsonSerializer.Serialize(reader.TranscribeMany(clips).Transcriptions.Select(t => t.Text)));
    }

    private static string? Value(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
