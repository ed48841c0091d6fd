namespace LipNet.ML.Face;

/// <summary>
/// Mouth pose of one frame from the lip landmarks: centre (mean of the 40 lip points), width (distance of the
/// mouth corners, MediaPipe points 61 and 291), angle of the corner-to-corner line (radians, image
/// coordinates: positive turns clockwise on screen). Source pixels.
/// </summary>
public readonly record struct MouthPose(float CenterX, float CenterY, float Width, float Angle);

/// <summary>
/// MediaPipe Face Mesh's 468 landmarks of one frame, in source pixels (x, y with the centre of the top-left
/// pixel at (0, 0), as OpenCV and dlib; z relative depth in the same scale, smaller = nearer the camera).
/// </summary>
public sealed class FaceLandmarks
{
    /// <summary>Landmarks per face in MediaPipe's face-mesh topology.</summary>
    public const int Count = 468;

    /// <summary>Outer lip ring, 20 points, from the left mouth corner (61) along the lower lip and back along the upper (MediaPipe topology).</summary>
    public static readonly int[] OuterLip = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185];

    /// <summary>Inner lip ring, 20 points, in the same order (78 … 308 … 191).</summary>
    public static readonly int[] InnerLip = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191];

    /// <summary>The 40 lip points: <see cref="OuterLip"/> then <see cref="InnerLip"/>.</summary>
    public static readonly int[] Lips = [.. OuterLip, .. InnerLip];

    /// <summary>
    /// Face Mesh points standing for dlib's 68-point mouth (48-67: outer 48-59, inner 60-67), in dlib's order,
    /// for the crop profiles that reproduce dlib-based preprocessing.
    /// </summary>
    public static readonly int[] DlibMouth = [61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91, 78, 81, 13, 311, 308, 402, 14, 178];

    /// <summary>Left and right mouth corners (image left first).</summary>
    public const int LeftMouthCorner = 61, RightMouthCorner = 291;

    /// <summary>Outer corners of the eyes (image left first); their line gives the roll of the face.</summary>
    public const int LeftEyeOuter = 33, RightEyeOuter = 263;

    /// <param name="points">468 x 3 floats: x, y, z per landmark (kept, not copied).</param>
    /// <param name="confidence">Face presence probability in [0, 1] (sigmoid of Face Mesh's score).</param>
    /// <param name="interpolated">True where the points were filled in from neighbouring frames.</param>
    /// <exception cref="TensorShapeException"><paramref name="points"/> does not hold 468 x 3 values.</exception>
    public FaceLandmarks(float[] points, float confidence, bool interpolated = false)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Length != Count * 3)
            throw new TensorShapeException($"face landmarks need {Count} x 3 values, got {points.Length}");
        Points = points;
        Confidence = confidence;
        Interpolated = interpolated;
    }

    /// <summary>All landmarks, 468 x 3 (x, y, z), source pixels.</summary>
    public float[] Points { get; }

    /// <summary>Face presence probability in [0, 1]; for interpolated frames, the lower of the two neighbours'.</summary>
    public float Confidence { get; }

    /// <summary>
    /// True where the points were not measured in this frame but interpolated from its neighbours (no face was
    /// found, or the frame was skipped by <see cref="Mouth.LandmarkMouthLocatorOptions.LandmarkEvery"/>).
    /// </summary>
    public bool Interpolated { get; }

    /// <summary>X of landmark <paramref name="index"/> (MediaPipe Face Mesh numbering, 0..467), source pixels.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside 0..467.</exception>
    public float X(int index) => Points[3 * index];

    /// <summary>Y of landmark <paramref name="index"/> (MediaPipe Face Mesh numbering, 0..467), source pixels, downwards.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside 0..467.</exception>
    public float Y(int index) => Points[3 * index + 1];

    /// <summary>The 40 lip points (<see cref="Lips"/> order) as 40 x 2 floats (x, y).</summary>
    public float[] LipPoints()
    {
        var lips = new float[Lips.Length * 2];
        for (int i = 0; i < Lips.Length; i++)
        {
            lips[2 * i] = X(Lips[i]);
            lips[2 * i + 1] = Y(Lips[i]);
        }
        return lips;
    }

    /// <summary>Mouth centre, width and angle from the lip landmarks.</summary>
    public MouthPose Mouth()
    {
        float cx = 0, cy = 0;
        foreach (int i in Lips)
        {
            cx += X(i);
            cy += Y(i);
        }
        float dx = X(RightMouthCorner) - X(LeftMouthCorner), dy = Y(RightMouthCorner) - Y(LeftMouthCorner);
        return new MouthPose(cx / Lips.Length, cy / Lips.Length, MathF.Sqrt(dx * dx + dy * dy), MathF.Atan2(dy, dx));
    }

    /// <summary>Axis-aligned bounding box of all landmarks: (x, y, width, height).</summary>
    public (float X, float Y, float Width, float Height) Bounds()
    {
        float x0 = float.MaxValue, y0 = float.MaxValue, x1 = float.MinValue, y1 = float.MinValue;
        for (int i = 0; i < Count; i++)
        {
            x0 = MathF.Min(x0, X(i));
            x1 = MathF.Max(x1, X(i));
            y0 = MathF.Min(y0, Y(i));
            y1 = MathF.Max(y1, Y(i));
        }
        return (x0, y0, x1 - x0, y1 - y0);
    }

    /// <summary>Point-wise blend (1 − t)·a + t·b, marked interpolated.</summary>
    public static FaceLandmarks Lerp(FaceLandmarks a, FaceLandmarks b, float t)
    {
        var p = new float[Count * 3];
        for (int i = 0; i < p.Length; i++)
            p[i] = a.Points[i] + (b.Points[i] - a.Points[i]) * t;
        return new FaceLandmarks(p, MathF.Min(a.Confidence, b.Confidence), interpolated: true);
    }
}
