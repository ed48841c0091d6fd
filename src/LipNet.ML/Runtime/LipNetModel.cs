using Google.Protobuf;
using LipNet.ML.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Runtime;

/// <summary>ONNX Runtime settings for a model session.</summary>
public sealed record LipNetSessionOptions
{
    /// <summary>"cpu" (default) or "cuda:N" (CUDA execution provider on device N).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>When CUDA is asked for but unavailable: fall back to CPU with a warning (true) or fail (false).</summary>
    public bool FallbackToCpu { get; init; } = true;

    /// <summary>
    /// Threads inside one operator; 0 = one per logical processor (ONNX Runtime's own default counts
    /// physical cores, which on 2-vCPU machines means one thread and about 40% less throughput). For
    /// <see cref="LipReader.TranscribeMany"/> throughput, 1 is faster end to end: then one model worker runs per core
    /// (<see cref="LipReaderOptions.ModelWorkers"/>) while every core also decodes and crops the next clips.
    /// </summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across independent operators (0 = default).</summary>
    public int InterOpThreads { get; init; }

    /// <summary>ONNX Runtime's graph optimizations applied when the session is created (default: all).</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Write an ONNX Runtime profile (JSON trace) with this file prefix; null = off.</summary>
    public string? ProfilePrefix { get; init; }

    /// <summary>Where warnings (e.g. the CPU fallback) go; null = stderr.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>A model that cannot be loaded or used: bad file, card mismatch, missing execution provider.</summary>
public sealed class ModelLoadException(string message, string? path = null, Exception? inner = null) : LipNetException(message, path, inner);

/// <summary>
/// A LipNet ONNX model on ONNX Runtime: the session, its model card (validated against the graph's input
/// and output) and batched inference from float tensors to log-probabilities. Thread-safe (ONNX Runtime
/// sessions allow concurrent runs); dispose to free the native session.
/// </summary>
public sealed class LipNetModel : IDisposable
{
    private readonly InferenceSession _session;

    private LipNetModel(InferenceSession session, ModelCard card, string source, string device)
    {
        _session = session;
        Card = card;
        Source = source;
        Device = device;
    }

    /// <summary>
    /// The model card: input shape (C x T x H x W), frame rate, crop profile, normalization, vocabulary and blank position,
    /// whether the output is log-probabilities; embedded in the file or passed to
    /// <see cref="Load(string, LipNetSessionOptions?, ModelCard?)"/>.
    /// </summary>
    public ModelCard Card { get; }

    /// <summary>Where the model came from: its path, the name given with its bytes, or <c>embedded:lipnet-default.onnx</c>.</summary>
    public string Source { get; }

    /// <summary>The device the session really runs on (after any fallback).</summary>
    public string Device { get; }

    /// <summary>Name of the embedded default model (onnx/lipnet-default.onnx in the repository).</summary>
    public const string DefaultModelName = "lipnet-default.onnx";

    /// <summary>The default model's bytes, embedded in this assembly; null in a build made without it.</summary>
    public static byte[]? DefaultModelBytes()
    {
        using var stream = typeof(LipNetModel).Assembly.GetManifestResourceStream("LipNet.ML." + DefaultModelName);
        if (stream is null)
            return null;
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// The embedded default model: a Small LipNet trained by the project on its synthetic GRID-style corpus (its card
    /// tells the data and measured accuracy). It reads the synthetic speakers, not arbitrary real faces.
    /// </summary>
    /// <param name="options">Device, threads and optimization; null = CPU with the defaults.</param>
    /// <returns>The loaded model; the caller disposes it.</returns>
    /// <exception cref="ModelLoadException">This build has no embedded model, or the session cannot be created on the device.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public static LipNetModel LoadDefault(LipNetSessionOptions? options = null) =>
        Load(DefaultModelBytes() ?? throw new ModelLoadException("this build of LipNet.ML has no embedded default model (onnx/lipnet-default.onnx was missing at build time); pass a model file"),
            "embedded:" + DefaultModelName, options);

    /// <summary>
    /// The model with its float16 initializers widened to float32 (same graph, card and outputs; twice the size): for
    /// runtimes that take no float16 tensors, such as ML.NET's <c>ApplyOnnxModel</c>. Float32 models come back unchanged.
    /// </summary>
    /// <param name="model">ONNX model bytes (e.g. <see cref="DefaultModelBytes"/>).</param>
    /// <param name="source">Names the model in errors; null = none.</param>
    /// <returns>The serialized float32 model.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ModelLoadException">Not a readable ONNX model.</exception>
    public static byte[] Float32Copy(byte[] model, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = Parse(model, source);
        foreach (var tensor in proto.Graph.Initializer)
        {
            if (tensor.DataType != (int)OnnxElementType.Float16)
                continue;
            var raw = tensor.RawData.Span;
            var values = new float[raw.Length / 2];
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(raw), values);
            tensor.DataType = (int)OnnxElementType.Float;
            tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            // The Cast to float that followed it is now float → float: valid, and removed by ONNX Runtime's optimizer.
        }
        return proto.ToByteArray();
    }

    /// <summary>Loads an ONNX model file into an ONNX Runtime session and checks its card against the graph.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Device (<c>cpu</c> or <c>cuda:N</c>), threads and optimization; null = CPU with the defaults.</param>
    /// <param name="card">Overrides (or supplies) the card embedded in the file; null = the embedded one.</param>
    /// <returns>The loaded model; the caller disposes it.</returns>
    /// <exception cref="ModelLoadException">
    /// The file is missing or not ONNX; it has no card and none is given; the card's input, output or vocabulary size does not
    /// match the graph; an unknown device, or CUDA unavailable with <see cref="LipNetSessionOptions.FallbackToCpu"/> off.
    /// </exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public static LipNetModel Load(string path, LipNetSessionOptions? options = null, ModelCard? card = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new ModelLoadException("is a directory, not a model file", path);
        if (!File.Exists(path))
            throw new ModelLoadException("model file not found", path);
        return Load(File.ReadAllBytes(path), path, options, card);
    }

    /// <summary>An ONNX file's graph, or a <see cref="ModelLoadException"/> naming <paramref name="source"/>.</summary>
    internal static Onnx.Proto.ModelProto Parse(byte[] model, string? source)
    {
        Onnx.Proto.ModelProto proto;
        try
        {
            proto = Onnx.Proto.ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ModelLoadException($"not a valid ONNX file ({ex.Message})", source, ex);
        }
        if (proto.Graph is null || proto.Graph.Node.Count == 0)
            throw new ModelLoadException("ONNX file has no graph", source);
        return proto;
    }

    /// <summary>Loads a model from bytes; <paramref name="card"/> overrides (or supplies) the embedded card.</summary>
    /// <param name="model">The ONNX model's bytes.</param>
    /// <param name="source">Names the model in errors and in <see cref="Source"/>.</param>
    /// <param name="options">Device (<c>cpu</c> or <c>cuda:N</c>), threads and optimization; null = CPU with the defaults.</param>
    /// <param name="card">Overrides (or supplies) the card embedded in the model; null = the embedded one.</param>
    /// <returns>The loaded model; the caller disposes it.</returns>
    /// <exception cref="ModelLoadException">
    /// Not ONNX; no card; a card that does not match the graph; an unknown device, or CUDA unavailable without fallback.
    /// </exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public static LipNetModel Load(byte[] model, string source, LipNetSessionOptions? options = null, ModelCard? card = null)
    {
        options ??= new LipNetSessionOptions();
        var proto = Parse(model, source);
        card ??= proto.MetadataProps.FirstOrDefault(p => p.Key == ModelCard.MetadataKey) is { } entry
            ? ModelCard.FromJson(entry.Value, source)
            : throw new ModelLoadException($"model has no model card (metadata '{ModelCard.MetadataKey}'); pass one explicitly", source);

        SessionOptions sessionOptions;
        string device;
        try
        {
            (sessionOptions, device) = CreateOptions(options, source);
        }
        catch (Exception ex) when (NativeLibraryException.IsMissingNative(ex))
        {
            throw NativeLibraryException.OnnxRuntime(ex, source);
        }
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException($"ONNX Runtime rejected the model ({ex.Message})", source, ex);
        }
        catch (Exception ex) when (NativeLibraryException.IsMissingNative(ex))
        {
            throw NativeLibraryException.OnnxRuntime(ex, source);
        }
        finally
        {
            sessionOptions.Dispose();
        }
        var result = new LipNetModel(session, card, source, device);
        try
        {
            result.ValidateCard();
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    internal static (SessionOptions Options, string Device) CreateOptions(LipNetSessionOptions options, string source)
    {
        var so = new SessionOptions { GraphOptimizationLevel = options.OptimizationLevel };
        so.IntraOpNumThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount;
        if (options.InterOpThreads > 0) so.InterOpNumThreads = options.InterOpThreads;
        if (options.ProfilePrefix is { } prefix)
        {
            so.EnableProfiling = true;
            so.ProfileOutputPathPrefix = prefix;
        }
        string device = (options.Device ?? throw new ArgumentNullException(nameof(options), "LipNetSessionOptions.Device is null")).Trim().ToLowerInvariant();
        if (device == "cpu")
            return (so, "cpu");
        if (!device.StartsWith("cuda", StringComparison.Ordinal) || !int.TryParse(device.Length == 4 ? "0" : device[5..], out int id) || (device.Length > 4 && device[4] != ':'))
        {
            so.Dispose();
            throw new ModelLoadException($"device '{options.Device}' is not cpu or cuda:N", source);
        }
        try
        {
            so.AppendExecutionProvider_CUDA(id);
            return (so, $"cuda:{id}");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or TypeInitializationException)
        {
            string why = $"CUDA execution provider unavailable for cuda:{id}: the ONNX Runtime native library in use has no CUDA support or cannot load CUDA " +
                         $"(reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime, with a matching CUDA and cuDNN) — {ex.GetType().Name}: {ex.Message}";
            if (!options.FallbackToCpu)
            {
                so.Dispose();
                throw new ModelLoadException(why, source, ex);
            }
            (options.Log ?? (m => Console.Error.WriteLine(m)))($"warning: {why}; running on cpu");
            so.Dispose();
            return (new SessionOptions
            {
                GraphOptimizationLevel = options.OptimizationLevel,
                IntraOpNumThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount,
                InterOpNumThreads = Math.Max(0, options.InterOpThreads),
            }, "cpu");
        }
    }

    private void ValidateCard()
    {
        if (!_session.InputMetadata.TryGetValue(Card.InputName, out var input))
            throw new ModelLoadException($"model card names input '{Card.InputName}', the graph has [{string.Join(", ", _session.InputMetadata.Keys)}]", Source);
        if (!_session.OutputMetadata.TryGetValue(Card.OutputName, out var output))
            throw new ModelLoadException($"model card names output '{Card.OutputName}', the graph has [{string.Join(", ", _session.OutputMetadata.Keys)}]", Source);
        int[] expected = [-1, Card.Channels, -1, Card.Height, Card.Width];
        if (input.Dimensions.Length != 5)
            throw new ModelLoadException($"graph input '{Card.InputName}' has rank {input.Dimensions.Length}; the card's {Card.InputLayout} needs 5", Source);
        for (int i = 0; i < 5; i++)
            if (expected[i] >= 0 && input.Dimensions[i] >= 0 && input.Dimensions[i] != expected[i])
                throw new ModelLoadException($"graph input is [{string.Join(", ", input.Dimensions)}], the card says {Card.Channels}x{Card.Frames}x{Card.Height}x{Card.Width}", Source);
        int width = Card.Vocabulary.Length + 1;
        if (output.Dimensions.Length != 3 || (output.Dimensions[2] >= 0 && output.Dimensions[2] != width))
            throw new ModelLoadException($"graph output is [{string.Join(", ", output.Dimensions)}], the card's vocabulary needs [N, T, {width}]", Source);
    }

    /// <summary>Outputs per frame: the vocabulary plus the blank.</summary>
    public int OutputWidth => Card.Vocabulary.Length + 1;

    /// <summary>
    /// Runs a batch: <paramref name="input"/> is [N, C, T, H, W] (N = <paramref name="batch"/>, T = the card's
    /// frames); returns [N, T', V] log-probabilities and T'. The input buffer is used in place (no copy).
    /// </summary>
    /// <param name="input">N clips, [N, C, T, H, W] flattened, normalized as the card says.</param>
    /// <param name="batch">N, the number of clips (at least 1).</param>
    /// <returns>The output, [N, T', V] flattened (log-probabilities or logits as the card says), and T'.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="TensorShapeException">The array does not hold <paramref name="batch"/> clips of the card's input shape.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public (float[] LogProbs, int Frames) Run(float[] input, int batch)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Run(input.AsMemory(), batch);
    }

    /// <summary>
    /// Runs the model on <paramref name="batch"/> clips laid out [N, C, T, H, W] in a caller's memory (a slice of a larger
    /// buffer, pooled memory ...), read in place: no copy.
    /// </summary>
    /// <param name="input">N clips, [N, C, T, H, W] flattened, normalized as the card says.</param>
    /// <param name="batch">N, the number of clips (at least 1).</param>
    /// <returns>The output, [N, T', V] flattened (log-probabilities or logits as the card says), and T'.</returns>
    /// <exception cref="TensorShapeException">The memory does not hold <paramref name="batch"/> clips of the card's input shape.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public (float[] LogProbs, int Frames) Run(Memory<float> input, int batch)
    {
        long perClip = (long)Card.Channels * Card.Frames * Card.Height * Card.Width;
        if (batch < 1 || input.Length != perClip * batch)
            throw new TensorShapeException($"input holds {input.Length} floats, {batch} clip(s) of {Card.Channels}x{Card.Frames}x{Card.Height}x{Card.Width} need {perClip * batch}", Source);
        long[] shape = [batch, Card.Channels, Card.Frames, Card.Height, Card.Width];
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, shape);
        return Run(value);
    }

    /// <summary>Runs the model on an input tensor already in ONNX Runtime's hands: float, [N, C, T, H, W] as the card says.</summary>
    /// <param name="input">A float tensor [N, C, T, H, W] with the card's C, T, H and W; the caller keeps and disposes it.</param>
    /// <returns>The output, [N, T', V] flattened (log-probabilities or logits as the card says), and T'.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="TensorShapeException">Not a float tensor of the card's input shape.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed (ONNX Runtime would crash the process).</exception>
    public (float[] LogProbs, int Frames) Run(OrtValue input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var inputInfo = input.GetTensorTypeAndShape();
        long[] expected = [Card.Channels, Card.Frames, Card.Height, Card.Width];
        if (inputInfo.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || inputInfo.Shape.Length != 5 || !inputInfo.Shape.AsSpan(1).SequenceEqual(expected))
            throw new TensorShapeException($"input is {inputInfo.ElementDataType} [{string.Join(", ", inputInfo.Shape)}], the model takes float [N, {string.Join(", ", expected)}]", Source);
        long batch = inputInfo.Shape[0];
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [Card.InputName], [input], [Card.OutputName]);
        var info = outputs[0].GetTensorTypeAndShape();
        var dims = info.Shape;
        if (dims.Length != 3 || dims[0] != batch || dims[2] != OutputWidth)
            throw new TensorShapeException($"model output is [{string.Join(", ", dims)}], expected [{batch}, T, {OutputWidth}]", Source);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), (int)dims[1]);
    }

    private volatile bool _disposed;

    /// <summary>Frees the native ONNX Runtime session; later runs throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _session.Dispose();
    }
}
