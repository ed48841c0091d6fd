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
    public void FramewiseConvolutionsEqualThe3dOnesWithSymbolicFrames()
    {
        var arch = LipNetArchitecture.Small with { Frames = 7 };
        var weights = arch.InitialWeights(4);
        var input = Enumerable.Range(0, 2 * 3 * 7 * 50 * 100).Select(i => (i * 7919 % 101) / 50f - 1).ToArray();
        float[] Run(bool framewise)
        {
            var model = LipNetGraph.BuildInference(arch, weights, null, float16Weights: false, dynamicFrames: true, int8: null, exposeBlocks: false, framewise);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToByteArray());
            using var x = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(input, [2, 3, 7, 50, 100]);
            using var y = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [LipNetGraph.InputName], [x], [LipNetGraph.OutputName]);
            return y[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var framewise = Run(true);
        var conv3d = Run(false);
        Assert.Equal(2 * 7 * 28, framewise.Length);
        Assert.True(framewise.Zip(conv3d, (a, b) => MathF.Abs(a - b)).Max() < 1e-4f);
        // Temporal pooling cannot run frame-wise: such an architecture keeps 3-D convolutions.
        Assert.False((LipNetArchitecture.Small with { Pool = [2, 2, 2] }).ConvolvesFramewise);
        Assert.True(LipNetArchitecture.Paper.ConvolvesFramewise);
    }

    [Fact]
    public void Int8ConvolutionsStayCloseToFloat()
    {
        var tensors = SafeTensors.Load(Fixture("lipnet_small_parity.safetensors"), out var meta);
        int frames = int.Parse(meta["frames"]);
        var arch = LipNetArchitecture.Small with { Frames = frames };
        var clip = tensors["input"].Data;
        var flipped = clip.Select(v => -v).ToArray();
        var int8 = Int8Convolutions.Calibrate(arch, tensors, [clip, flipped]);
        Assert.Equal(2, int8.CalibrationClips);
        Assert.All(int8.BlockScales, s => Assert.True(s > 0));
        var card = ModelCard.For(arch, "parity fixture") with { Frames = frames };
        var floatBytes = LipNetGraph.Build(arch, tensors, card).ToByteArray();
        var int8Bytes = LipNetGraph.Build(arch, tensors, card, int8: int8).ToByteArray();
        using var reference = LipNetModel.Load(floatBytes, "float.onnx");
        using var quantized = LipNetModel.Load(int8Bytes, "int8.onnx");
        var batch = clip.Concat(flipped).ToArray();
        var (expected, _) = reference.Run(batch, 2);
        var (actual, _) = quantized.Run(batch, 2);
        // Against the spread of the float log-probs around their means (random weights give flat outputs).
        double spread = expected.Average(v => Math.Abs(v - expected.Average()));
        double error = expected.Zip(actual, (a, b) => (double)Math.Abs(a - b)).Average();
        Assert.True(error < 0.05 * spread, $"mean log-prob error {error:E2}, spread {spread:E2}");
        Assert.True(int8Bytes.Length < floatBytes.Length);

        // Weights: per output channel, every value within half a step of the float one; the bias at input x weight scale.
        var (q, scales, bias) = int8.QuantizeWeights(tensors["conv2.weight"], tensors["conv2.bias"], 0.5f);
        var w = tensors["conv2.weight"];
        int m = (int)w.Shape[0], c = (int)w.Shape[1], kt = (int)w.Shape[2], area = (int)(w.Shape[3] * w.Shape[4]), per = c * kt * area;
        for (int o = 0; o < m; o++)
        {
            Assert.Equal(w.Data.Skip(o * per).Take(per).Max(MathF.Abs) / 127f, scales[o], 6);
            Assert.Equal(Math.Round(tensors["conv2.bias"].Data[o] / (0.5 * scales[o])), bias[o]);
            for (int ci = 0; ci < c; ci++)
                for (int t = 0; t < kt; t++)
                    for (int a = 0; a < area; a++)
                        Assert.True(Math.Abs(q[o * per + (t * c + ci) * area + a] * scales[o] - w.Data[o * per + (ci * kt + t) * area + a]) <= scales[o] * 0.5001f);
        }

        var ex = Assert.Throws<TensorShapeException>(() => LipNetGraph.Build(arch, tensors, card, int8: new Int8Convolutions([1f])));
        Assert.Contains("block scales", ex.Message);
        Assert.Throws<TensorShapeException>(() => Int8Convolutions.Calibrate(arch, tensors, [new float[10]]));
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
    public void ExportedGraphsGiveBackTheirWeights()
    {
        var arch = LipNetArchitecture.Small with { Frames = 6 };
        var weights = arch.InitialWeights(3);
        var card = ModelCard.For(arch, "random") with { Frames = 6 };
        var full = LipNetGraph.ReadWeights(arch, LipNetGraph.Build(arch, weights, card), "full.onnx");
        var half = LipNetGraph.ReadWeights(arch, LipNetGraph.Build(arch, weights, card, float16Weights: true), "half.onnx");
        Assert.Equal(weights.Keys.Order(), full.Keys.Order());
        foreach (var (name, tensor) in weights)
        {
            Assert.Equal(tensor.Shape, full[name].Shape);
            Assert.Equal(tensor.Data, full[name].Data);
            Assert.Equal(tensor.Shape, half[name].Shape);
            Assert.All(tensor.Data.Zip(half[name].Data), p => Assert.True(MathF.Abs(p.First - p.Second) <= MathF.Abs(p.First) / 1024 + 1e-7f, $"{name}: {p.First} read back as {p.Second}"));
        }

        var int8 = LipNetGraph.Build(arch, weights, card, int8: new Int8Convolutions([0.1f, 0.1f, 0.1f]));
        var ex = Assert.Throws<ModelLoadException>(() => LipNetGraph.ReadWeights(arch, int8, "int8.onnx"));
        Assert.Contains("int8", ex.Message);
        Assert.Equal("int8.onnx", ex.FilePath);
        Assert.ThrowsAny<LipNetException>(() => LipNetGraph.ReadWeights(LipNetArchitecture.Paper, LipNetGraph.Build(arch, weights, card), "small.onnx"));
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
