using LipNet.ML.Video;
using OpenCvSharp;

namespace LipNet.ML.Mouth;

/// <summary>Size of the mouth crop.</summary>
public sealed record MouthCropOptions
{
    /// <summary>Crop width in pixels (LipNet: 100).</summary>
    public int Width { get; init; } = 100;

    /// <summary>Crop height in pixels (LipNet: 50).</summary>
    public int Height { get; init; } = 50;

    public static MouthCropOptions Default { get; } = new();
}

/// <summary>Mouth crops of a clip and the source-pixel box each was taken from.</summary>
/// <param name="Frames">The crops, T x H x W x 3.</param>
/// <param name="Boxes">The box of each crop, source pixels.</param>
/// <param name="Landmarks">Face landmarks per frame, from landmark locators (null otherwise).</param>
/// <param name="MissingFrames">Frames where no face was found (their boxes were interpolated); empty when none or unknown.</param>
public sealed record MouthCrop(VideoFrames Frames, MouthBox[] Boxes, IReadOnlyList<Face.FaceLandmarks>? Landmarks = null, IReadOnlyList<int>? MissingFrames = null);

/// <summary>
/// Cuts the located mouth out of every frame and resamples it to a fixed size. Boxes already carry the
/// crop's aspect ratio, so the mouth keeps its proportions; parts of a box outside the frame repeat
/// the border pixels.
/// </summary>
public sealed class MouthCropper
{
    public MouthCropper(IMouthLocator locator, MouthCropOptions? options = null)
    {
        Locator = locator ?? throw new ArgumentNullException(nameof(locator));
        Options = options ?? MouthCropOptions.Default;
        if (Options.Width is < 4 or > 4096 || Options.Height is < 4 or > 4096)
            throw new TensorShapeException($"crop size {Options.Width}x{Options.Height} outside 4..4096");
    }

    public IMouthLocator Locator { get; }
    public MouthCropOptions Options { get; }

    public MouthCrop Crop(VideoFrames frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var track = Locator.LocateTrack(frames, Options.Width, Options.Height);
        var boxes = track.Boxes;
        if (boxes.Length != frames.FrameCount)
            throw new MouthLocatorException($"locator returned {boxes.Length} boxes for {frames.FrameCount} frames", frames.Source);
        return new MouthCrop(CropBoxes(frames, boxes), boxes, track.Landmarks, track.MissingFrames ?? []);
    }

    /// <summary>Cuts the given boxes (one per frame) out of the frames.</summary>
    public unsafe VideoFrames CropBoxes(VideoFrames frames, ReadOnlySpan<MouthBox> boxes)
    {
        int w = Options.Width, h = Options.Height;
        var output = new byte[(long)frames.FrameCount * w * h * VideoFrames.Channels];
        using var patch = new Mat();
        fixed (byte* src = frames.Pixels)
        fixed (byte* dst = output)
        {
            for (int t = 0; t < frames.FrameCount; t++)
            {
                var box = boxes[t];
                if (!(box.Width > 0 && box.Height > 0) || !float.IsFinite(box.X) || !float.IsFinite(box.Y))
                    throw new MouthLocatorException($"invalid mouth box {box} at frame {t}", frames.Source);
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(src + (long)t * frames.FrameByteCount));
                using var target = Mat.FromPixelData(h, w, MatType.CV_8UC3, (IntPtr)(dst + (long)t * w * h * VideoFrames.Channels));
                if (box.Angle != 0)
                {
                    // Rotated box: crop pixel (u, v) samples the source at centre + R(angle)·((u, v) − crop centre)·scale.
                    double sx = box.Width / w, sy = box.Height / h, cos = Math.Cos(box.Angle), sin = Math.Sin(box.Angle);
                    double hu = (w - 1) / 2.0, hv = (h - 1) / 2.0;
                    using var m = Mat.FromArray(new double[,]
                    {
                        { cos * sx, -sin * sy, box.CenterX - cos * sx * hu + sin * sy * hv },
                        { sin * sx, cos * sy, box.CenterY - sin * sx * hu - cos * sy * hv },
                    });
                    Cv2.WarpAffine(frame, target, m, new Size(w, h), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Replicate);
                }
                else if (box.Width > 1.5f * w)
                {
                    // Shrinking a lot: area averaging avoids the aliasing bilinear sampling would add.
                    Cv2.GetRectSubPix(frame, new Size((int)MathF.Round(box.Width), (int)MathF.Round(box.Height)), new Point2f(box.CenterX, box.CenterY), patch);
                    Cv2.Resize(patch, target, new Size(w, h), 0, 0, InterpolationFlags.Area);
                }
                else
                {
                    double sx = w / box.Width, sy = h / box.Height;
                    using var m = Mat.FromArray(new double[,] { { sx, 0, -box.X * sx }, { 0, sy, -box.Y * sy } });
                    Cv2.WarpAffine(frame, target, m, new Size(w, h), InterpolationFlags.Linear, BorderTypes.Replicate);
                }
            }
        }
        return new VideoFrames(output, frames.FrameCount, w, h, frames.Fps, frames.Order, frames.Source);
    }
}
