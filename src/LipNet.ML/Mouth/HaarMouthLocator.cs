using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>Settings of <see cref="HaarMouthLocator"/>.</summary>
public sealed record HaarMouthLocatorOptions
{
    /// <summary>Where Debian's/Ubuntu's <c>opencv-data</c> package puts the cascades.</summary>
    public const string DefaultCascadeDirectory = "/usr/share/opencv4/haarcascades";

    /// <summary>Frontal-face cascade file. Default: <c>haarcascade_frontalface_default.xml</c> in <see cref="DefaultCascadeDirectory"/>.</summary>
    public string FaceCascadePath { get; init; } = Path.Combine(DefaultCascadeDirectory, "haarcascade_frontalface_default.xml");

    /// <summary>
    /// Mouth cascade used when no face is found in a clip (close-ups of the lower face, as in Lombard GRID's
    /// front camera). Default: <c>haarcascade_smile.xml</c>; null turns that second pass off.
    /// </summary>
    public string? MouthCascadePath { get; init; } = Path.Combine(DefaultCascadeDirectory, "haarcascade_smile.xml");

    /// <summary>Mouth crop width as a multiple of the mouth-cascade box width.</summary>
    public float MouthCascadeWidth { get; init; } = 1.1f;

    /// <summary>Mouth centre relative to the mouth-cascade box centre, as a fraction of its height (the cascade box sits low).</summary>
    public float MouthCascadeCenterY { get; init; } = -0.4f;

    /// <summary>Run the face detector on every N-th frame and interpolate between (detection is the costly part).</summary>
    public int DetectEvery { get; init; } = 10;

    /// <summary>
    /// After a face is found, search later samples only near it (<see cref="TrackingMargin"/>) and at 0.8-1.25x
    /// its size, with a full-frame search where that finds nothing: a third of the cost of full-frame searches.
    /// </summary>
    public bool TrackFace { get; init; } = true;

    /// <summary>Margin around the last face searched when tracking, as a fraction of its width on each side.</summary>
    public float TrackingMargin { get; init; } = 0.25f;

    /// <summary>Frames are downscaled to at most this width before detection.</summary>
    public int DetectionWidth { get; init; } = 180;

    /// <summary>Scale step of the detector's image pyramid (larger: faster, coarser).</summary>
    public double ScaleFactor { get; init; } = 1.2;

    /// <summary>Smallest face searched for, as a fraction of the frame's smaller side.</summary>
    public float MinFaceFraction { get; init; } = 0.2f;

    /// <summary>Mouth centre below the face box's top, as a fraction of the face box height.</summary>
    public float MouthCenterY { get; init; } = 0.80f;

    /// <summary>Mouth crop width as a fraction of the face box width.</summary>
    public float MouthWidth { get; init; } = 0.60f;

    /// <summary>Median window (in detections) that rejects single-detection jumps before interpolation.</summary>
    public int SmoothingWindow { get; init; } = 3;

    /// <summary>
    /// Where to look when neither a face nor a mouth is found in any sampled frame; null makes that an error
    /// (<see cref="MouthLocatorException"/>) instead.
    /// </summary>
    public FixedRegionMouthLocator? Fallback { get; init; }
}

/// <summary>
/// Locates the mouth from OpenCV's Haar frontal-face detector: sparse detection on downscaled frames,
/// tracked near the last face found, the mouth box derived from the face box (or, when a clip shows no
/// whole face, from the smile cascade's mouth box), a median over detections to reject outliers and linear
/// interpolation in between. A frame without a face holds the neighbouring good boxes.
/// </summary>
/// <remarks>Thread-safe: every thread gets its own cascade (OpenCV's classifier is not re-entrant).</remarks>
public sealed class HaarMouthLocator : IMouthLocator, IDisposable
{
    // Neighbouring detections a box needs: faces are reliable, the smile cascade fires on much else.
    private const int FaceNeighbours = 4, MouthNeighbours = 10;

    private readonly ThreadLocal<CascadeClassifier> _face;
    private readonly ThreadLocal<CascadeClassifier>? _mouth;

    /// <summary>Loads the cascades named in <paramref name="options"/> (once here, then once per thread that locates).</summary>
    /// <param name="options">Cascade files and detection settings; null = defaults (the cascades of Debian's <c>opencv-data</c>).</param>
    /// <exception cref="MouthLocatorException">
    /// An option out of range (e.g. <see cref="HaarMouthLocatorOptions.DetectEvery"/> &lt; 1, a scale factor &lt;= 1), or a
    /// cascade file that is missing or not a valid OpenCV cascade.
    /// </exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public HaarMouthLocator(HaarMouthLocatorOptions? options = null)
    {
        Options = options ?? new HaarMouthLocatorOptions();
        if (Options.DetectEvery < 1 || Options.DetectionWidth < 32 || Options.MinFaceFraction is <= 0 or >= 1 || Options.MouthWidth <= 0 || Options.SmoothingWindow < 1 || Options.ScaleFactor <= 1.0 || Options.TrackingMargin < 0)
            throw new MouthLocatorException($"invalid Haar locator options {Options}");
        string path = Options.FaceCascadePath;
        NativeLibraryException.EnsureOpenCv(path);
        if (!File.Exists(path))
            throw new MouthLocatorException(
                "face cascade file not found (install the 'opencv-data' package, or set FaceCascadePath)", path);
        // Load once here so a corrupt file fails now, on the caller's thread, not inside a worker.
        LoadCascade(path).Dispose();
        _face = new ThreadLocal<CascadeClassifier>(() => LoadCascade(path), trackAllValues: true);
        if (Options.MouthCascadePath is { } mouthPath)
        {
            if (!File.Exists(mouthPath))
                throw new MouthLocatorException(
                    "mouth cascade file not found (install the 'opencv-data' package, set MouthCascadePath, or set it to null)", mouthPath);
            LoadCascade(mouthPath).Dispose();
            _mouth = new ThreadLocal<CascadeClassifier>(() => LoadCascade(mouthPath), trackAllValues: true);
        }
    }

    /// <summary>The settings the locator was made with.</summary>
    public HaarMouthLocatorOptions Options { get; }

    private static CascadeClassifier LoadCascade(string path)
    {
        CascadeClassifier cascade;
        try
        {
            cascade = new CascadeClassifier(path);
        }
        catch (Exception ex) when (ex is OpenCVException or OpenCvSharpException)
        {
            throw new MouthLocatorException($"cascade file could not be loaded ({ex.Message})", path, ex);
        }
        if (cascade.Empty())
        {
            cascade.Dispose();
            throw new MouthLocatorException("cascade file is not a valid OpenCV cascade", path);
        }
        return cascade;
    }

    /// <summary>
    /// One axis-aligned box per frame, source pixels: faces detected on every <see cref="HaarMouthLocatorOptions.DetectEvery"/>-th
    /// frame (and the last), the mouth placed at <see cref="HaarMouthLocatorOptions.MouthCenterY"/> of each face box and
    /// <see cref="HaarMouthLocatorOptions.MouthWidth"/> of its width, median-filtered and interpolated linearly between samples.
    /// When no sample shows a face, the smile cascade's boxes are used instead; when neither finds anything, the
    /// <see cref="HaarMouthLocatorOptions.Fallback"/> region.
    /// </summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <param name="aspect">Width / height of the crop the boxes are for (LipNet: 2); the box height is its width / aspect.</param>
    /// <returns><see cref="VideoFrames.FrameCount"/> boxes (none for an empty clip).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">
    /// <paramref name="aspect"/> is not positive, or no face or mouth is found in any sampled frame and there is no fallback.
    /// </exception>
    public MouthBox[] Locate(VideoFrames frames, float aspect)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (aspect <= 0)
            throw new MouthLocatorException($"crop aspect must be positive, got {aspect}", frames.Source);
        int count = frames.FrameCount;
        var boxes = new MouthBox[count];
        if (count == 0)
            return boxes;

        var samples = new List<int>();
        for (int t = 0; t < count; t += Options.DetectEvery)
            samples.Add(t);
        if (samples[^1] != count - 1)
            samples.Add(count - 1);

        var mouths = Detect(frames, samples, mouthPass: false);
        if (mouths.All(m => m is null) && _mouth is not null)
            mouths = Detect(frames, samples, mouthPass: true);
        if (mouths.All(m => m is null))
        {
            if (Options.Fallback is { } fallback)
                return fallback.Locate(frames, aspect);
            throw new MouthLocatorException($"no face or mouth found in any of {samples.Count} sampled frames", frames.Source);
        }

        // Hold the nearest good detection where a sample has none (forward, then backward for leading gaps).
        Estimate? last = null;
        for (int i = 0; i < mouths.Length; i++)
            mouths[i] = last = mouths[i] ?? last;
        Estimate? next = null;
        for (int i = mouths.Length - 1; i >= 0; i--)
            mouths[i] = next = mouths[i] ?? next;

        var cx = MedianFilter(mouths.Select(m => m!.Value.CenterX).ToArray(), Options.SmoothingWindow);
        var cy = MedianFilter(mouths.Select(m => m!.Value.CenterY).ToArray(), Options.SmoothingWindow);
        var fw = MedianFilter(mouths.Select(m => m!.Value.Width).ToArray(), Options.SmoothingWindow);

        int s = 0;
        for (int t = 0; t < count; t++)
        {
            while (s < samples.Count - 2 && samples[s + 1] <= t)
                s++;
            int t0 = samples[s], t1 = samples[Math.Min(s + 1, samples.Count - 1)];
            float a = t1 == t0 ? 0 : (float)(t - t0) / (t1 - t0);
            int s1 = Math.Min(s + 1, samples.Count - 1);
            float x = Lerp(cx[s], cx[s1], a), y = Lerp(cy[s], cy[s1], a), w = Lerp(fw[s], fw[s1], a);
            boxes[t] = MouthBox.FromCenter(x, y, w, w / aspect);
        }
        return boxes;
    }

    /// <summary>A mouth centre and crop width in source pixels, from one detection.</summary>
    private readonly record struct Estimate(float CenterX, float CenterY, float Width);

    /// <summary>
    /// Detects on each sampled frame: faces (mouth derived from the face box) or, on the second pass,
    /// mouths directly. Returns one estimate per sample, null where nothing was found.
    /// </summary>
    private unsafe Estimate?[] Detect(VideoFrames frames, List<int> samples, bool mouthPass)
    {
        var cascade = mouthPass ? _mouth!.Value! : _face.Value!;
        double scale = Math.Min(1.0, (double)Options.DetectionWidth / frames.Width);
        var small = new Size(Math.Max(1, (int)Math.Round(frames.Width * scale)), Math.Max(1, (int)Math.Round(frames.Height * scale)));
        int minSide = Math.Min(small.Width, small.Height);
        // A mouth seen without the rest of the face is a large object: 15-50% of the frame width.
        var minSize = mouthPass
            ? new Size(Math.Max(12, (int)(small.Width * 0.15)), Math.Max(6, (int)(small.Width * 0.075)))
            : new Size(Math.Max(12, (int)(minSide * Options.MinFaceFraction)), Math.Max(12, (int)(minSide * Options.MinFaceFraction)));
        var maxSize = mouthPass ? new Size((int)(small.Width * 0.5), (int)(small.Width * 0.5)) : new Size();
        var candidates = new Estimate[samples.Count][];
        var code = frames.Order == PixelOrder.Rgb ? ColorConversionCodes.RGB2GRAY : ColorConversionCodes.BGR2GRAY;
        using var resized = new Mat();
        using var gray = new Mat();
        Rect? tracked = null;
        fixed (byte* pixels = frames.Pixels)
        {
            for (int i = 0; i < samples.Count; i++)
            {
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(pixels + (long)samples[i] * frames.FrameByteCount));
                Cv2.Resize(frame, resized, small, 0, 0, InterpolationFlags.Area);
                Cv2.CvtColor(resized, gray, code);
                Rect[] found = tracked is { } last ? DetectNear(cascade, gray, last) : [];
                if (found.Length == 0)
                {
                    Cv2.EqualizeHist(gray, gray);
                    found = cascade.DetectMultiScale(gray, Options.ScaleFactor, mouthPass ? MouthNeighbours : FaceNeighbours, HaarDetectionTypes.ScaleImage, minSize, maxSize);
                }
                if (!mouthPass && Options.TrackFace && found.Length > 0)
                    tracked = found.MaxBy(r => r.Width);
                if (mouthPass)
                    found = found.Where(r => r.Y + r.Height / 2 > small.Height / 4).ToArray(); // not the eyes or brows
                candidates[i] = found.Select(r => ToEstimate(r, scale, mouthPass)).ToArray();
            }
        }
        return PickConsistent(candidates);
    }

    /// <summary>Faces within <see cref="HaarMouthLocatorOptions.TrackingMargin"/> of <paramref name="last"/> and of a similar size, in <paramref name="gray"/>'s coordinates.</summary>
    private Rect[] DetectNear(CascadeClassifier cascade, Mat gray, Rect last)
    {
        int margin = (int)MathF.Ceiling(last.Width * Options.TrackingMargin);
        var window = new Rect(last.X - margin, last.Y - margin, last.Width + 2 * margin, last.Height + 2 * margin) & new Rect(0, 0, gray.Width, gray.Height);
        if (window.Width < last.Width || window.Height < last.Height)
            return [];
        using var view = new Mat(gray, window);
        using var equalized = new Mat();
        Cv2.EqualizeHist(view, equalized);
        var minSize = new Size((int)(last.Width * 0.8), (int)(last.Height * 0.8));
        var maxSize = new Size((int)Math.Ceiling(last.Width * 1.25), (int)Math.Ceiling(last.Height * 1.25));
        var found = cascade.DetectMultiScale(equalized, Options.ScaleFactor, FaceNeighbours, HaarDetectionTypes.ScaleImage, minSize, maxSize);
        for (int i = 0; i < found.Length; i++)
            found[i] = new Rect(found[i].X + window.X, found[i].Y + window.Y, found[i].Width, found[i].Height);
        return found;
    }

    /// <summary>
    /// One estimate per sample: the candidate nearest the clip-wide median of each sample's largest
    /// detection, so a false positive (a poster, a second person, a spurious giant box) cannot win a
    /// sample just by being there or being large.
    /// </summary>
    private static Estimate?[] PickConsistent(Estimate[][] candidates)
    {
        var largest = candidates.Where(c => c.Length > 0).Select(c => c.MaxBy(e => e.Width)).ToList();
        var result = new Estimate?[candidates.Length];
        if (largest.Count == 0)
            return result;
        float Median(Func<Estimate, float> f)
        {
            var v = largest.Select(f).Order().ToList();
            return v[v.Count / 2];
        }
        var reference = new Estimate(Median(e => e.CenterX), Median(e => e.CenterY), Median(e => e.Width));
        for (int i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].Length == 0)
                continue;
            var best = candidates[i].MinBy(e => Difference(e, reference));
            // A lone candidate far from every other sample's face is a false positive: leave the gap.
            if (Difference(best, reference) < 0.5f * reference.Width)
                result[i] = best;
        }
        return result;
    }

    private static float Difference(Estimate a, Estimate b) =>
        MathF.Abs(a.CenterX - b.CenterX) + MathF.Abs(a.CenterY - b.CenterY) + MathF.Abs(a.Width - b.Width);

    private Estimate ToEstimate(Rect r, double scale, bool mouthPass)
    {
        float x = (float)(r.X / scale), y = (float)(r.Y / scale), w = (float)(r.Width / scale), h = (float)(r.Height / scale);
        return mouthPass
            ? new Estimate(x + w / 2, y + h / 2 + h * Options.MouthCascadeCenterY, w * Options.MouthCascadeWidth)
            : new Estimate(x + w / 2, y + h * Options.MouthCenterY, w * Options.MouthWidth);
    }

    private static float Lerp(float a, float b, float t) => a + (b - a) * t;

    internal static float[] MedianFilter(float[] values, int window)
    {
        if (window <= 1 || values.Length < 3)
            return values;
        window = Math.Min(window, values.Length);
        int half = window / 2;
        var output = new float[values.Length];
        var buffer = new float[window];
        for (int i = 0; i < values.Length; i++)
        {
            // Full windows at the edges too: a 2-value "median" would let an outlier through.
            int lo = Math.Clamp(i - half, 0, values.Length - window);
            int n = window;
            values.AsSpan(lo, n).CopyTo(buffer);
            Array.Sort(buffer, 0, n);
            output[i] = buffer[n / 2];
        }
        return output;
    }

    /// <summary>Releases the cascades of every thread that used the locator.</summary>
    public void Dispose()
    {
        foreach (var c in _face.Values)
            c.Dispose();
        _face.Dispose();
        if (_mouth is not null)
        {
            foreach (var c in _mouth.Values)
                c.Dispose();
            _mouth.Dispose();
        }
    }
}
