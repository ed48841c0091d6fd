using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;

namespace LipNet.ML.Benchmarks;

/// <summary>
/// The Paper model (random weights: speed does not depend on their values) per clip: model only, and end
/// to end (decode, Haar crop, normalize, model, beam-100 CTC) with TranscribeMany, batch 1 and 8.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private LipNetModel _model = null!;
    private LipReader _reader = null!;
    private float[] _input = [];
    private string[] _clips = [];
    private string _modelPath = "";

    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>8-bit convolutions (calibrated on the benchmark input), as <c>lipnet export --int8</c> writes.</summary>
    [Params(false, true)]
    public bool Int8 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var arch = LipNetArchitecture.Paper;
        _modelPath = Path.Combine(Path.GetTempPath(), $"lipnet-bench-paper{(Int8 ? "-int8" : "")}.onnx");
        _input = new float[Batch * 3 * 75 * 50 * 100];
        for (int i = 0; i < _input.Length; i++)
            _input[i] = (i % 251) / 251f;
        File.WriteAllBytes(_modelPath, ModelLoop.PaperModel(Int8, _input.AsSpan(0, 3 * 75 * 50 * 100).ToArray()));
        _model = LipNetModel.Load(_modelPath);
        _clips = Enumerable.Repeat(BenchClips.GridClip(), Batch).ToArray();
        _reader = new LipReader(_modelPath, new LipReaderOptions { BatchSize = Batch, BeamWidth = 100 });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _reader.Dispose();
    }

    [Benchmark(Description = "model only (per batch)")]
    public int ModelOnly() => _model.Run(_input, Batch).Frames;

    [Benchmark(Description = "end to end (per batch)")]
    public int EndToEnd() => _reader.TranscribeMany(_clips).Transcriptions.Count;
}

/// <summary>
/// `-- --model-loop`: clips/s of the Paper model (random weights) for 5 s after a warm-up, batch 1 and 8, for the
/// 3-D convolution graph, the frame-wise 2-D one (what <see cref="LipNetGraph.Build"/> writes) and int8 convolutions.
/// </summary>
public static class ModelLoop
{
    public static byte[] PaperModel(bool int8, float[] calibrationClip, bool framewise = true)
    {
        var arch = LipNetArchitecture.Paper;
        var weights = arch.InitialWeights(1);
        var quantization = int8 ? Int8Convolutions.Calibrate(arch, weights, [calibrationClip]) : null;
        return LipNetGraph.BuildInference(arch, weights, ModelCard.For(arch, "random weights (benchmark)"), false, false, quantization, false, framewise).ToByteArray();
    }

    public static void Report(TextWriter output)
    {
        var clip = new float[3 * 75 * 50 * 100];
        for (int i = 0; i < clip.Length; i++)
            clip[i] = (i % 251) / 251f;
        foreach (var (name, bytes) in new[] { ("conv3d", PaperModel(false, clip, framewise: false)), ("framewise", PaperModel(false, clip)), ("int8", PaperModel(true, clip)) })
        {
            // Saved for `lipnet bench <videos> --model <file>` (end to end with the same model).
            File.WriteAllBytes(Path.Combine(Path.GetTempPath(), $"lipnet-paper-{name}.onnx"), bytes);
            foreach (int batch in new[] { 1, 8 })
            {
                using var model = LipNetModel.Load(bytes, $"paper-{name}.onnx");
                var input = Enumerable.Range(0, batch).SelectMany(_ => clip).ToArray();
                model.Run(input, batch);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                int clips = 0;
                while (clock.Elapsed.TotalSeconds < 5)
                {
                    model.Run(input, batch);
                    clips += batch;
                }
                output.WriteLine($"{name,-10} batch {batch}: {clips / clock.Elapsed.TotalSeconds:F1} clips/s");
            }
        }
    }
}
