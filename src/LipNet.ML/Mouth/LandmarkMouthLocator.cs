using LipNet.ML.Face;
using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>How a landmark locator turns the lip landmarks into crop boxes (the geometry of a <see cref="CropProfile"/>).</summary>
public enum MouthGeometry
{
    /// <summary>
    /// rizkiarm/LipNet's <c>get_frames_mouth</c> (lipnet/lipreading/videos.py), quirks included: from the 20 mouth
    /// points of the first frame, ratio = crop width / (max x · 1.19 − min x · 0.81) (absolute x coordinates);
    /// every frame is scaled by that ratio and a crop-size window is cut at the mean of that frame's 20 mouth points
    /// times the ratio, truncated to whole pixels; no rotation.
    /// </summary>
    MouthCentred,

    /// <summary>
    /// auto_avsr / VSR's mean-face alignment: a similarity transform of stable landmarks (nose, eye corners, mouth
    /// corners) onto a reference face in a 256x256 frame; a 96x96 patch centred on the mouth, its centre
    /// <c>crop width</c> x <c>crop height</c> (88x88) kept. Rotates with the face.
    /// </summary>
    MeanFace,
}

/// <summary>Settings of <see cref="LandmarkMouthLocator"/>.</summary>
public sealed record LandmarkMouthLocatorOptions
{
    /// <summary>Face detector, landmark model, tracking and face selection.</summary>
    public FaceTrackerOptions Tracker { get; init; } = new();

    /// <summary>How landmarks become crop boxes.</summary>
    public MouthGeometry Geometry { get; init; } = MouthGeometry.MouthCentred;

    /// <summary>
    /// Run Face Mesh on every N-th frame and interpolate the landmarks between (1 = every frame). Default 2: measured on
    /// the 60 held-out GRID s1 clips with the stage-R1 model, the same accuracy as every frame (CER 15.5% vs 16.3%, within
    /// noise) for about 60% of the locator's time; use 1 where every frame's own landmarks matter (lip shapes, WAV2KP).
    /// </summary>
    public int LandmarkEvery { get; init; } = 2;

    /// <summary>
    /// Temporal smoothing of the landmarks: a centred binomial window of this radius in frames (1: weights 1-2-1;
    /// 0: off). Face Mesh jitters by about a pixel from frame to frame; MediaPipe smooths its landmarks too.
    /// </summary>
    public int SmoothingRadius { get; init; } = 1;
}

/// <summary>
/// Locates the mouth from face landmarks (MediaPipe's graph as separate stages: UltraFace detection →
/// Face Mesh landmarks with tracking → temporal smoothing → crop geometry). Frames without a face get
/// landmarks interpolated from their neighbours and are reported in <see cref="MouthTrack.MissingFrames"/>;
/// a clip without any face is a <see cref="MouthLocatorException"/> naming the file.
/// </summary>
/// <remarks>Thread-safe: each thread gets its own tracker (ONNX sessions and buffers).</remarks>
public sealed class LandmarkMouthLocator : IMouthLocator, IDisposable
{
    private readonly ThreadLocal<FaceLandmarkTracker> _tracker;

    /// <exception cref="Runtime.ModelLoadException">A front-end model file is missing or corrupt.</exception>
    /// <exception cref="MouthLocatorException">Options out of range.</exception>
    public LandmarkMouthLocator(LandmarkMouthLocatorOptions? options = null)
    {
        Options = options ?? new LandmarkMouthLocatorOptions();
        if (Options.LandmarkEvery < 1 || Options.SmoothingRadius is < 0 or > 12)
            throw new MouthLocatorException($"invalid landmark locator options {Options}");
        _tracker = new ThreadLocal<FaceLandmarkTracker>(() => new FaceLandmarkTracker(Options.Tracker), trackAllValues: true);
        // Load once here so a missing or corrupt model fails now, on the caller's thread.
        try
        {
            _ = _tracker.Value;
        }
        catch
        {
            _tracker.Dispose();
            throw;
        }
    }

    public LandmarkMouthLocatorOptions Options { get; }

    /// <summary>Boxes for crops of aspect <paramref name="aspect"/> at 100 pixels wide (the profile's truncations assume a crop size).</summary>
    public MouthBox[] Locate(VideoFrames frames, float aspect) =>
        LocateTrack(frames, 100, Math.Max(1, (int)MathF.Round(100 / aspect))).Boxes;

    /// <inheritdoc/>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public MouthTrack LocateTrack(VideoFrames frames, int cropWidth, int cropHeight)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var landmarks = Landmarks(frames, out var missing);
        var boxes = Options.Geometry switch
        {
            MouthGeometry.MeanFace => MeanFaceBoxes(landmarks, cropWidth, cropHeight),
            _ => MouthCentredBoxes(landmarks, frames.Width, frames.Height, cropWidth, cropHeight),
        };
        return new MouthTrack(boxes, landmarks, missing);
    }

    /// <summary>
    /// Face landmarks for every frame (tracked, interpolated where missing, smoothed), and the frames without a face.
    /// </summary>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public unsafe FaceLandmarks[] Landmarks(VideoFrames frames, out int[] missingFrames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        int count = frames.FrameCount;
        var found = new FaceLandmarks?[count];
        var tracker = _tracker.Value!;
        tracker.Reset();
        fixed (byte* pixels = frames.Pixels)
        {
            for (int t = 0; t < count; t++)
            {
                if (t % Options.LandmarkEvery != 0 && t != count - 1)
                    continue;
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(pixels + (long)t * frames.FrameByteCount));
                found[t] = tracker.Next(frame, frames.Order);
            }
        }
        var missing = new List<int>();
        int sampled = 0;
        for (int t = 0; t < count; t++)
        {
            if (t % Options.LandmarkEvery != 0 && t != count - 1)
                continue;
            sampled++;
            if (found[t] is null)
                missing.Add(t);
        }
        if (missing.Count == sampled)
            throw new MouthLocatorException($"no face found in any of {count} frames", frames.Source);
        missingFrames = [.. missing];
        return Smooth(Interpolate(found), Options.SmoothingRadius);
    }

    /// <summary>Fills null frames linearly between the nearest found ones (held at the ends).</summary>
    internal static FaceLandmarks[] Interpolate(FaceLandmarks?[] found)
    {
        var result = new FaceLandmarks[found.Length];
        int previous = -1;
        for (int t = 0; t <= found.Length; t++)
        {
            if (t < found.Length && found[t] is null)
                continue;
            for (int g = previous + 1; g < t; g++)
            {
                if (previous < 0)
                    result[g] = Mark(found[t]!);
                else if (t == found.Length)
                    result[g] = Mark(found[previous]!);
                else
                    result[g] = FaceLandmarks.Lerp(found[previous]!, found[t]!, (float)(g - previous) / (t - previous));
            }
            if (t < found.Length)
                result[t] = found[t]!;
            previous = t;
        }
        return result;

        static FaceLandmarks Mark(FaceLandmarks l) => new(l.Points, l.Confidence, interpolated: true);
    }

    /// <summary>Centred binomial smoothing of every coordinate over ±<paramref name="radius"/> frames (shorter at the ends).</summary>
    internal static FaceLandmarks[] Smooth(FaceLandmarks[] landmarks, int radius)
    {
        if (radius <= 0 || landmarks.Length < 2)
            return landmarks;
        var weights = new float[2 * radius + 1];
        for (int k = 0; k <= 2 * radius; k++)
            weights[k] = (float)Binomial(2 * radius, k);
        var result = new FaceLandmarks[landmarks.Length];
        for (int t = 0; t < landmarks.Length; t++)
        {
            var points = new float[FaceLandmarks.Count * 3];
            float total = 0;
            for (int k = -radius; k <= radius; k++)
            {
                int s = t + k;
                if (s < 0 || s >= landmarks.Length)
                    continue;
                float w = weights[k + radius];
                total += w;
                var src = landmarks[s].Points;
                for (int i = 0; i < points.Length; i++)
                    points[i] += w * src[i];
            }
            for (int i = 0; i < points.Length; i++)
                points[i] /= total;
            result[t] = new FaceLandmarks(points, landmarks[t].Confidence, landmarks[t].Interpolated);
        }
        return result;
    }

    private static double Binomial(int n, int k)
    {
        double r = 1;
        for (int i = 1; i <= k; i++)
            r = r * (n - k + i) / i;
        return r;
    }

    /// <summary>
    /// <see cref="MouthGeometry.MouthCentred"/> boxes, expressed in <see cref="MouthCropper"/>'s convention (crop pixel u
    /// samples source x = box.X + u · box.Width / crop width) so that cropping equals resizing the frame to
    /// (int(W · ratio), int(H · ratio)) bilinearly and cutting the window at whole pixels, as the reference does.
    /// </summary>
    internal static MouthBox[] MouthCentredBoxes(IReadOnlyList<FaceLandmarks> landmarks, int frameWidth, int frameHeight, int cropWidth, int cropHeight)
    {
        const double horizontalPad = 0.19;
        var first = landmarks[0];
        double min = double.MaxValue, max = double.MinValue;
        foreach (int i in FaceLandmarks.DlibMouth)
        {
            min = Math.Min(min, first.X(i));
            max = Math.Max(max, first.X(i));
        }
        double span = max * (1 + horizontalPad) - min * (1 - horizontalPad);
        if (!(span > 0))
            throw new MouthLocatorException($"mouth-centred profile: degenerate mouth width in the first frame (x {min:0.#}..{max:0.#})");
        double ratio = cropWidth / span;
        // The frame is resized to whole pixels, so each axis really scales by its own slightly smaller factor.
        double sx = (int)(frameWidth * ratio) / (double)frameWidth, sy = (int)(frameHeight * ratio) / (double)frameHeight;
        if (!(sx > 0 && sy > 0))
            throw new MouthLocatorException($"mouth-centred profile: scale {ratio:0.####} shrinks the {frameWidth}x{frameHeight} frame to nothing");
        var boxes = new MouthBox[landmarks.Count];
        for (int t = 0; t < boxes.Length; t++)
        {
            double cx = 0, cy = 0;
            foreach (int i in FaceLandmarks.DlibMouth)
            {
                cx += landmarks[t].X(i);
                cy += landmarks[t].Y(i);
            }
            cx /= FaceLandmarks.DlibMouth.Length;
            cy /= FaceLandmarks.DlibMouth.Length;
            // Python's int() truncates toward zero.
            int left = (int)Math.Truncate(cx * ratio - cropWidth / 2.0), top = (int)Math.Truncate(cy * ratio - cropHeight / 2.0);
            // cv2.resize / PIL sample resized pixel j at source (j + 0.5) / s − 0.5.
            boxes[t] = new MouthBox((float)((left + 0.5) / sx - 0.5), (float)((top + 0.5) / sy - 0.5), (float)(cropWidth / sx), (float)(cropHeight / sy));
        }
        return boxes;
    }

    /// <summary><see cref="MouthGeometry.MeanFace"/> boxes: see <see cref="MeanFace"/>.</summary>
    internal static MouthBox[] MeanFaceBoxes(IReadOnlyList<FaceLandmarks> landmarks, int cropWidth, int cropHeight)
    {
        var boxes = new MouthBox[landmarks.Count];
        for (int t = 0; t < boxes.Length; t++)
            boxes[t] = MeanFace.Box(landmarks[t], cropWidth, cropHeight);
        return boxes;
    }

    public void Dispose()
    {
        foreach (var t in _tracker.Values)
            t.Dispose();
        _tracker.Dispose();
    }
}
