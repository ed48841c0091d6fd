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

    /// <summary>LipNet's 100 x 50 pixel mouth crop (Assael et al., 2016), shared; records are immutable.</summary>
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
    /// <summary>A cropper that asks <paramref name="locator"/> for the boxes and cuts crops of <paramref name="options"/>' size.</summary>
    /// <param name="locator">Finds the mouth; the cropper does not dispose it.</param>
    /// <param name="options">Crop size; null = <see cref="MouthCropOptions.Default"/> (100 x 50).</param>
    /// <exception cref="ArgumentNullException"><paramref name="locator"/> is null.</exception>
    /// <exception cref="TensorShapeException">Crop width or height outside 4..4096 pixels.</exception>
    /// <exception cref="NativeLibraryException">OpenCV's native library is not installed.</exception>
    public MouthCropper(IMouthLocator locator, MouthCropOptions? options = null)
    {
        Locator = locator ?? throw new ArgumentNullException(nameof(locator));
        Options = options ?? MouthCropOptions.Default;
        if (Options.Width is < 4 or > 4096 || Options.Height is < 4 or > 4096)
            throw new TensorShapeException($"crop size {Options.Width}x{Options.Height} outside 4..4096");
        NativeLibraryException.EnsureOpenCv();
    }

    /// <summary>The locator that places the boxes.</summary>
    public IMouthLocator Locator { get; }

    /// <summary>The crop size, width x height in pixels.</summary>
    public MouthCropOptions Options { get; }

    /// <summary>
    /// Locates the mouth in every frame (<see cref="IMouthLocator.LocateTrack"/>) and cuts each box out, resampled to
    /// <see cref="Options"/>' size: bilinear, or area averaging when the box is over 1.5x the crop width; rotated boxes are
    /// sampled along their angle.
    /// </summary>
    /// <param name="frames">The clip, [T, H, W, 3] bytes in either channel order.</param>
    /// <returns>
    /// The crops as [T, crop height, crop width, 3] bytes in the frames' channel order, fps and source, with the box
    /// (source pixels), landmarks and missing frames of the locator.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> is null.</exception>
    /// <exception cref="MouthLocatorException">
    /// The locator finds no mouth in the clip, returns another number of boxes than frames, or an empty or non-finite box.
    /// </exception>
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
    /// <param name="frames">The clip, [T, H, W, 3] bytes.</param>
    /// <param name="boxes">One box per frame, source pixels (at least <see cref="VideoFrames.FrameCount"/>).</param>
    /// <returns>[T, crop height, crop width, 3] bytes in the frames' channel order, with their fps and source.</returns>
    /// <exception cref="MouthLocatorException">A box is empty or not finite.</exception>
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
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(src + (long)t * frames.FrameByteCount));
                using var target = Mat.FromPixelData(h, w, MatType.CV_8UC3, (IntPtr)(dst + (long)t * w * h * VideoFrames.Channels));
                CropOne(frame, boxes[t], target, patch, t, frames.Source);
            }
        }
        return new VideoFrames(output, frames.FrameCount, w, h, frames.Fps, frames.Order, frames.Source);
    }

    /// <summary>The crop of one frame (H x W x 3 bytes, the frame's channel order); mid-grey where <paramref name="box"/> is null (no face yet).</summary>
    /// <param name="frame">The full frame.</param>
    /// <param name="box">Where to cut, source pixels; null = no face yet (a mid-grey crop).</param>
    /// <param name="source">Names the video in errors; null = none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    /// <exception cref="MouthLocatorException">The box is empty or not finite.</exception>
    public unsafe byte[] CropFrame(VideoFrame frame, MouthBox? box, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int w = Options.Width, h = Options.Height;
        var output = new byte[w * h * VideoFrames.Channels];
        if (box is not { } b)
        {
            Array.Fill(output, (byte)128);
            return output;
        }
        using var patch = new Mat();
        fixed (byte* src = frame.Pixels)
        fixed (byte* dst = output)
        {
            using var image = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, (IntPtr)src);
            using var target = Mat.FromPixelData(h, w, MatType.CV_8UC3, (IntPtr)dst);
            CropOne(image, b, target, patch, frame.Index, source);
        }
        return output;
    }

    /// <summary>
    /// A stream of frames → their mouth crops, through the locator's <see cref="IMouthLocator.OpenTrackStream"/>: full frames
    /// are dropped as soon as they are cropped, so memory is the locator's look-ahead, not the video. Dispose it.
    /// </summary>
    /// <param name="source">Names the stream in errors.</param>
    public MouthCropStream OpenStream(string source) => new(this, Locator.OpenTrackStream(Options.Width, Options.Height, source), source);

    private void CropOne(Mat frame, MouthBox box, Mat target, Mat patch, int t, string? source)
    {
        int w = Options.Width, h = Options.Height;
        if (!(box.Width > 0 && box.Height > 0) || !float.IsFinite(box.X) || !float.IsFinite(box.Y))
            throw new MouthLocatorException($"invalid mouth box {box} at frame {t}", source);
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

/// <summary>The mouth crop of one frame of a stream.</summary>
/// <param name="Index">0-based frame index in the stream.</param>
/// <param name="Time">The frame's time from the stream's first frame.</param>
/// <param name="Crop">H x W x 3 bytes (the crop size of the cropper), in the frame's channel order; mid-grey before the first face.</param>
/// <param name="Order">Channel order of <paramref name="Crop"/>.</param>
/// <param name="Box">Where it was cut, source pixels (null before the stream's first face).</param>
/// <param name="Landmarks">Face landmarks (landmark locators only).</param>
/// <param name="FaceFound">False where no face was found in this frame (box interpolated, held, or none).</param>
public sealed record MouthFrame(int Index, TimeSpan Time, byte[] Crop, Video.PixelOrder Order, MouthBox? Box, Face.FaceLandmarks? Landmarks, bool FaceFound);

/// <summary>
/// Frames in, mouth crops out, in order and a few frames behind (the locator's look-ahead); the full frames are dropped as
/// soon as they are cropped. From <see cref="MouthCropper.OpenStream"/>. Not thread-safe; dispose it.
/// </summary>
public sealed class MouthCropStream : IDisposable
{
    private readonly MouthCropper _cropper;
    private readonly IMouthTrackStream _track;
    private readonly List<LocatedFrame> _located = [];

    internal MouthCropStream(MouthCropper cropper, IMouthTrackStream track, string source)
    {
        (_cropper, _track, Source) = (cropper, track, source);
    }

    /// <summary>Names the stream in errors.</summary>
    public string Source { get; }

    /// <summary>Crop width in pixels.</summary>
    public int Width => _cropper.Options.Width;

    /// <summary>Crop height in pixels.</summary>
    public int Height => _cropper.Options.Height;

    /// <summary>Takes the next frame; adds the crops that became ready to <paramref name="crops"/>.</summary>
    /// <exception cref="MouthLocatorException">A frame of another size than the first; an invalid box.</exception>
    /// <exception cref="TensorShapeException">A frame without pixels, of a size out of range, or with too few bytes for its size.</exception>
    public void Push(VideoFrame frame, ICollection<MouthFrame> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        _track.Push(frame, _located);
        Drain(crops);
    }

    /// <summary>Ends the stream: adds every crop still held.</summary>
    /// <exception cref="MouthLocatorException">No face in any frame.</exception>
    public void Complete(ICollection<MouthFrame> crops)
    {
        _track.Complete(_located);
        Drain(crops);
    }

    /// <summary>Called with each frame once cropped (its full pixels are no longer needed here).</summary>
    internal Action<VideoFrame>? Cropped { get; set; }

    private void Drain(ICollection<MouthFrame> crops)
    {
        foreach (var l in _located)
        {
            crops.Add(new MouthFrame(l.Frame.Index, l.Frame.Time, _cropper.CropFrame(l.Frame, l.Box, Source), l.Frame.Order, l.Box, l.Landmarks, l.FaceFound));
            Cropped?.Invoke(l.Frame);
        }
        _located.Clear();
    }

    /// <summary>Disposes the locator's track stream (not the cropper or its locator).</summary>
    public void Dispose() => _track.Dispose();
}
