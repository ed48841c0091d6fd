using LipNet.ML.Video;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace LipNet.ML.Face;

/// <summary>
/// A square region of interest for the landmark model: centre (source pixels), side (pixels) and rotation
/// (radians; the crop's x axis points along this angle in the image, as MediaPipe's rotated rects).
/// </summary>
public readonly record struct FaceRoi(float CenterX, float CenterY, float Size, float Angle)
{
    /// <summary>MediaPipe's ROI from a detection: the box's centre, 1.5 x its longer side, upright.</summary>
    public static FaceRoi FromDetection(FaceDetection face, float scale = 1.5f) =>
        new(face.CenterX, face.CenterY, MathF.Max(face.Width, face.Height) * scale, 0);

    /// <summary>
    /// MediaPipe's tracking ROI from the previous frame's landmarks: rotated so the outer eye corners (33, 263)
    /// lie level, centred on the landmarks' box in that rotated frame, 1.5 x its longer side.
    /// </summary>
    public static FaceRoi FromLandmarks(FaceLandmarks landmarks, float scale = 1.5f)
    {
        float angle = MathF.Atan2(landmarks.Y(FaceLandmarks.RightEyeOuter) - landmarks.Y(FaceLandmarks.LeftEyeOuter),
            landmarks.X(FaceLandmarks.RightEyeOuter) - landmarks.X(FaceLandmarks.LeftEyeOuter));
        float c = MathF.Cos(angle), s = MathF.Sin(angle);
        float u0 = float.MaxValue, u1 = float.MinValue, v0 = float.MaxValue, v1 = float.MinValue;
        for (int i = 0; i < FaceLandmarks.Count; i++)
        {
            float x = landmarks.X(i), y = landmarks.Y(i);
            float u = c * x + s * y, v = -s * x + c * y;
            u0 = MathF.Min(u0, u);
            u1 = MathF.Max(u1, u);
            v0 = MathF.Min(v0, v);
            v1 = MathF.Max(v1, v);
        }
        float cu = (u0 + u1) / 2, cv = (v0 + v1) / 2;
        return new FaceRoi(c * cu - s * cv, s * cu + c * cv, MathF.Max(u1 - u0, v1 - v0) * scale, angle);
    }
}

/// <summary>
/// The landmark stage: MediaPipe Face Mesh (468 3-D landmarks) on ONNX Runtime. The ROI is warped to the
/// model's 192x192 RGB [0, 1] input; the graph's post-processing maps landmarks through integer crop
/// inputs, so it is given a 192·64-pixel crop at the origin and the 1/64-pixel results are mapped back here
/// (sub-pixel landmarks). Face presence is the sigmoid of the model's score logit. Not thread-safe.
/// </summary>
public sealed class FaceMeshLandmarker : IDisposable
{
    /// <summary>Network input side in pixels.</summary>
    public const int InputSize = 192;

    // Post-processing multiplies normalized coordinates by the int32 crop size: 64x finer than input pixels.
    private const int Precision = 64;

    private readonly InferenceSession _session;
    private readonly float[] _input = new float[3 * InputSize * InputSize];
    private readonly int[] _zero = [0], _cropSize = [InputSize * Precision];
    private readonly Mat _crop; // made after the check that OpenCV loads (EnsureOpenCv)

    /// <summary>Opens the Face Mesh model in an ONNX Runtime session (CPU).</summary>
    /// <param name="modelPath">A Face Mesh ONNX file with its post-processing (inputs <c>input</c>, <c>crop_x1</c>,
    /// <c>crop_y1</c>, <c>crop_width</c>, <c>crop_height</c>; outputs <c>final_landmarks</c>, <c>score</c>); null = the embedded one.</param>
    /// <param name="threads">ONNX Runtime threads per call.</param>
    /// <exception cref="Runtime.ModelLoadException">The file is missing or not that graph.</exception>
    /// <exception cref="NativeLibraryException">ONNX Runtime's or OpenCV's native library is not installed.</exception>
    public FaceMeshLandmarker(string? modelPath = null, int threads = 1)
    {
        NativeLibraryException.EnsureOpenCv(modelPath);
        _crop = new(InputSize, InputSize, MatType.CV_8UC3);
        _session = FaceModels.Open(modelPath, FaceModels.LandmarkerName, threads,
            ["input", "crop_x1", "crop_y1", "crop_width", "crop_height"], ["final_landmarks", "score"]);
    }

    /// <summary>Landmarks of the face in <paramref name="roi"/> of an 8-bit 3-channel frame.</summary>
    /// <param name="frame">An 8-bit, 3-channel image; the ROI is warped out of it to 192 x 192 (border pixels repeated).</param>
    /// <param name="order">Channel order of <paramref name="frame"/>; the network gets RGB.</param>
    /// <param name="roi">Where the face is: e.g. <see cref="FaceRoi.FromDetection"/> or <see cref="FaceRoi.FromLandmarks"/>.</param>
    /// <returns>
    /// 468 landmarks in the frame's pixels, with <see cref="FaceLandmarks.Confidence"/> the face presence probability
    /// (sigmoid of the model's score); a low confidence means the ROI holds no face and the points are meaningless.
    /// </returns>
    public FaceLandmarks Estimate(Mat frame, PixelOrder order, FaceRoi roi)
    {
        // Crop pixel (u, v) samples source pixel C + R·(u − 95.5, v − 95.5)·s (pixel-centre coordinates).
        float scale = roi.Size / InputSize, cos = MathF.Cos(roi.Angle) * scale, sin = MathF.Sin(roi.Angle) * scale;
        const float half = (InputSize - 1) / 2f;
        using (var m = Mat.FromArray(new double[,]
        {
            { cos, -sin, roi.CenterX - cos * half + sin * half },
            { sin, cos, roi.CenterY - sin * half - cos * half },
        }))
        {
            Cv2.WarpAffine(frame, _crop, m, new Size(InputSize, InputSize), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Replicate);
        }
        FaceModels.ToPlanarRgb(_crop, order, _input, 0, 1f / 255);
        using var input = OrtValue.CreateTensorValueFromMemory(_input, [1, 3, InputSize, InputSize]);
        using var x1 = OrtValue.CreateTensorValueFromMemory(_zero, [1, 1]);
        using var y1 = OrtValue.CreateTensorValueFromMemory(_zero, [1, 1]);
        using var w = OrtValue.CreateTensorValueFromMemory(_cropSize, [1, 1]);
        using var h = OrtValue.CreateTensorValueFromMemory(_cropSize, [1, 1]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, ["input", "crop_x1", "crop_y1", "crop_width", "crop_height"], [input, x1, y1, w, h], ["final_landmarks", "score"]);
        var raw = outputs[0].GetTensorDataAsSpan<int>();
        float logit = outputs[1].GetTensorDataAsSpan<float>()[0];
        var points = new float[FaceLandmarks.Count * 3];
        for (int i = 0; i < FaceLandmarks.Count; i++)
        {
            // Model coordinates are continuous (0 = the crop's left edge): minus half a pixel gives crop pixel-centre coordinates.
            float u = raw[3 * i] / (float)Precision - 0.5f - half, v = raw[3 * i + 1] / (float)Precision - 0.5f - half;
            points[3 * i] = roi.CenterX + cos * u - sin * v;
            points[3 * i + 1] = roi.CenterY + sin * u + cos * v;
            points[3 * i + 2] = raw[3 * i + 2] / (float)Precision * scale;
        }
        return new FaceLandmarks(points, 1f / (1f + MathF.Exp(-logit)));
    }

    /// <summary>Releases the ONNX Runtime session and the crop buffer.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _crop.Dispose();
    }
}
