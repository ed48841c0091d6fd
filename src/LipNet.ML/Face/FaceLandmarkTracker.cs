using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Face;

/// <summary>Which face to follow when a frame shows several.</summary>
public enum FaceSelection
{
    /// <summary>The largest detection box (the speaker nearest the camera).</summary>
    Largest,
    /// <summary>The detection whose centre is nearest the frame's centre.</summary>
    Central,
    /// <summary>The leftmost face in the image.</summary>
    Leftmost,
    /// <summary>The rightmost face in the image.</summary>
    Rightmost,
}

/// <summary>Settings of <see cref="FaceLandmarkTracker"/>.</summary>
public sealed record FaceTrackerOptions
{
    /// <summary>Face detector settings (model file, score threshold, NMS).</summary>
    public UltraFaceOptions Detector { get; init; } = new();

    /// <summary>A Face Mesh ONNX file; null = the embedded one.</summary>
    public string? LandmarkModelPath { get; init; }

    /// <summary>ONNX Runtime threads per model call.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Face presence (0..1) under which the track counts as lost and the detector runs again.</summary>
    public float MinConfidence { get; init; } = 0.5f;

    /// <summary>Which face to track where several are found. Once a track exists, re-detections keep to the face nearest it.</summary>
    public FaceSelection Selection { get; init; } = FaceSelection.Largest;

    /// <summary>
    /// Also run the detector every N tracked frames and restart the track if the tracked face is not among its
    /// detections (a track that slid off the face); 0 = detect only when the track is lost.
    /// </summary>
    public int DetectEvery { get; init; } = 50;
}

/// <summary>
/// MediaPipe's face-mesh tracking scheme over a frame stream: detect a face (UltraFace) where there is no
/// track, run Face Mesh on a region from the detection, then again on the region its landmarks give; on
/// each later frame the region comes from the previous frame's landmarks, so the detector runs only when
/// the track is lost (face presence under <see cref="FaceTrackerOptions.MinConfidence"/>) or on the
/// periodic check. Stateful and not thread-safe: one tracker per stream.
/// </summary>
public sealed class FaceLandmarkTracker : IDisposable
{
    private readonly UltraFaceDetector _detector;
    private readonly FaceMeshLandmarker _mesh;
    private FaceLandmarks? _last;
    private int _sinceDetection;

    /// <summary>Opens the face detector (UltraFace RFB-320) and the landmark model (Face Mesh); no track yet.</summary>
    /// <param name="options">Models, threads, thresholds and face selection; null = defaults (the embedded models).</param>
    /// <exception cref="Runtime.ModelLoadException">A model file is missing or corrupt.</exception>
    /// <exception cref="MouthLocatorException">Options out of range.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's native library is not installed.</exception>
    public FaceLandmarkTracker(FaceTrackerOptions? options = null)
    {
        Options = options ?? new FaceTrackerOptions();
        if (Options.MinConfidence is < 0 or > 1 || Options.DetectEvery < 0 || Options.Threads < 1)
            throw new MouthLocatorException($"invalid face tracker options {Options}");
        _detector = new UltraFaceDetector(Options.Detector with { Threads = Options.Threads });
        try
        {
            _mesh = new FaceMeshLandmarker(Options.LandmarkModelPath, Options.Threads);
        }
        catch
        {
            _detector.Dispose();
            throw;
        }
    }

    /// <summary>The settings the tracker was made with.</summary>
    public FaceTrackerOptions Options { get; }

    /// <summary>Forgets the track (call between unrelated clips).</summary>
    public void Reset()
    {
        _last = null;
        _sinceDetection = 0;
    }

    /// <summary>Landmarks of the tracked face in the next frame of the stream, or null when no face is found.</summary>
    /// <param name="frame">The next frame, 8-bit 3-channel.</param>
    /// <param name="order">Channel order of <paramref name="frame"/>.</param>
    /// <returns>
    /// The face's 468 landmarks with a presence confidence of at least <see cref="FaceTrackerOptions.MinConfidence"/>;
    /// null when the detector finds no face or Face Mesh does not confirm one (the track is then lost).
    /// </returns>
    public FaceLandmarks? Next(Mat frame, PixelOrder order)
    {
        if (_last is { } last)
        {
            bool check = Options.DetectEvery > 0 && ++_sinceDetection >= Options.DetectEvery;
            if (!check || StillOnAFace(frame, order, last))
            {
                var tracked = _mesh.Estimate(frame, order, FaceRoi.FromLandmarks(last));
                if (tracked.Confidence >= Options.MinConfidence)
                    return _last = tracked;
            }
        }
        return _last = Detect(frame, order, _last);
    }

    private bool StillOnAFace(Mat frame, PixelOrder order, FaceLandmarks last)
    {
        _sinceDetection = 0;
        var (x, y, w, h) = last.Bounds();
        var box = new FaceDetection(x, y, w, h, 1);
        return _detector.Detect(frame, order).Any(d => UltraFaceDetector.IntersectionOverUnion(d, box) > 0.2f);
    }

    private FaceLandmarks? Detect(Mat frame, PixelOrder order, FaceLandmarks? previous)
    {
        _sinceDetection = 0;
        var faces = _detector.Detect(frame, order);
        if (faces.Count == 0)
            return null;
        FaceDetection face;
        if (previous is not null)
        {
            var (x, y, w, h) = previous.Bounds();
            face = faces.MinBy(f => MathF.Abs(f.CenterX - (x + w / 2)) + MathF.Abs(f.CenterY - (y + h / 2)));
        }
        else
        {
            face = Options.Selection switch
            {
                FaceSelection.Central => faces.MinBy(f => MathF.Abs(f.CenterX - frame.Width / 2f) + MathF.Abs(f.CenterY - frame.Height / 2f)),
                FaceSelection.Leftmost => faces.MinBy(f => f.CenterX),
                FaceSelection.Rightmost => faces.MaxBy(f => f.CenterX),
                _ => faces[0],
            };
        }
        // Two passes, as MediaPipe re-crops: the detector's box is loose (on close-ups it puts the lips low).
        var first = _mesh.Estimate(frame, order, FaceRoi.FromDetection(face));
        if (first.Confidence < Options.MinConfidence)
            return null;
        var refined = _mesh.Estimate(frame, order, FaceRoi.FromLandmarks(first));
        return refined.Confidence >= Options.MinConfidence ? refined : first;
    }

    /// <summary>Releases both models' ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        _detector.Dispose();
        _mesh.Dispose();
    }
}
