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

    [GlobalSetup]
    public void Setup()
    {
        var arch = LipNetArchitecture.Paper;
        _modelPath = Path.Combine(Path.GetTempPath(), "lipnet-bench-paper.onnx");
        File.WriteAllBytes(_modelPath, LipNetGraph.Build(arch, arch.InitialWeights(1), ModelCard.For(arch, "random weights (benchmark)")).ToByteArray());
        _model = LipNetModel.Load(_modelPath);
        _input = new float[Batch * 3 * 75 * 50 * 100];
        for (int i = 0; i < _input.Length; i++)
            _input[i] = (i % 251) / 251f;
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
    public int EndToEnd() => _reader.TranscribeMany(_clips).Count;
}
