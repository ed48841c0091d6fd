using LipNet.ML.Face;

namespace LipNet.ML.Mouth;

/// <summary>
/// The face alignment of VIPL's LipNet-PyTorch (Fengdalu/LipNet-PyTorch, <c>scripts/extract_lip.py</c> and
/// <c>demo.py</c>): per frame, a similarity transform of 51 landmarks — dlib-68 points 17..67 (brows, nose, eyes,
/// mouth) — onto a frontal mean-face template on a 256x256 canvas, fitted by orthogonal Procrustes with
/// standard-deviation scaling (<c>transformation_from_points</c>: both point sets centred and divided by their
/// <c>np.std</c>, R from the SVD of their 2x2 cross-covariance, scale = the ratio of the two stds — not a least-squares
/// similarity); the aligned frame's 160x80-pixel window centred on the template's mouth centre (truncated to whole
/// pixels: (126, 179)) is the crop, resized to the model's input (128x64 in its first release, 100x50 in its current
/// one). Here the window is expressed as a rotated box in the source frame: centred where the window's centre comes
/// from, (160 / scale) x (80 / scale) source pixels, turned by the transform's rotation.
/// Deviations: Face Mesh points stand for dlib's (<see cref="Landmarks"/>, yerfor/GeneFacePlusPlus's mapping; they
/// follow dlib's only roughly: on GRID s1 bbaf4p the fitted points miss the template by 5 canvas pixels on average);
/// landmarks are smoothed, and by default measured every second frame, by the locator
/// (<see cref="LandmarkMouthLocatorOptions"/>; LandmarkEvery 1 and SmoothingRadius 0 come closest); the crop is sampled
/// from the source once (bilinear) rather than warped to 256x256 and then resized (bilinear twice), and the frame's
/// border is replicated where the window overhangs it rather than black; frames without a face are interpolated rather
/// than dropped (demo.py drops them).
/// </summary>
public static class FaceAligned
{
    /// <summary>
    /// Face Mesh points standing for dlib-68 points 17..67, in dlib's order: brows 17-26, nose 27-35, eyes 36-47,
    /// mouth 48-67 (<see cref="FaceLandmarks.DlibMouth"/>); <c>index_lm68_from_lm478[17:]</c> of yerfor/GeneFacePlusPlus
    /// (<c>data_gen/utils/mp_feature_extractors/face_landmarker.py</c>), the mapping <see cref="MeanFace"/> uses too.
    /// </summary>
    public static readonly int[] Landmarks =
    [
        70, 63, 105, 66, 107, 336, 296, 334, 293, 300, // dlib 17-26: brows (image left first)
        168, 197, 5, 4, 75, 97, 2, 326, 305, // dlib 27-35: nose bridge 27-30, nostrils 31-35
        33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380, // dlib 36-47: eyes
        .. FaceLandmarks.DlibMouth, // dlib 48-67: mouth
    ];

    // The frontal mean-face template of dlib points 17..67 in the unit square (x, y): dlib's own "average positions of
    // face points 17-67" (mean_face_shape_x/y in get_face_chip_details, dlib/image_transforms/interpolation.h), the
    // numbers also in deepfakes/faceswap and in LipNet-PyTorch's get_position (scripts/extract_lip.py), as listed there.
    private static readonly double[] UnitX =
    [
        0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004,
        0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373,
        0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335,
        0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094,
        0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
    ];

    private static readonly double[] UnitY =
    [
        0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
        0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326,
        0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
        0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805,
        0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
    ];

    /// <summary>Side of the square canvas the face is aligned onto, pixels (<c>get_position(256)</c>).</summary>
    public const int CanvasSize = 256;

    /// <summary>Margin added on each side of the unit template, as a fraction of its size (<c>get_position</c>'s padding).</summary>
    public const double Padding = 0.25;

    /// <summary>Width of the window cut from the aligned canvas, canvas pixels.</summary>
    public const int WindowWidth = 160;

    /// <summary>Height of the window cut from the aligned canvas, canvas pixels.</summary>
    public const int WindowHeight = 80;

    /// <summary>
    /// The template on the canvas, 51 x 2 values (x, y interleaved, canvas pixels) in <see cref="Landmarks"/>' order:
    /// <c>(u + 0.25) / 1.5 · 256</c> for each unit coordinate u.
    /// </summary>
    internal static double[] Template { get; } = MakeTemplate();

    /// <summary>The template's mouth centre (mean of its last 20 points, dlib 48-67) truncated to whole canvas pixels: (126, 179).</summary>
    internal static (int X, int Y) MouthCentre { get; } = MakeMouthCentre();

    private static double[] MakeTemplate()
    {
        var points = new double[2 * UnitX.Length];
        for (int i = 0; i < UnitX.Length; i++)
        {
            // In get_position's order of operations, so the values are numpy's to the last bit.
            points[2 * i] = (UnitX[i] + Padding) / (2 * Padding + 1) * CanvasSize;
            points[2 * i + 1] = (UnitY[i] + Padding) / (2 * Padding + 1) * CanvasSize;
        }
        return points;
    }

    private static (int, int) MakeMouthCentre()
    {
        int mouth = FaceLandmarks.DlibMouth.Length, first = Template.Length / 2 - mouth;
        double x = 0, y = 0;
        for (int i = first; i < first + mouth; i++)
        {
            x += Template[2 * i];
            y += Template[2 * i + 1];
        }
        return ((int)(x / mouth), (int)(y / mouth));
    }

    /// <summary>
    /// The rotated source-pixel box of the aligned frame's 160x80 mouth window (the box's crop, resized to any size,
    /// is that window resized). Width and height are 160 / scale and 80 / scale source pixels; the centre is where the
    /// window's centre, canvas (125.5, 178.5) in pixel-centre coordinates, comes from.
    /// </summary>
    /// <param name="landmarks">One frame's Face Mesh landmarks, source pixels.</param>
    /// <returns>A box in source pixels, turned by the face's roll (see <see cref="MouthBox.Angle"/>). Its centre suits
    /// <see cref="MouthCropper"/>'s rotated-box sampling (symmetric about the centre, as cv2.resize); a box of angle exactly 0
    /// would take the cropper's axis-aligned path, which samples up to half a crop pixel differently.</returns>
    /// <exception cref="MouthLocatorException">The landmarks admit no similarity transform (degenerate or mirrored points).</exception>
    public static MouthBox Box(FaceLandmarks landmarks)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        var points = new double[2 * Landmarks.Length];
        for (int i = 0; i < Landmarks.Length; i++)
        {
            points[2 * i] = landmarks.X(Landmarks[i]);
            points[2 * i + 1] = landmarks.Y(Landmarks[i]);
        }
        var transform = Fit(points, Template);
        // The window is rows y-40..y+39 and columns x-80..x+79 of the canvas: its centre lies half a pixel up and
        // left of (x, y). The cropper samples a rotated box symmetrically about its centre, as cv2.resize does.
        var (cx, cy) = transform.Invert(MouthCentre.X - 0.5, MouthCentre.Y - 0.5);
        return MouthBox.FromCenter((float)cx, (float)cy, (float)(WindowWidth / transform.Scale), (float)(WindowHeight / transform.Scale),
            (float)-transform.Angle);
    }

    /// <summary>
    /// LipNet-PyTorch's <c>transformation_from_points</c> (orthogonal Procrustes, as in Matthew Earl's face-swap
    /// post): both point sets centred on their means and divided by their standard deviation over all coordinates
    /// (<c>np.std</c>); R = (U·Vᵀ)ᵀ from the SVD U·S·Vᵀ of the 2x2 matrix H = Σ pᵢ·qᵢᵀ of the normalised points;
    /// scale = std(to) / std(from); translation = mean(to) − scale·R·mean(from). For a 2x2 H with det H &gt; 0 that R
    /// is the rotation by atan2(H₀₁ − H₁₀, H₀₀ + H₁₁) (the rotation maximising trace(R·H)), computed so here.
    /// </summary>
    /// <param name="from">Points to map, x, y interleaved (pixels).</param>
    /// <param name="to">Their targets, as many, x, y interleaved (pixels).</param>
    /// <returns>The transform to·≈·scale·R(angle)·from + translation.</returns>
    /// <exception cref="ArgumentException">Fewer than two points, an odd count, or the two differ in length.</exception>
    /// <exception cref="MouthLocatorException">
    /// The points are degenerate (all equal, collinear against the targets, or not finite) or mirrored against the targets
    /// (det H ≤ 0, where numpy's R would be a reflection, which no box can express).
    /// </exception>
    internal static Similarity Fit(ReadOnlySpan<double> from, ReadOnlySpan<double> to)
    {
        if (from.Length != to.Length || from.Length < 4 || from.Length % 2 != 0)
            throw new ArgumentException($"need two equal lists of at least two x, y points, got {from.Length} and {to.Length} values");
        int n = from.Length / 2;
        var (fx, fy) = Mean(from);
        var (tx, ty) = Mean(to);
        double fromSquares = 0, toSquares = 0, h00 = 0, h01 = 0, h10 = 0, h11 = 0;
        for (int i = 0; i < n; i++)
        {
            double px = from[2 * i] - fx, py = from[2 * i + 1] - fy, qx = to[2 * i] - tx, qy = to[2 * i + 1] - ty;
            fromSquares += px * px + py * py;
            toSquares += qx * qx + qy * qy;
            h00 += px * qx;
            h01 += px * qy;
            h10 += py * qx;
            h11 += py * qy;
        }
        double fromStd = Math.Sqrt(fromSquares / (2 * n)), toStd = Math.Sqrt(toSquares / (2 * n));
        double scale = toStd / fromStd;
        // det of the normalised H, relative to its largest possible size (n² for unit-std points).
        double det = (h00 * h11 - h01 * h10) / (fromSquares * toSquares);
        if (!(fromStd > 0) || !(toStd > 0) || !double.IsFinite(scale) || !(det > 1e-9))
            throw new MouthLocatorException(det <= 0 && double.IsFinite(det) && fromStd > 0 && toStd > 0
                ? "face-aligned profile: the landmarks are mirrored against the template (no rotation fits)"
                : "face-aligned profile: degenerate landmarks (no similarity transform fits)");
        double angle = Math.Atan2(h01 - h10, h00 + h11), cos = Math.Cos(angle), sin = Math.Sin(angle);
        return new Similarity(scale, angle, tx - scale * (cos * fx - sin * fy), ty - scale * (sin * fx + cos * fy));
    }

    private static (double X, double Y) Mean(ReadOnlySpan<double> points)
    {
        double x = 0, y = 0;
        for (int i = 0; i < points.Length; i += 2)
        {
            x += points[i];
            y += points[i + 1];
        }
        return (x / (points.Length / 2), y / (points.Length / 2));
    }
}

/// <summary>
/// A similarity transform of the plane: (x, y) ↦ <see cref="Scale"/>·R·(x, y) + (<see cref="TranslationX"/>,
/// <see cref="TranslationY"/>), R = [[cos a, −sin a], [sin a, cos a]] with a = <see cref="Angle"/> (radians; in image
/// coordinates, y down, positive turns clockwise on screen).
/// </summary>
/// <param name="Scale">Scale factor (target pixels per source pixel), positive.</param>
/// <param name="Angle">Rotation, radians.</param>
/// <param name="TranslationX">X translation, target pixels.</param>
/// <param name="TranslationY">Y translation, target pixels.</param>
internal readonly record struct Similarity(double Scale, double Angle, double TranslationX, double TranslationY)
{
    /// <summary>The image of source point (x, y).</summary>
    public (double X, double Y) Apply(double x, double y)
    {
        double cos = Math.Cos(Angle), sin = Math.Sin(Angle);
        return (Scale * (cos * x - sin * y) + TranslationX, Scale * (sin * x + cos * y) + TranslationY);
    }

    /// <summary>The source point that maps to target point (x, y).</summary>
    public (double X, double Y) Invert(double x, double y)
    {
        double cos = Math.Cos(Angle), sin = Math.Sin(Angle), u = (x - TranslationX) / Scale, v = (y - TranslationY) / Scale;
        return (cos * u + sin * v, -sin * u + cos * v);
    }
}
