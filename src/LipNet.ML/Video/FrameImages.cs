using OpenCvSharp;

namespace LipNet.ML.Video;

/// <summary>Writes frame stacks as images: one contact sheet, or one PNG per frame.</summary>
public static class FrameImages
{
    /// <summary>Tiles every frame into one image, <paramref name="columns"/> per row, row-major in time.</summary>
    public static unsafe void WriteContactSheet(VideoFrames frames, string path, int columns = 10)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.FrameCount == 0)
            throw new TensorShapeException("no frames to write", path);
        columns = Math.Clamp(columns, 1, frames.FrameCount);
        int rows = (frames.FrameCount + columns - 1) / columns;
        using var sheet = new Mat(rows * frames.Height, columns * frames.Width, MatType.CV_8UC3, Scalar.All(0));
        fixed (byte* p = frames.Pixels)
        {
            for (int t = 0; t < frames.FrameCount; t++)
            {
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                using var cell = sheet[new Rect(t % columns * frames.Width, t / columns * frames.Height, frames.Width, frames.Height)];
                frame.CopyTo(cell);
            }
        }
        Write(sheet, frames.Order, path);
    }

    /// <summary>Writes frame t as <c>{prefix}{t:D4}.png</c> in <paramref name="directory"/>.</summary>
    public static unsafe void WriteFrames(VideoFrames frames, string directory, string prefix = "frame_")
    {
        ArgumentNullException.ThrowIfNull(frames);
        Directory.CreateDirectory(directory);
        fixed (byte* p = frames.Pixels)
        {
            for (int t = 0; t < frames.FrameCount; t++)
            {
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                Write(frame, frames.Order, Path.Combine(directory, $"{prefix}{t:D4}.png"));
            }
        }
    }

    /// <summary>
    /// A contact sheet of the source frames with what the locator found drawn on them: the mouth box (rotated
    /// boxes drawn rotated), all face landmarks as dots and the 40 lip points in colour (red where a frame's
    /// landmarks were interpolated). Each frame is scaled to <paramref name="cellWidth"/> pixels wide.
    /// </summary>
    /// <param name="frames">Decoded frames, T x H x W x 3.</param>
    /// <param name="boxes">One mouth box per frame, source pixels.</param>
    /// <param name="landmarks">Face landmarks per frame, or null.</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="columns">Frames per row.</param>
    /// <param name="cellWidth">Width of one frame on the sheet, pixels.</param>
    /// <param name="every">Draw every N-th frame only.</param>
    /// <exception cref="TensorShapeException">No frames, or box/landmark counts that differ from the frame count.</exception>
    public static unsafe void WriteOverlaySheet(VideoFrames frames, IReadOnlyList<Mouth.MouthBox> boxes, IReadOnlyList<Face.FaceLandmarks>? landmarks,
        string path, int columns = 8, int cellWidth = 240, int every = 1)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(boxes);
        if (frames.FrameCount == 0 || boxes.Count != frames.FrameCount || (landmarks is not null && landmarks.Count != frames.FrameCount))
            throw new TensorShapeException($"overlay needs one box (and landmark set) per frame: {frames.FrameCount} frames, {boxes.Count} boxes", path);
        every = Math.Max(1, every);
        int shown = (frames.FrameCount + every - 1) / every;
        columns = Math.Clamp(columns, 1, shown);
        double scale = (double)cellWidth / frames.Width;
        int cellHeight = (int)Math.Round(frames.Height * scale);
        int rows = (shown + columns - 1) / columns;
        using var sheet = new Mat(rows * cellHeight, columns * cellWidth, MatType.CV_8UC3, Scalar.All(0));
        bool rgb = frames.Order == PixelOrder.Rgb;
        Scalar Colour(byte r, byte g, byte b) => rgb ? new Scalar(r, g, b) : new Scalar(b, g, r);
        using var cell = new Mat();
        fixed (byte* p = frames.Pixels)
        {
            for (int i = 0; i < shown; i++)
            {
                int t = i * every;
                using var frame = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * frames.FrameByteCount));
                Cv2.Resize(frame, cell, new Size(cellWidth, cellHeight), 0, 0, InterpolationFlags.Area);
                Point P(float x, float y) => new((int)Math.Round(x * scale), (int)Math.Round(y * scale));
                if (landmarks?[t] is { } l)
                {
                    for (int k = 0; k < Face.FaceLandmarks.Count; k++)
                        Cv2.Circle(cell, P(l.X(k), l.Y(k)), 0, Colour(200, 200, 200), -1);
                    var lip = l.Interpolated ? Colour(255, 40, 40) : Colour(40, 255, 80);
                    foreach (var ring in new[] { Face.FaceLandmarks.OuterLip, Face.FaceLandmarks.InnerLip })
                        for (int k = 0; k < ring.Length; k++)
                            Cv2.Line(cell, P(l.X(ring[k]), l.Y(ring[k])), P(l.X(ring[(k + 1) % ring.Length]), l.Y(ring[(k + 1) % ring.Length])), lip, 1, LineTypes.AntiAlias);
                }
                var b = boxes[t];
                var box = new RotatedRect(new Point2f((float)(b.CenterX * scale), (float)(b.CenterY * scale)),
                    new Size2f(b.Width * scale, b.Height * scale), b.Angle * 180f / MathF.PI);
                var corners = box.Points().Select(c => new Point((int)Math.Round(c.X), (int)Math.Round(c.Y))).ToArray();
                Cv2.Polylines(cell, [corners], true, Colour(255, 220, 0), 1, LineTypes.AntiAlias);
                Cv2.PutText(cell, t.ToString(), new Point(3, 12), HersheyFonts.HersheySimplex, 0.35, Colour(255, 255, 255), 1, LineTypes.AntiAlias);
                using var target = sheet[new Rect(i % columns * cellWidth, i / columns * cellHeight, cellWidth, cellHeight)];
                cell.CopyTo(target);
            }
        }
        Write(sheet, frames.Order, path);
    }

    private static void Write(Mat image, PixelOrder order, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        bool ok;
        if (order == PixelOrder.Rgb)
        {
            using var bgr = new Mat();
            Cv2.CvtColor(image, bgr, ColorConversionCodes.RGB2BGR);
            ok = Cv2.ImWrite(path, bgr);
        }
        else
        {
            ok = Cv2.ImWrite(path, image);
        }
        if (!ok)
            throw new LipNetException("image could not be written", path);
    }
}
