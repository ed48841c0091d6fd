using System.CommandLine;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.Cli;

/// <summary><c>lipnet crop &lt;video&gt; --out &lt;dir&gt; [--json]</c>: mouth crops as a contact sheet (and per-frame PNGs).</summary>
internal static class CropCommand
{
    public static Command Create(CliIO io)
    {
        var video = new Argument<FileInfo>("video") { Description = "Video file (mpg, mp4, mov, avi ...)." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the crops.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: video, frames, fps, width, height, boxes." };
        var frames = new Option<bool>("--frames") { Description = "Also write one PNG per frame." };
        var locator = new Option<string>("--locator") { Description = "haar (face detection) or fixed (a fixed region).", DefaultValueFactory = _ => "haar" };
        locator.AcceptOnlyFromAmong("haar", "fixed");
        var cascade = new Option<FileInfo?>("--cascade") { Description = "Frontal-face Haar cascade file (default: opencv-data's)." };
        var size = new Option<string>("--size") { Description = "Crop size WxH.", DefaultValueFactory = _ => "100x50" };

        var command = new Command("crop", "Locate the mouth in every frame and write the crops.") { video, output, json, frames, locator, cascade, size };
        command.SetAction(parse =>
        {
            var (w, h) = ParseSize(parse.GetValue(size)!);
            IMouthLocator loc = parse.GetValue(locator) == "fixed"
                ? new FixedRegionMouthLocator()
                : new HaarMouthLocator(parse.GetValue(cascade) is { } c ? new HaarMouthLocatorOptions { FaceCascadePath = c.FullName } : null);
            try
            {
                string path = parse.GetValue(video)!.FullName;
                var source = VideoLoader.Load(path);
                var crop = new MouthCropper(loc, new MouthCropOptions { Width = w, Height = h }).Crop(source);
                var dir = parse.GetValue(output)!.FullName;
                Directory.CreateDirectory(dir);
                string stem = Path.GetFileNameWithoutExtension(path);
                string sheet = Path.Combine(dir, stem + "_mouth.png");
                FrameImages.WriteContactSheet(crop.Frames, sheet);
                if (parse.GetValue(frames))
                    FrameImages.WriteFrames(crop.Frames, Path.Combine(dir, stem + "_frames"));
                if (parse.GetValue(json))
                {
                    io.WriteJson(new CropResult(path, source.FrameCount, source.Fps, source.Width, source.Height, crop.Boxes.Select(b => b.ToPixelArray()).ToArray()));
                }
                else
                {
                    io.Out.WriteLine($"{path}: {source.FrameCount} frames, {source.Width}x{source.Height} at {source.Fps:0.##} fps");
                    io.Out.WriteLine($"mouth crops ({w}x{h}): {sheet}");
                }
            }
            finally
            {
                (loc as IDisposable)?.Dispose();
            }
            return 0;
        });
        return command;
    }

    internal static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w > 0 && h > 0)
            return (w, h);
        throw new LipNet.ML.TensorShapeException($"size '{text}' is not WxH (e.g. 100x50)");
    }

    private sealed record CropResult(string Video, int Frames, double Fps, int Width, int Height, int[][] Boxes);
}
