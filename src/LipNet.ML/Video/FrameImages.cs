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
