using LipNet.ML.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace LipNet.ML.Face;

/// <summary>
/// The two third-party models of the landmark front end, embedded in the package (see NOTICE): UltraFace
/// RFB-320 (Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB, MIT) and MediaPipe Face Mesh (Google,
/// Apache-2.0; ONNX conversion with post-processing by PINTO0309). Nothing is downloaded.
/// </summary>
public static class FaceModels
{
    /// <summary>Resource name of the face detector.</summary>
    public const string DetectorName = "ultraface-RFB-320.onnx";

    /// <summary>Resource name of the landmark model.</summary>
    public const string LandmarkerName = "face_mesh_Nx3x192x192_post.onnx";

    /// <summary>The embedded model's bytes.</summary>
    /// <exception cref="Runtime.ModelLoadException">This build has no such embedded model.</exception>
    public static byte[] Embedded(string name)
    {
        using var stream = typeof(FaceModels).Assembly.GetManifestResourceStream("LipNet.ML.face." + name)
            ?? throw new ModelLoadException("this build of LipNet.ML has no embedded front-end model (onnx/face was missing at build time)", "embedded:" + name);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// Writes a continuous 8-bit 3-channel image as planar RGB floats, (v + <paramref name="offset"/>) · <paramref name="scale"/>,
    /// into <paramref name="destination"/> ([3, H, W]).
    /// </summary>
    internal static unsafe void ToPlanarRgb(OpenCvSharp.Mat image, Video.PixelOrder order, float[] destination, float offset, float scale)
    {
        int plane = image.Width * image.Height;
        int r = order == Video.PixelOrder.Rgb ? 0 : 2, b = 2 - r;
        byte* p = (byte*)image.Data;
        for (int i = 0; i < plane; i++, p += 3)
        {
            destination[i] = (p[r] + offset) * scale;
            destination[plane + i] = (p[1] + offset) * scale;
            destination[2 * plane + i] = (p[b] + offset) * scale;
        }
    }

    /// <summary>
    /// An ONNX Runtime session over a model file (or the embedded one when <paramref name="path"/> is null),
    /// with its inputs and outputs checked by name.
    /// </summary>
    /// <exception cref="Runtime.ModelLoadException">The file is missing, not ONNX, or lacks a named input or output.</exception>
    internal static InferenceSession Open(string? path, string embeddedName, int threads, string[] inputs, string[] outputs)
    {
        string source = path ?? "embedded:" + embeddedName;
        byte[] bytes;
        if (path is null)
            bytes = Embedded(embeddedName);
        else if (!File.Exists(path))
            throw new ModelLoadException("front-end model file not found", path);
        else
            bytes = File.ReadAllBytes(path);
        SessionOptions options;
        try
        {
            options = NewOptions(threads);
        }
        catch (Exception ex) when (NativeLibraryException.IsMissingNative(ex))
        {
            throw NativeLibraryException.OnnxRuntime(ex, source);
        }
        using var _ = options;
        InferenceSession session;
        try
        {
            session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException($"not a loadable ONNX model ({ex.Message})", source, ex);
        }
        catch (Exception ex) when (NativeLibraryException.IsMissingNative(ex))
        {
            throw NativeLibraryException.OnnxRuntime(ex, source);
        }
        return Checked(session, source, inputs, outputs);
    }

    private static SessionOptions NewOptions(int threads) => new()
    {
        IntraOpNumThreads = Math.Max(1, threads),
        InterOpNumThreads = 1,
        // UltraFace lists its weights as graph inputs; ORT warns about that on every load.
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    private static InferenceSession Checked(InferenceSession session, string source, string[] inputs, string[] outputs)
    {
        foreach (var name in inputs)
            if (!session.InputMetadata.ContainsKey(name))
            {
                session.Dispose();
                throw new ModelLoadException($"model has no input '{name}' (inputs: {string.Join(", ", session.InputMetadata.Keys)})", source);
            }
        foreach (var name in outputs)
            if (!session.OutputMetadata.ContainsKey(name))
            {
                session.Dispose();
                throw new ModelLoadException($"model has no output '{name}' (outputs: {string.Join(", ", session.OutputMetadata.Keys)})", source);
            }
        return session;
    }
}
