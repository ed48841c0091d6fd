using LipNet.ML.Face;

namespace LipNet.ML.Keypoints;

/// <summary>
/// A clip's lip keypoints, normalised: per video frame the 40 lip points of MediaPipe Face Mesh (<see cref="FaceLandmarks.Lips"/>
/// order: 20 outer, then 20 inner) as (x, y) pairs — <see cref="LipKeypoints.Values"/> floats per frame.
/// </summary>
/// <param name="Points">[T, 80] row-major: x0, y0, x1, y1, … of each frame, in mouth widths (see <see cref="LipKeypoints.Normalize"/>).</param>
/// <param name="Frames">T, the number of video frames.</param>
/// <param name="Poses">Per frame the mouth pose the points were normalised by (source pixels, radians); empty for predictions.</param>
/// <param name="Scale">The clip's mouth width in source pixels the points were divided by; 0 for predictions.</param>
public sealed record KeypointSequence(float[] Points, int Frames, IReadOnlyList<MouthPose> Poses, float Scale)
{
    /// <summary>Point <paramref name="index"/> (0..39) of frame <paramref name="frame"/>, normalised.</summary>
    /// <param name="frame">0-based frame.</param>
    /// <param name="index">Lip point 0..39.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frame"/> outside 0..Frames-1 or <paramref name="index"/> outside 0..39.</exception>
    public (float X, float Y) Point(int frame, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, Frames);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LipKeypoints.Values / 2);
        return (Points[frame * LipKeypoints.Values + 2 * index], Points[frame * LipKeypoints.Values + 2 * index + 1]);
    }
}

/// <summary>
/// The WAV2KP system's targets: lip landmarks normalised per frame so that what remains is the mouth's shape — what speech
/// moves — and not where the head is. Per frame the 40 lip points are centred on the mouth (the mean of the lip points,
/// <see cref="FaceLandmarks.Mouth"/>), turned by minus the corner-to-corner angle (head roll), and divided by the clip's
/// median mouth width (corner to corner, points 61 and 291). One width per clip rather than per frame: dividing each frame
/// by its own width would pin the corners at ±0.5 and hide the spreading and rounding of the lips that speech makes.
/// Units: mouth widths; x right along the lips, y down.
/// </summary>
public static class LipKeypoints
{
    /// <summary>Lip points per frame: 40 (20 outer, 20 inner; <see cref="FaceLandmarks.Lips"/>).</summary>
    public const int Count = 40;

    /// <summary>Floats per frame: 40 points x (x, y) = 80.</summary>
    public const int Values = 2 * Count;

    /// <summary>Normalises a clip's landmarks (see <see cref="LipKeypoints"/>).</summary>
    /// <param name="frames">Landmarks of each video frame (e.g. <c>LandmarkMouthLocator.Landmarks</c>), at least one.</param>
    /// <returns>The normalised points with the poses and the scale used.</returns>
    /// <exception cref="ArgumentException"><paramref name="frames"/> is empty.</exception>
    /// <exception cref="MouthLocatorException">The clip's median mouth width is zero (no usable mouth).</exception>
    public static KeypointSequence Normalize(IReadOnlyList<FaceLandmarks> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
            throw new ArgumentException("no frames", nameof(frames));
        var poses = frames.Select(f => f.Mouth()).ToArray();
        var widths = poses.Select(p => p.Width).Order().ToArray();
        float scale = widths[widths.Length / 2];
        if (!(scale > 0))
            throw new MouthLocatorException("the mouth width is zero in most frames: no usable mouth");
        var points = new float[frames.Count * Values];
        for (int t = 0; t < frames.Count; t++)
        {
            var lips = frames[t].LipPoints();
            var pose = poses[t];
            float cos = MathF.Cos(-pose.Angle), sin = MathF.Sin(-pose.Angle);
            for (int i = 0; i < Count; i++)
            {
                float dx = lips[2 * i] - pose.CenterX, dy = lips[2 * i + 1] - pose.CenterY;
                points[t * Values + 2 * i] = (cos * dx - sin * dy) / scale;
                points[t * Values + 2 * i + 1] = (sin * dx + cos * dy) / scale;
            }
        }
        return new KeypointSequence(points, frames.Count, poses, scale);
    }

    /// <summary>
    /// Normalised points back to source pixels with a frame's pose and a scale: the inverse of <see cref="Normalize"/>; used to
    /// draw predicted points over the video they are for.
    /// </summary>
    /// <param name="points">One frame's 80 normalised values.</param>
    /// <param name="pose">The mouth pose to place them at (source pixels, radians).</param>
    /// <param name="scale">Mouth width in source pixels.</param>
    /// <returns>80 values: x, y in source pixels.</returns>
    /// <exception cref="ArgumentException"><paramref name="points"/> does not hold 80 values.</exception>
    public static float[] ToPixels(ReadOnlySpan<float> points, MouthPose pose, float scale)
    {
        if (points.Length != Values)
            throw new ArgumentException($"a frame has {Values} values, got {points.Length}", nameof(points));
        var pixels = new float[Values];
        float cos = MathF.Cos(pose.Angle), sin = MathF.Sin(pose.Angle);
        for (int i = 0; i < Count; i++)
        {
            float x = points[2 * i] * scale, y = points[2 * i + 1] * scale;
            pixels[2 * i] = pose.CenterX + cos * x - sin * y;
            pixels[2 * i + 1] = pose.CenterY + sin * x + cos * y;
        }
        return pixels;
    }

    /// <summary>
    /// Root-mean-square error between two clips' normalised points over every frame and value, in mouth widths (the WAV2KP
    /// papers' normalised RMSE): √(Σ (a − b)² / (T · 80)).
    /// </summary>
    /// <param name="predicted">[T, 80] predicted values.</param>
    /// <param name="truth">[T, 80] true values, same length.</param>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of 80.</exception>
    public static double Rmse(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        var (sum, count) = SquaredError(predicted, truth);
        return count == 0 ? 0 : Math.Sqrt(sum / count);
    }

    /// <summary>Sum of squared differences and the number of values, to pool an RMSE over clips.</summary>
    internal static (double Sum, long Count) SquaredError(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        if (predicted.Length != truth.Length || predicted.Length % Values != 0)
            throw new ArgumentException($"{predicted.Length} predicted and {truth.Length} true values are not equal multiples of {Values}");
        double sum = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            double d = predicted[i] - truth[i];
            sum += d * d;
        }
        return (sum, predicted.Length);
    }
}
