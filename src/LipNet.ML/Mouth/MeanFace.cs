using LipNet.ML.Face;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>
/// The mean-face alignment of auto_avsr / Visual_Speech_Recognition_for_Multiple_Languages
/// (<c>preparation/detectors/*/video_process.py</c>, <c>VideoProcess</c>): per frame, a similarity transform
/// (<c>cv2.estimateAffinePartial2D</c>, LMEDS) of eight stable landmarks — dlib-68 points 28, 33, 36, 39, 42, 45, 48,
/// 54 — onto the LRW "20words" mean face on a 256x256 canvas, a 96x96 patch centred on the transformed mouth
/// (dlib 48-67), and its centre 88x88 (the models' centre crop). Here the patch is expressed as a rotated box in
/// the source frame: centred on the mouth, side 88 / scale, turned by the transform's rotation.
/// Deviations: Face Mesh points stand for dlib's; landmarks are smoothed by the locator's own window rather than
/// VideoProcess's ±6-frame mean; the patch centre is not rounded to whole pixels.
/// </summary>
public static class MeanFace
{
    /// <summary>Face Mesh points standing for dlib-68 points 28, 33, 36, 39, 42, 45, 48, 54 (yerfor/GeneFacePlusPlus's mapping).</summary>
    public static readonly int[] StableLandmarks = [197, 2, 33, 133, 362, 263, 61, 291];

    /// <summary>The mean face's points 28, 33, 36, 39, 42, 45, 48, 54 (x, y on the 256x256 canvas), from <c>20words_mean_face.npy</c>.</summary>
    internal static readonly float[] StableReference =
    [
        128.48854473271905f, 106.92459505614299f, // dlib 28
        128.87017960974802f, 137.30253355584708f, // dlib 33
        92.52245552947952f, 94.36876013925871f, // dlib 36
        112.7724172413806f, 94.94360869870115f, // dlib 39
        145.52511509158018f, 94.5349986248377f, // dlib 42
        166.67710071343456f, 93.56562295717796f, // dlib 45
        107.16760614090083f, 157.19606764242243f, // dlib 48
        152.19284005377082f, 156.98711116207943f, // dlib 54
    ];

    /// <summary>Side of the patch cut around the mouth on the reference canvas, before the centre crop.</summary>
    public const int PatchSize = 96;

    /// <summary>
    /// The rotated source-pixel box whose <paramref name="cropWidth"/> x <paramref name="cropHeight"/> crop equals the
    /// centre crop of the aligned 96x96 mouth patch (88x88 for the profile's size).
    /// </summary>
    /// <exception cref="MouthLocatorException">The landmarks admit no similarity transform (degenerate points).</exception>
    public static MouthBox Box(FaceLandmarks landmarks, int cropWidth, int cropHeight)
    {
        var from = new Point2f[StableLandmarks.Length];
        var to = new Point2f[StableLandmarks.Length];
        for (int i = 0; i < from.Length; i++)
        {
            from[i] = new Point2f(landmarks.X(StableLandmarks[i]), landmarks.Y(StableLandmarks[i]));
            to[i] = new Point2f(StableReference[2 * i], StableReference[2 * i + 1]);
        }
        using var fromMat = InputArray.Create(from);
        using var toMat = InputArray.Create(to);
        using var transform = Cv2.EstimateAffinePartial2D(fromMat, toMat, null, RobustEstimationAlgorithms.LMEDS);
        if (transform is null || transform.Empty())
            throw new MouthLocatorException("mean-face profile: no similarity transform fits the landmarks");
        double a = transform.At<double>(0, 0), b = transform.At<double>(1, 0);
        double scale = Math.Sqrt(a * a + b * b);
        if (!(scale > 1e-6) || !double.IsFinite(scale))
            throw new MouthLocatorException("mean-face profile: degenerate similarity transform");
        // The transform maps the mean of the mouth points to the patch centre, so the centre is that mean in the source.
        float cx = 0, cy = 0;
        foreach (int i in FaceLandmarks.DlibMouth)
        {
            cx += landmarks.X(i);
            cy += landmarks.Y(i);
        }
        cx /= FaceLandmarks.DlibMouth.Length;
        cy /= FaceLandmarks.DlibMouth.Length;
        // Reference axes seen in the source are turned by the transform's rotation, backwards.
        float angle = (float)-Math.Atan2(b, a);
        return MouthBox.FromCenter(cx, cy, (float)(cropWidth / scale), (float)(cropHeight / scale), angle);
    }
}
