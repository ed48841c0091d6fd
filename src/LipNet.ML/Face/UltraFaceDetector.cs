using LipNet.ML.Video;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace LipNet.ML.Face;

/// <summary>A detected face: box in source pixels (top-left x, y, width, height) and detector score in [0, 1].</summary>
/// <param name="X">Left edge, source pixels.</param>
/// <param name="Y">Top edge, source pixels.</param>
/// <param name="Width">Width, source pixels.</param>
/// <param name="Height">Height, source pixels.</param>
/// <param name="Score">UltraFace's face score for the box (the face column of its [background, face] scores), in [0, 1].</param>
public readonly record struct FaceDetection(float X, float Y, float Width, float Height, float Score)
{
    /// <summary>X of the box centre, source pixels.</summary>
    public float CenterX => X + Width / 2;

    /// <summary>Y of the box centre, source pixels.</summary>
    public float CenterY => Y + Height / 2;

    /// <summary>Box area in square source pixels (how <see cref="UltraFaceDetector.Detect"/> orders faces).</summary>
    public float Area => Width * Height;
}

/// <summary>Settings of <see cref="UltraFaceDetector"/>.</summary>
public sealed record UltraFaceOptions
{
    /// <summary>An UltraFace RFB-320 ONNX file; null = the embedded one.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Smallest face score kept, 0..1 (measured: faces score ≈ 1.0, background under 0.5).</summary>
    public float ScoreThreshold { get; init; } = 0.7f;

    /// <summary>Boxes overlapping a better one by more than this intersection-over-union are dropped (NMS).</summary>
    public float NmsIou { get; init; } = 0.3f;

    /// <summary>ONNX Runtime threads per call.</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>
/// The face detector stage: UltraFace RFB-320 (Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB) on
/// ONNX Runtime. Input: the frame resized to 320x240, RGB, (pixel − 127) / 128, [1, 3, 240, 320]; output:
/// 4,420 anchors' scores [1, 4420, 2] (background, face) and boxes [1, 4420, 4] (x1, y1, x2, y2 as fractions
/// of the image), reduced here by a score threshold and greedy non-maximum suppression. Not thread-safe
/// (one input buffer); create one per thread.
/// </summary>
public sealed class UltraFaceDetector : IDisposable
{
    /// <summary>Network input width and height in pixels.</summary>
    public const int InputWidth = 320, InputHeight = 240;

    private readonly InferenceSession _session;
    private readonly float[] _input = new float[3 * InputWidth * InputHeight];
    private readonly Mat _resized; // made after the check that OpenCV loads (EnsureOpenCv)

    /// <summary>Opens the UltraFace RFB-320 model in an ONNX Runtime session (CPU).</summary>
    /// <param name="options">Model file, score threshold, NMS overlap, threads; null = defaults (the embedded model).</param>
    /// <exception cref="Runtime.ModelLoadException">The model file is missing or not the UltraFace graph.</exception>
    /// <exception cref="MouthLocatorException">Options out of range.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's or OpenCV's native library is not installed.</exception>
    public UltraFaceDetector(UltraFaceOptions? options = null)
    {
        Options = options ?? new UltraFaceOptions();
        if (Options.ScoreThreshold is < 0 or > 1 || Options.NmsIou is <= 0 or > 1)
            throw new MouthLocatorException($"invalid face detector options {Options}");
        NativeLibraryException.EnsureOpenCv(Options.ModelPath);
        _resized = new();
        _session = FaceModels.Open(Options.ModelPath, FaceModels.DetectorName, Options.Threads, ["input"], ["scores", "boxes"]);
    }

    /// <summary>The settings the detector was made with.</summary>
    public UltraFaceOptions Options { get; }

    /// <summary>
    /// Faces in an 8-bit 3-channel frame, largest first: the anchors scoring at least
    /// <see cref="UltraFaceOptions.ScoreThreshold"/>, reduced by greedy non-maximum suppression at
    /// <see cref="UltraFaceOptions.NmsIou"/>, boxes scaled back to the frame's pixels.
    /// </summary>
    /// <param name="frame">An 8-bit, 3-channel image of any size (resized here to 320 x 240).</param>
    /// <param name="order">Channel order of <paramref name="frame"/>; the network gets RGB.</param>
    /// <returns>The faces found, largest area first; empty when none.</returns>
    public IReadOnlyList<FaceDetection> Detect(Mat frame, PixelOrder order)
    {
        Cv2.Resize(frame, _resized, new Size(InputWidth, InputHeight), 0, 0, InterpolationFlags.Linear);
        FaceModels.ToPlanarRgb(_resized, order, _input, -127f, 1 / 128f);
        using var input = OrtValue.CreateTensorValueFromMemory(_input, [1, 3, InputHeight, InputWidth]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, ["input"], [input], ["scores", "boxes"]);
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        var boxes = outputs[1].GetTensorDataAsSpan<float>();
        var found = new List<FaceDetection>();
        int anchors = scores.Length / 2;
        for (int i = 0; i < anchors; i++)
        {
            float s = scores[2 * i + 1];
            if (s < Options.ScoreThreshold)
                continue;
            float x1 = boxes[4 * i] * frame.Width, y1 = boxes[4 * i + 1] * frame.Height;
            float x2 = boxes[4 * i + 2] * frame.Width, y2 = boxes[4 * i + 3] * frame.Height;
            if (x2 > x1 && y2 > y1)
                found.Add(new FaceDetection(x1, y1, x2 - x1, y2 - y1, s));
        }
        var kept = NonMaximumSuppression(found, Options.NmsIou);
        kept.Sort((a, c) => c.Area.CompareTo(a.Area));
        return kept;
    }

    /// <summary>Greedy NMS: best score first, dropping boxes that overlap a kept one by more than <paramref name="iou"/>.</summary>
    internal static List<FaceDetection> NonMaximumSuppression(List<FaceDetection> boxes, float iou)
    {
        boxes.Sort((a, c) => c.Score.CompareTo(a.Score));
        var kept = new List<FaceDetection>();
        foreach (var box in boxes)
            if (kept.TrueForAll(k => IntersectionOverUnion(k, box) <= iou))
                kept.Add(box);
        return kept;
    }

    internal static float IntersectionOverUnion(FaceDetection a, FaceDetection b)
    {
        float w = MathF.Min(a.X + a.Width, b.X + b.Width) - MathF.Max(a.X, b.X);
        float h = MathF.Min(a.Y + a.Height, b.Y + b.Height) - MathF.Max(a.Y, b.Y);
        if (w <= 0 || h <= 0)
            return 0;
        float inter = w * h;
        return inter / (a.Area + b.Area - inter);
    }

    /// <summary>Releases the ONNX Runtime session and the resize buffer.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _resized.Dispose();
    }
}
