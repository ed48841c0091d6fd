using Google.Protobuf;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;

namespace LipNet.ML.Tests;

public class OnnxGraphTests
{
    internal static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LipNet.ML.sln")))
                return Path.Combine(dir.FullName, "tests", "fixtures", name);
        throw new FileNotFoundException(name);
    }

    [Fact]
    public void SmallGraphMatchesPyTorchWithin1e4()
    {
        var tensors = SafeTensors.Load(Fixture("lipnet_small_parity.safetensors"), out var meta);
        int frames = int.Parse(meta["frames"]);
        var arch = LipNetArchitecture.Small with { Frames = frames };
        var card = ModelCard.For(arch, "parity fixture") with { Frames = frames };
        var model = LipNetGraph.Build(arch, tensors, card);
        using var session = LipNetModel.Load(model.ToByteArray(), "parity.onnx");
        var (logProbs, outFrames) = session.Run(tensors["input"].Data, 1);
        var expected = tensors["expected_log_probs"].Data;
        Assert.Equal(frames, outFrames);
        Assert.Equal(expected.Length, logProbs.Length);
        float maxError = expected.Zip(logProbs, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(maxError < 1e-4f, $"max abs error {maxError:E2} against PyTorch ({meta["torch"]})");
    }

    [Fact]
    public void PresetSizesAreDocumented()
    {
        Assert.Equal(1728, LipNetArchitecture.Paper.GruInput);      // 96 x 3 x 6
        Assert.Equal(864, LipNetArchitecture.Small.GruInput);       // 48 x 3 x 6
        Assert.Equal(4_574_460, LipNetArchitecture.Paper.ParameterCount);
        Assert.True(LipNetArchitecture.Small.ParameterCount < LipNetArchitecture.Paper.ParameterCount / 2);
        Assert.True(LipNetArchitecture.Small.MultiplyAccumulates < LipNetArchitecture.Paper.MultiplyAccumulates / 3);
    }

    [Fact]
    public void RandomPaperModelRunsWithDynamicBatch()
    {
        var arch = LipNetArchitecture.Paper with { Frames = 8 };
        var model = LipNetGraph.Build(arch, arch.InitialWeights(1), ModelCard.For(arch, "random") with { Frames = 8 });
        using var session = LipNetModel.Load(model.ToByteArray(), "paper.onnx");
        var input = new float[2 * 3 * 8 * 50 * 100];
        new Random(2).NextBytes(new byte[1]);
        for (int i = 0; i < input.Length; i++) input[i] = (i % 97) / 97f;
        var (logProbs, frames) = session.Run(input, 2);
        Assert.Equal(8, frames);
        Assert.Equal(2 * 8 * 28, logProbs.Length);
        for (int r = 0; r < 2 * 8; r++)
            Assert.Equal(1.0, logProbs.Skip(r * 28).Take(28).Sum(v => Math.Exp(v)), 4); // rows are log-softmax
    }

    [Fact]
    public void Float16WeightsHalveTheFileAndKeepTheOutput()
    {
        var arch = LipNetArchitecture.Small with { Frames = 6 };
        var weights = arch.InitialWeights(3);
        var card = ModelCard.For(arch, "random") with { Frames = 6 };
        var full = LipNetGraph.Build(arch, weights, card).ToByteArray();
        var half = LipNetGraph.Build(arch, weights, card, float16Weights: true).ToByteArray();
        Assert.True(half.Length < full.Length * 0.6);
        using var a = LipNetModel.Load(full, "full.onnx");
        using var b = LipNetModel.Load(half, "half.onnx");
        var input = Enumerable.Range(0, 3 * 6 * 50 * 100).Select(i => (i % 13) / 13f).ToArray();
        var (x, _) = a.Run(input, 1);
        var (y, _) = b.Run(input, 1);
        Assert.True(x.Zip(y, (p, q) => MathF.Abs(p - q)).Max() < 0.05f);
    }

    [Fact]
    public void BadModelsAndWeightsAreTypedErrors()
    {
        using var dir = new TempDir();
        Assert.Throws<ModelLoadException>(() => LipNetModel.Load(dir.File("missing.onnx")));
        File.WriteAllBytes(dir.File("garbage.onnx"), [1, 2, 3, 4, 5, 6, 7]);
        Assert.ThrowsAny<LipNetException>(() => LipNetModel.Load(dir.File("garbage.onnx")));

        var arch = LipNetArchitecture.Small with { Frames = 4 };
        var weights = arch.InitialWeights(1);
        var noCard = LipNetGraph.Build(arch, weights).ToByteArray();
        Assert.Contains("model card", Assert.Throws<ModelLoadException>(() => LipNetModel.Load(noCard, "x.onnx")).Message);
        var wrongVocab = ModelCard.For(arch, "t") with { Frames = 4, Vocabulary = ["a", "b"] };
        Assert.Contains("vocabulary", Assert.Throws<ModelLoadException>(() => LipNetModel.Load(noCard, "x.onnx", card: wrongVocab)).Message);
        var wrongSize = ModelCard.For(arch, "t") with { Frames = 4, Height = 64 };
        Assert.Throws<ModelLoadException>(() => LipNetModel.Load(noCard, "x.onnx", card: wrongSize));
        var wrongInput = ModelCard.For(arch, "t") with { Frames = 4, InputName = "frames" };
        Assert.Throws<ModelLoadException>(() => LipNetModel.Load(noCard, "x.onnx", card: wrongInput));
        using var ok = LipNetModel.Load(noCard, "x.onnx", card: ModelCard.For(arch, "t") with { Frames = 4 });
        Assert.Throws<TensorShapeException>(() => ok.Run(new float[10], 1));

        weights.Remove("FC.bias");
        Assert.Throws<TensorShapeException>(() => LipNetGraph.Build(arch, weights));
        Assert.Throws<ModelLoadException>(() => LipNetModel.Load(noCard, "x.onnx", new LipNetSessionOptions { Device = "tpu" }, ModelCard.For(arch, "t") with { Frames = 4 }));
    }

    [Fact]
    public void CudaWithoutTheGpuPackageFallsBackOrFailsTyped()
    {
        var arch = LipNetArchitecture.Small with { Frames = 4 };
        var bytes = LipNetGraph.Build(arch, arch.InitialWeights(1), ModelCard.For(arch, "t") with { Frames = 4 }).ToByteArray();
        var warnings = new List<string>();
        using (var model = LipNetModel.Load(bytes, "x.onnx", new LipNetSessionOptions { Device = "cuda:0", Log = warnings.Add }))
        {
            // The CPU package has no CUDA provider; where a GPU build is referenced this runs on cuda:0.
            if (model.Device == "cpu")
                Assert.Contains(warnings, w => w.Contains("Microsoft.ML.OnnxRuntime.Gpu"));
        }
        try
        {
            using var strict = LipNetModel.Load(bytes, "x.onnx", new LipNetSessionOptions { Device = "cuda:0", FallbackToCpu = false });
            Assert.Equal("cuda:0", strict.Device);
        }
        catch (ModelLoadException ex)
        {
            Assert.Contains("CUDA", ex.Message);
        }
    }

    [Fact]
    public void SafeTensorsRoundTripAndRejectCorruptFiles()
    {
        using var dir = new TempDir();
        var t = new NamedTensor("w", [2, 3], [1, 2, 3, 4, 5, 6]);
        SafeTensors.Save(dir.File("a.safetensors"), [t, new NamedTensor("b", [1], [7])], new Dictionary<string, string> { ["k"] = "v" });
        var back = SafeTensors.Load(dir.File("a.safetensors"), out var meta);
        Assert.Equal(t.Data, back["w"].Data);
        Assert.Equal([2L, 3], back["w"].Shape);
        Assert.Equal("v", meta["k"]);
        var bytes = File.ReadAllBytes(dir.File("a.safetensors"));
        foreach (var cut in new[] { 0, 4, 12, bytes.Length - 3 })
        {
            File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..cut]);
            var ex = Assert.Throws<TensorShapeException>(() => SafeTensors.Load(dir.File("cut.safetensors")));
            Assert.Equal(dir.File("cut.safetensors"), ex.FilePath);
        }
        var random = new Random(1);
        for (int i = 0; i < 50; i++)
        {
            var noisy = (byte[])bytes.Clone();
            noisy[8 + random.Next(Math.Min(60, noisy.Length - 8))] = (byte)random.Next(256);
            File.WriteAllBytes(dir.File("noisy.safetensors"), noisy);
            try { SafeTensors.Load(dir.File("noisy.safetensors")); } catch (LipNetException) { }
        }
    }
}
