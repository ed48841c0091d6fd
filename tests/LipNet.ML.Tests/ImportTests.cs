using LipNet.ML.Decoding;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;
using LipNet.ML.Video;
using static LipNet.ML.Tests.OnnxGraphTests;

namespace LipNet.ML.Tests;

/// <summary>
/// The importers of public LipNet weights against fixtures written by tests/fixtures/make_import_fixtures.py (python3-h5py,
/// python3-torch): seeded narrow networks, and their outputs from forward passes written from the networks' definitions.
/// </summary>
public class ImportTests
{
    /// <summary>The fixture's input: element i of [1, 3, 75, H, W] is ((i * 2654435761) mod 2^32) / 2^32.</summary>
    internal static float[] FixtureVideo(int height, int width)
    {
        var data = new float[3 * 75 * height * width];
        for (long i = 0; i < data.Length; i++)
            data[i] = (float)((double)((ulong)i * 2654435761UL % 4294967296UL) / 4294967296.0);
        return data;
    }

    private static void AssertParity(ImportedLipNet imported, string expectedName)
    {
        var expected = SafeTensors.Load(Fixture("import_parity.safetensors"))[expectedName];
        using var model = LipNetModel.Load(Google.Protobuf.MessageExtensions.ToByteArray(imported.ToOnnx()), expectedName + ".onnx");
        var (logProbs, frames) = model.Run(FixtureVideo(imported.Architecture.Height, imported.Architecture.Width), 1);
        Assert.Equal(75, frames);
        Assert.Equal(expected.Data.Length, logProbs.Length);
        float maxError = expected.Data.Zip(logProbs, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(maxError < 1e-4f, $"max abs error {maxError:E2} against the reference forward pass");
        // Not trivially flat: the reference's classes differ by more than the tolerance.
        Assert.True(expected.Data.Max() - expected.Data.Min() > 1f);
    }

    [Fact]
    public void KerasWeightsMatchTheKerasForwardPassWithin1e4()
    {
        var imported = LipNetImport.FromKeras(Fixture("rizkiarm_keras.h5"));
        Assert.Equal(GruConvention.Keras, imported.Architecture.Gru);
        Assert.Equal([3, 4, 5], imported.Architecture.ConvChannels);
        Assert.Equal(6, imported.Architecture.GruHidden);
        Assert.Equal((50, 100), (imported.Architecture.Height, imported.Architecture.Width));
        AssertParity(imported, "rizkiarm");
    }

    [Fact]
    public void KerasFullModelFileReadsLikeItsWeightsFile()
    {
        var weights = LipNetImport.FromKeras(Fixture("rizkiarm_keras.h5")).Weights;
        var full = LipNetImport.FromKeras(Fixture("rizkiarm_keras_full.h5")).Weights;
        Assert.Equal(weights.Keys.Order(), full.Keys.Order());
        foreach (var (name, tensor) in weights)
            Assert.Equal(tensor.Data, full[name].Data);
    }

    [Theory]
    [InlineData("vipl_zip.pt")]
    [InlineData("vipl_legacy.pt")]
    public void TorchCheckpointsMatchTheLipNetPyTorchModuleWithin1e4(string file)
    {
        var imported = LipNetImport.FromTorch(Fixture(file));
        Assert.Equal(GruConvention.Torch, imported.Architecture.Gru);
        Assert.Equal((64, 128), (imported.Architecture.Height, imported.Architecture.Width));
        AssertParity(imported, "vipl");
    }

    [Fact]
    public void BothTorchFormatsGiveTheSameTensors()
    {
        var zip = TorchCheckpoint.Load(Fixture("vipl_zip.pt"));
        var legacy = TorchCheckpoint.Load(Fixture("vipl_legacy.pt"));
        Assert.Equal(24, zip.Count);
        Assert.Equal(zip.Keys.Order(), legacy.Keys.Order());
        foreach (var (name, tensor) in zip)
        {
            Assert.Equal(tensor.Shape, legacy[name].Shape);
            Assert.Equal(tensor.Data, legacy[name].Data);
        }
        Assert.Equal([4L, 3, 3, 5, 5], zip["conv2.weight"].Shape);
    }

    [Fact]
    public void CardsCarryEachProjectsVocabularyOrderChannelsAndCropProfile()
    {
        var keras = LipNetImport.FromKeras(Fixture("rizkiarm_keras.h5")).Card;
        Assert.Equal(BlankPosition.Last, keras.Blank);
        Assert.Equal([.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString()), " "], keras.Vocabulary);
        Assert.Equal("mouth-centred", keras.CropProfile);
        Assert.Equal(PixelOrder.Rgb, keras.ChannelOrder);
        Assert.Null(keras.Mean);
        Assert.Equal((50, 100, 75), (keras.Height, keras.Width, keras.Frames));
        Assert.Equal("lipnet-rizkiarm", keras.Name);

        var torch = LipNetImport.FromTorch(Fixture("vipl_zip.pt")).Card;
        Assert.Equal(BlankPosition.First, torch.Blank);
        Assert.Equal([" ", .. Enumerable.Range('a', 26).Select(c => ((char)c).ToString())], torch.Vocabulary);
        Assert.Equal("face-aligned", torch.CropProfile);
        Assert.Equal(PixelOrder.Bgr, torch.ChannelOrder);
        Assert.Null(torch.Std);
        Assert.Equal((64, 128), (torch.Height, torch.Width));

        // The card survives the ONNX file: what a reader of the saved model gets.
        string path = Path.Combine(Path.GetTempPath(), $"lipnet-import-{Guid.NewGuid():N}.onnx");
        try
        {
            LipNetImport.FromTorch(Fixture("vipl_zip.pt")).Save(path);
            using var model = LipNetModel.Load(path);
            Assert.Equal(BlankPosition.First, model.Card.Blank);
            Assert.Equal("face-aligned", model.Card.CropProfile);
            Assert.Equal(PixelOrder.Bgr, model.Card.ChannelOrder);
            Assert.Equal(GruConvention.Torch, model.Card.Architecture!.Gru);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ModelImportException ImportError(Action import)
    {
        var ex = Assert.Throws<ModelImportException>(import);
        Assert.NotNull(ex.FilePath);
        Assert.StartsWith(ex.FilePath!, ex.Message);
        return ex;
    }

    [Fact]
    public void BadKerasFilesAreTypedErrorsNamingTheFileAndTensor()
    {
        var shape = ImportError(() => LipNetImport.FromKeras(Fixture("rizkiarm_keras_bad_shape.h5")));
        Assert.Equal("dense1/dense1/kernel:0", shape.Tensor);
        Assert.Contains("(11, 28)", shape.Message);
        Assert.Contains("(12, 28)", shape.Message);

        var unknown = ImportError(() => LipNetImport.FromKeras(Fixture("rizkiarm_keras_unknown_layer.h5")));
        Assert.Equal("conv4/conv4/kernel:0", unknown.Tensor);

        string truncated = TruncatedCopy(Fixture("rizkiarm_keras.h5"), 0.6);
        try
        {
            ImportError(() => LipNetImport.FromKeras(truncated));
        }
        finally
        {
            File.Delete(truncated);
        }
        // A PyTorch checkpoint given as Keras weights, and a missing file.
        Assert.Contains("HDF5", ImportError(() => LipNetImport.FromKeras(Fixture("vipl_zip.pt"))).Message);
        Assert.Contains("not found", ImportError(() => LipNetImport.FromKeras(Fixture("no-such.h5"))).Message);
    }

    [Theory]
    [InlineData("vipl_zip.pt")]
    [InlineData("vipl_legacy.pt")]
    public void TruncatedTorchCheckpointsAreTypedErrors(string file)
    {
        foreach (double keep in new[] { 0.3, 0.9 })
        {
            string truncated = TruncatedCopy(Fixture(file), keep);
            try
            {
                ImportError(() => LipNetImport.FromTorch(truncated));
            }
            finally
            {
                File.Delete(truncated);
            }
        }
    }

    [Fact]
    public void TorchCheckpointsOfOtherNetworksAreTypedErrorsNamingTheTensor()
    {
        var tensors = TorchCheckpoint.Load(Fixture("vipl_zip.pt"));
        string dir = Directory.CreateTempSubdirectory("lipnet-import").FullName;
        try
        {
            // Re-saved as safetensors-free checks: an extra tensor and a wrong shape, through the same validation as a .pt.
            var extra = LipNetImportProbe(dir, tensors.Append(new("conv4.weight", new NamedTensor("conv4.weight", [1], [0f]))));
            Assert.Equal("conv4.weight", extra.Tensor);
            var reshaped = new Dictionary<string, NamedTensor>(tensors) { ["FC.bias"] = new NamedTensor("FC.bias", [27], new float[27]) };
            var shape = LipNetImportProbe(dir, reshaped);
            Assert.Equal("FC.bias", shape.Tensor);
            Assert.Contains("[27]", shape.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        // A Keras file given as a PyTorch checkpoint.
        Assert.Contains("not a torch.save checkpoint", ImportError(() => LipNetImport.FromTorch(Fixture("rizkiarm_keras.h5"))).Message);
    }

    /// <summary>Writes <paramref name="tensors"/> as a zip-format torch checkpoint (the layout torch.save writes) and imports it.</summary>
    private static ModelImportException LipNetImportProbe(string dir, IEnumerable<KeyValuePair<string, NamedTensor>> tensors)
    {
        string path = Path.Combine(dir, $"probe-{Guid.NewGuid():N}.pt");
        TorchZipWriter.Write(path, tensors.ToDictionary(p => p.Key, p => p.Value));
        return ImportError(() => LipNetImport.FromTorch(path));
    }

    [Theory]
    [InlineData("vipl_bad_offset.pt", "negative offset")]
    [InlineData("vipl_huge_view.pt", "too large")]
    [InlineData("vipl_legacy_bad_count.pt", "negative size")]
    [InlineData("vipl_whole_module.pt", "save model.state_dict()")]
    public void MalformedCheckpointsAreOneLineTypedErrors(string file, string reason)
    {
        var ex = ImportError(() => TorchCheckpoint.Load(Fixture(file)));
        Assert.Contains(reason, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void AWrappedStateDictIsFoundBesideTheEpochAndLoss()
    {
        var wrapped = TorchCheckpoint.Load(Fixture("vipl_wrapped.pt"));
        var plain = TorchCheckpoint.Load(Fixture("vipl_zip.pt"));
        Assert.Equal(plain.Keys.Order(), wrapped.Keys.Order());
        Assert.Equal(plain["FC.weight"].Data, wrapped["FC.weight"].Data);
    }

    [Fact]
    public void NonFiniteWeightsAndUnwritableOutputsAreTypedErrors()
    {
        using var dir = new TempDir();
        var tensors = new Dictionary<string, NamedTensor>(TorchCheckpoint.Load(Fixture("vipl_zip.pt")));
        var bias = tensors["FC.bias"].Data.ToArray();
        bias[3] = float.NaN;
        tensors["FC.bias"] = tensors["FC.bias"] with { Data = bias };
        string nan = dir.File("nan.pt");
        TorchZipWriter.Write(nan, tensors);
        Assert.Equal("FC.bias", ImportError(() => LipNetImport.FromTorch(nan)).Tensor);

        var toDirectory = CliTests.Run("import", "--torch", Fixture("vipl_zip.pt"), "--out", dir.Path);
        // An --out that is a folder is a usage error naming the option, as for every command (exit 1, before any work).
        Assert.Equal(1, toDirectory.Code);
        Assert.Contains("--out", toDirectory.Err);
        Assert.Contains("is a folder, not a file", toDirectory.Err);
    }

    [Fact]
    public void APickleThatCallsCodeIsRefusedAndNotRun()
    {
        var ex = ImportError(() => LipNetImport.FromTorch(Fixture("vipl_malicious.pt")));
        Assert.Equal("posix.system", ex.Tensor);
        Assert.Contains("nothing in it was run", ex.Message);
    }

    [Fact]
    public void KerasGrusCannotBeTrained()
    {
        var arch = LipNetImport.FromKeras(Fixture("rizkiarm_keras.h5")).Architecture;
        var ex = Assert.Throws<LipNetException>(() => LipNetGraph.BuildTraining(arch, 1));
        Assert.Contains("Keras", ex.Message);
    }

    [Fact]
    public void ImportedModelsTranscribeThroughTheReader()
    {
        // Random narrow weights read nothing sensible; this checks the card (vocabulary, profile, channel order, size) drives the
        // whole data path: the reader opens the model, crops with the card's profile and decodes with its vocabulary.
        using var dir = new TempDir();
        var video = dir.File("video/s1/clip.avi");
        SyntheticCorpus.WriteVideo(SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 2 }, 0, 0).Frames, video, SyntheticVideoFormat.Avi);
        foreach (var imported in new[] { LipNetImport.FromKeras(Fixture("rizkiarm_keras.h5")), LipNetImport.FromTorch(Fixture("vipl_zip.pt")) })
        {
            string model = dir.File(imported.Card.Name + ".onnx");
            imported.Save(model, float16Weights: true);
            using var reader = new LipReader(model, new LipReaderOptions { BeamWidth = 4 });
            Assert.Equal(imported.Card.CropProfile, reader.Model.Card.CropProfile);
            var result = reader.Transcribe(video);
            Assert.All(result.Text, c => Assert.True(c == ' ' || c is >= 'a' and <= 'z', result.Text));
            Assert.True(result.ModelMs > 0);

            // ML.NET's card-driven pipeline (float32: its ONNX transformer takes no float16) reads what the reader reads, greedily.
            string float32 = dir.File(imported.Card.Name + "-fp32.onnx");
            imported.Save(float32);
            using var greedy = new LipReader(float32, new LipReaderOptions { BeamWidth = 0 });
            Assert.Equal([greedy.Transcribe(video).Text], FullPipelineTests.ReadWithMLNet(float32, imported.Card, [video]));
        }
    }

    [Fact]
    public void ImportCommandTakesEachFormatAndReportsBadInputInOneLine()
    {
        using var dir = new TempDir();
        var keras = CliTests.Run("import", "--keras", Fixture("rizkiarm_keras.h5"), "--out", dir.File("k.onnx"));
        Assert.True(keras.Code == 0, keras.Err);
        Assert.Contains("rizkiarm", keras.Out);
        Assert.Contains("crop profile mouth-centred, blank last", keras.Out);
        var torch = CliTests.Run("import", "--torch", Fixture("vipl_legacy.pt"), "--arch", "vipl", "--out", dir.File("t.onnx"), "--fp16");
        Assert.True(torch.Code == 0, torch.Err);
        Assert.Contains("input 128x64 BGR, crop profile face-aligned, blank first", torch.Out);
        using (var model = LipNetModel.Load(dir.File("t.onnx")))
            Assert.Equal("lipnet-vipl", model.Card.Name);

        var wrongFormat = CliTests.Run("import", "--keras", Fixture("vipl_zip.pt"), "--out", dir.File("x.onnx"));
        Assert.Equal(LipNet.Cli.CliApp.BadInput, wrongFormat.Code);
        Assert.Contains("vipl_zip.pt", wrongFormat.Err);
        Assert.Single(wrongFormat.Err.Trim().Split('\n'));
        var wrongArch = CliTests.Run("import", "--torch", Fixture("vipl_zip.pt"), "--arch", "rizkiarm", "--out", dir.File("x.onnx"));
        Assert.NotEqual(0, wrongArch.Code);
        Assert.Contains("--arch vipl", wrongArch.Err);
        var two = CliTests.Run("import", "--torch", Fixture("vipl_zip.pt"), "--keras", Fixture("rizkiarm_keras.h5"), "--out", dir.File("x.onnx"));
        Assert.NotEqual(0, two.Code);
        Assert.False(File.Exists(dir.File("x.onnx")));
    }

    private static string TruncatedCopy(string path, double keep)
    {
        var bytes = File.ReadAllBytes(path);
        string copy = Path.Combine(Path.GetTempPath(), $"lipnet-truncated-{Guid.NewGuid():N}{Path.GetExtension(path)}");
        File.WriteAllBytes(copy, bytes[..(int)(bytes.Length * keep)]);
        return copy;
    }
}

/// <summary>A minimal writer of torch.save's zip layout for float32 state_dicts (tests only): data.pkl (pickle protocol 2) + data/{i}.</summary>
internal static class TorchZipWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, NamedTensor> tensors)
    {
        using var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create);
        var pickle = new MemoryStream();
        var w = new BinaryWriter(pickle);
        void Op(byte op) => w.Write(op);
        void Str(string s)
        {
            var b = System.Text.Encoding.UTF8.GetBytes(s);
            Op((byte)'X');
            w.Write(b.Length);
            w.Write(b);
        }
        void Int(long v)
        {
            Op((byte)'J');
            w.Write((int)v);
        }
        void Global(string module, string name) => w.Write(System.Text.Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        Op(0x80); Op(2);
        Op((byte)'}'); Op((byte)'(');
        int key = 0;
        foreach (var (name, t) in tensors)
        {
            Str(name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op((byte)'(');
            // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
            Op((byte)'('); Str("storage"); Global("torch", "FloatStorage"); Str(key.ToString()); Str("cpu"); Int(t.Data.Length); Op((byte)'t');
            Op((byte)'Q');
            Int(0);
            Op((byte)'('); foreach (var d in t.Shape) Int(d); Op((byte)'t');
            var strides = new long[t.Shape.Length];
            for (int i = strides.Length - 1, s = 1; i >= 0; s *= (int)t.Shape[i], i--) strides[i] = s;
            Op((byte)'('); foreach (var s in strides) Int(s); Op((byte)'t');
            Op(0x89); // False
            Op((byte)'}');
            Op((byte)'t');
            Op((byte)'R');
            var entry = zip.CreateEntry($"probe/data/{key}");
            using (var s = entry.Open())
                s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data.AsSpan()));
            key++;
        }
        Op((byte)'u'); Op((byte)'.');
        using (var s = zip.CreateEntry("probe/data.pkl").Open())
            s.Write(pickle.ToArray());
    }
}
