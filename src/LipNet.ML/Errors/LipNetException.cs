namespace LipNet.ML;

/// <summary>
/// Base of every error the library raises on bad input. Catch this one type to handle any
/// missing, corrupt or malformed file, or a shape that does not fit.
/// </summary>
public class LipNetException : Exception
{
    /// <summary>An error about <paramref name="path"/>, if given; <see cref="Exception.Message"/> reads <c>path: message</c>.</summary>
    /// <param name="message">The reason, without the file name; kept as <see cref="Reason"/>.</param>
    /// <param name="path">The file or folder concerned, kept as <see cref="FilePath"/>; null when none.</param>
    /// <param name="inner">The lower-level exception that caused this one (I/O, JSON, ONNX Runtime ...); null when none.</param>
    public LipNetException(string message, string? path = null, Exception? inner = null)
        : base(path is null ? message : $"{path}: {message}", inner)
    {
        FilePath = path;
        Reason = message;
    }

    /// <summary>The file the error is about, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>The reason alone, without the file name.</summary>
    public string Reason { get; }
}

/// <summary>A video that is missing, unreadable, corrupt, empty or of an absurd size.</summary>
public sealed class VideoDecodeException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>A corpus file (align, JSON, CSV, transcript) that cannot be parsed.</summary>
public sealed class CorpusFormatException : LipNetException
{
    /// <summary>A parse error, optionally located; <see cref="Exception.Message"/> reads <c>path: line N: message</c>.</summary>
    /// <param name="message">The reason, without file or line (<see cref="LipNetException.Reason"/> is <c>line N: message</c>).</param>
    /// <param name="path">The file that fails to parse; null when the text did not come from a file.</param>
    /// <param name="line">1-based line number of the offending input, kept as <see cref="Line"/>; null when unknown.</param>
    /// <param name="inner">The parser's own exception (JSON, CSV, I/O), when there is one.</param>
    public CorpusFormatException(string message, string? path = null, int? line = null, Exception? inner = null)
        : base(line is null ? message : $"line {line}: {message}", path, inner)
    {
        Line = line;
    }

    /// <summary>1-based line number of the offending input, when known.</summary>
    public int? Line { get; }
}

/// <summary>A mouth locator that cannot work: missing cascade file, bad region, nothing found.</summary>
public sealed class MouthLocatorException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>A tensor, buffer or option whose shape does not fit what the operation needs.</summary>
public sealed class TensorShapeException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>
/// A native library (or, for audio, the ffmpeg program) the data path needs is not found: the message names the NuGet
/// package (and system package) that provides it. LipNet.ML references only the managed parts of ONNX Runtime and
/// OpenCvSharp; an application adds the native runtime packages for its platform.
/// </summary>
public sealed class NativeLibraryException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner)
{
    /// <summary>The NuGet package of ONNX Runtime's native library (CPU); Microsoft.ML.OnnxRuntime.Gpu.Linux for CUDA.</summary>
    public const string OnnxRuntimePackage = "Microsoft.ML.OnnxRuntime 1.31.1";

    /// <summary>The NuGet package of OpenCvSharp's native library for Linux x64 (it needs apt's libgtk-3-0).</summary>
    public const string OpenCvPackage = "OpenCvSharp4.official.runtime.linux-x64 4.13.0.20260627";

    /// <summary>
    /// The Debian/Ubuntu package of the ffmpeg and ffprobe programs that the audio reader (<c>LipNet.ML.Audio</c>) runs
    /// through FFMpegCore; scripts/setup.sh installs it.
    /// </summary>
    public const string FfmpegAptPackage = "ffmpeg";

    /// <summary>True for the ways .NET reports a missing or unloadable native library.</summary>
    public static bool IsMissingNative(Exception ex) => ex switch
    {
        DllNotFoundException or EntryPointNotFoundException or BadImageFormatException => true,
        TypeInitializationException { InnerException: { } inner } => IsMissingNative(inner),
        _ => false,
    };

    // The loader lists every path it tried, one per line; the first says what is missing.
    private static string FirstLine(Exception ex) => ex.GetBaseException().Message.Split('\n', 2)[0].Trim().TrimEnd(':');

    internal static NativeLibraryException OnnxRuntime(Exception ex, string? path = null) => new(
        $"ONNX Runtime's native library could not be loaded ({FirstLine(ex)}): add the package {OnnxRuntimePackage} " +
        "(or Microsoft.ML.OnnxRuntime.Gpu.Linux for CUDA) to the application", path, ex);

    internal static NativeLibraryException Ffmpeg(string program, string tried, string? path = null, Exception? inner = null) => new(
        $"{program} was not found ({tried}): install it with apt-get install {FfmpegAptPackage} " +
        "(Debian/Ubuntu; scripts/setup.sh does), or point AudioReadOptions.FfmpegFolder at a folder holding ffmpeg and ffprobe", path, inner);

    private static readonly Lazy<Exception?> OpenCvFailure = new(() =>
    {
        try
        {
            using var probe = new OpenCvSharp.Mat(1, 1, OpenCvSharp.MatType.CV_8UC1);
            return null;
        }
        catch (Exception ex) when (IsMissingNative(ex))
        {
            return ex;
        }
    });

    /// <summary>
    /// Loads OpenCV's native library once, where a stage that needs it is made, so that a missing runtime package is this
    /// typed error naming it rather than a TypeInitializationException from the first image operation.
    /// </summary>
    /// <param name="path">The file the stage was made for, if any.</param>
    /// <exception cref="NativeLibraryException">OpenCvSharp's native library cannot be loaded.</exception>
    internal static void EnsureOpenCv(string? path = null)
    {
        if (OpenCvFailure.Value is { } ex)
            throw OpenCv(ex, path);
    }

    internal static NativeLibraryException OpenCv(Exception ex, string? path = null) => new(
        $"OpenCV's native library could not be loaded ({FirstLine(ex)}): add the package {OpenCvPackage} to the application " +
        "and, on Debian/Ubuntu, apt-get install libgtk-3-0", path, ex);
}

/// <summary>
/// A weights file that cannot be imported (<see cref="Onnx.LipNetImport"/>): not the expected format, truncated, an unknown
/// layer or tensor, a shape that does not fit the network, or content a strict reader refuses (e.g. a pickle that names
/// code to run). <see cref="Exception.Message"/> reads <c>path: message</c> and names the offending tensor where there is one.
/// </summary>
public sealed class ModelImportException : LipNetException
{
    /// <summary>An import error about <paramref name="path"/>, optionally about one tensor of it.</summary>
    /// <param name="message">The reason, without the file name (the tensor's name is part of it where one is at fault).</param>
    /// <param name="path">The weights file; null when the bytes did not come from a file.</param>
    /// <param name="tensor">The tensor, dataset or pickled object at fault, kept as <see cref="Tensor"/>; null when none.</param>
    /// <param name="inner">The reader's own exception (HDF5, zip, pickle, I/O), when there is one.</param>
    public ModelImportException(string message, string? path = null, string? tensor = null, Exception? inner = null)
        : base(message, path, inner)
    {
        Tensor = tensor;
    }

    /// <summary>The tensor, dataset or pickled object at fault (e.g. <c>dense1/kernel:0</c>, <c>gru1.weight_ih_l0</c>); null when none.</summary>
    public string? Tensor { get; }
}
