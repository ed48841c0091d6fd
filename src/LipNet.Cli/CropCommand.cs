using System.CommandLine;
using LipNet.ML.Face;
using LipNet.ML.Mouth;
using LipNet.ML.Video;

namespace LipNet.Cli;

/// <summary>
/// <c>lipnet crop &lt;video&gt; --out &lt;dir&gt; [--locator landmarks|haar|fixed] [--profile NAME] [--frames] [--json]
/// [--landmarks] [--overlay]</c>: mouth crops as a contact sheet (and per-frame PNGs); and <c>lipnet landmarks</c>.
/// </summary>
internal static class CropCommand
{
    /// <summary>Options shared by <c>crop</c> and <c>landmarks</c>: how frames are read and the face is tracked.</summary>
    private sealed class FrontEndOptions
    {
        public readonly Option<double> Fps = new("--fps") { Description = "Resample the video to this frame rate by timestamp (the model's; GRID models: 25).", DefaultValueFactory = _ => 25 };
        public readonly Option<string> Face = new("--face") { Description = "Which face to track where several are seen: largest, central, leftmost or rightmost.", DefaultValueFactory = _ => "largest" };

        public FrontEndOptions()
        {
            Face.AcceptOnlyFromAmong("largest", "central", "leftmost", "rightmost");
            Fps.Validators.Add(r =>
            {
                if (r.TryValue(out double fps) && fps is not (> 0 and <= 1000))
                    r.AddError("--fps must lie in (0, 1000]");
            });
        }

        public void AddTo(Command command)
        {
            command.Options.Add(Fps);
            command.Options.Add(Face);
        }

        public FaceTrackerOptions Tracker(ParseResult parse) => new() { Selection = Enum.Parse<FaceSelection>(parse.GetValue(Face)!, ignoreCase: true) };

        public VideoFrames Load(string path, ParseResult parse) =>
            VideoLoader.Load(path, new VideoReadOptions { TargetFps = parse.GetValue(Fps) });
    }

    public static Command Create(CliIO io)
    {
        var video = new Argument<FileInfo>("video") { Description = "Video file (mpg, mp4, mov, avi, mkv ...)." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the crops.", Required = true }.OutputPath();
        var json = new Option<bool>("--json") { Description = "Print one JSON object: video, frames, fps, width, height, boxes (one per frame at --fps)." };
        var frames = new Option<bool>("--frames") { Description = "Also write one PNG per frame." };
        var locator = new Option<string>("--locator") { Description = "landmarks (face detection + Face Mesh, default), haar (Haar face detection) or fixed (a fixed region).", DefaultValueFactory = _ => "landmarks" };
        locator.AcceptOnlyFromAmong("landmarks", "haar", "fixed");
        var profile = new Option<string?>("--profile") { Description = "Crop profile: mouth-centred (rizkiarm/LipNet, the landmark default), mean-face (auto_avsr), face-aligned (VIPL LipNet-PyTorch) or haar; sets the locator and crop size." };
        profile.AcceptOnlyFromAmong([.. CropProfile.All.Select(p => p.Name)]);
        var cascade = new Option<FileInfo?>("--cascade") { Description = "Frontal-face Haar cascade file (default: opencv-data's)." };
        var size = new Option<string?>("--size") { Description = "Crop size WxH (default: the profile's, 100x50 for mouth-centred and haar)." }.SizeWithin(4, 4096);
        var landmarks = new Option<bool>("--landmarks") { Description = "With --json: add a 'landmarks' array (per frame: confidence, interpolated, 468 points x, y, z, 40 lip points)." };
        var overlay = new Option<bool>("--overlay") { Description = "Also write <name>_overlay.png: the frames with the mouth box and the landmarks drawn." };
        var overlayEvery = (new Option<int>("--overlay-every") { Description = "Draw every N-th frame on the overlay sheet.", DefaultValueFactory = _ => 1 }).AtLeast(1);
        var overlayFormat = new Option<string>("--overlay-format") { Description = "Overlay image format: png or jpg.", DefaultValueFactory = _ => "png" };
        overlayFormat.AcceptOnlyFromAmong("png", "jpg");
        var frontEnd = new FrontEndOptions();

        var command = new Command("crop", "Locate the mouth in every frame and write the crops.") { video, output, json, frames, locator, profile, cascade, size, landmarks, overlay, overlayEvery, overlayFormat };
        frontEnd.AddTo(command);
        command.SetAction(parse =>
        {
            string locatorName = parse.GetValue(locator)!;
            var chosen = parse.GetValue(profile) is { } p ? CropProfile.Get(p) : locatorName == "landmarks" ? CropProfile.MouthCentred : CropProfile.Haar;
            var (w, h) = parse.GetValue(size) is { } s ? ParseSize(s) : (chosen.Width, chosen.Height);
            var haar = parse.GetValue(cascade) is { } c ? new HaarMouthLocatorOptions { FaceCascadePath = c.FullName } : null;
            IMouthLocator loc = parse.GetValue(profile) is null && locatorName == "fixed"
                ? new FixedRegionMouthLocator()
                : chosen.CreateLocator(new LandmarkMouthLocatorOptions { Tracker = frontEnd.Tracker(parse) }, haar);
            try
            {
                string path = parse.GetValue(video)!.FullName;
                var source = frontEnd.Load(path, parse);
                var crop = new MouthCropper(loc, new MouthCropOptions { Width = w, Height = h }).Crop(source);
                var dir = parse.GetValue(output)!.FullName;
                Directory.CreateDirectory(dir);
                string stem = Path.GetFileNameWithoutExtension(path);
                string sheet = Path.Combine(dir, stem + "_mouth.png");
                FrameImages.WriteContactSheet(crop.Frames, sheet);
                if (parse.GetValue(frames))
                    FrameImages.WriteFrames(crop.Frames, Path.Combine(dir, stem + "_frames"));
                string? overlayPath = null;
                if (parse.GetValue(overlay))
                    FrameImages.WriteOverlaySheet(source, crop.Boxes, crop.Landmarks, overlayPath = Path.Combine(dir, $"{stem}_overlay.{parse.GetValue(overlayFormat)}"),
                        columns: 5, cellWidth: 320, every: parse.GetValue(overlayEvery));
                if (parse.GetValue(json))
                {
                    io.WriteJson(new CropResult(path, source.FrameCount, source.Fps, source.Width, source.Height, crop.Boxes.Select(b => b.ToPixelArray()).ToArray(),
                        crop.Boxes.Select(b => MathF.Round(b.Angle * 180 / MathF.PI, 2)).ToArray(), loc is FixedRegionMouthLocator ? "fixed" : chosen.Name, source.SourceFps, source.SourceFrameCount,
                        Math.Round(source.SourceDurationSeconds, 4), crop.MissingFrames ?? [],
                        parse.GetValue(landmarks) && crop.Landmarks is { } l ? LandmarkJson(l) : null));
                }
                else
                {
                    io.Out.WriteLine($"{path}: {source.SourceFrameCount} frames at {source.SourceFps:0.##} fps ({source.SourceDurationSeconds:0.###} s), " +
                                     $"{source.Width}x{source.Height}; read as {source.FrameCount} frames at {source.Fps:0.##} fps");
                    if (crop.MissingFrames is { Count: > 0 } missing)
                        io.Out.WriteLine($"no face in {missing.Count} frame(s), boxes interpolated: {string.Join(", ", missing)}");
                    io.Out.WriteLine($"mouth crops ({w}x{h}, profile {chosen.Name}): {sheet}");
                    if (overlayPath is not null)
                        io.Out.WriteLine($"overlay: {overlayPath}");
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

    /// <summary><c>lipnet landmarks &lt;video&gt; [--json]</c>: Face Mesh landmarks of every frame.</summary>
    public static Command Landmarks(CliIO io)
    {
        var video = new Argument<FileInfo>("video") { Description = "Video file (mpg, mp4, mov, avi, mkv ...)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with every frame's 468 landmarks (x, y, z in source pixels), its 40 lip points and confidence." };
        var frontEnd = new FrontEndOptions();
        var command = new Command("landmarks", "Track the face and print its landmarks per frame (MediaPipe Face Mesh topology).") { video, json };
        frontEnd.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(video)!.FullName;
            // Every frame measured: these are the landmarks themselves, not just where to crop.
            using var locator = new LandmarkMouthLocator(new LandmarkMouthLocatorOptions { Tracker = frontEnd.Tracker(parse), LandmarkEvery = 1 });
            var source = frontEnd.Load(path, parse);
            var landmarks = locator.Landmarks(source, out var missing);
            if (parse.GetValue(json))
            {
                io.WriteJson(new LandmarksResult(path, source.FrameCount, source.Fps, source.Width, source.Height, source.SourceFps, source.SourceFrameCount,
                    Math.Round(source.SourceDurationSeconds, 4), missing, LandmarkJson(landmarks)));
                return 0;
            }
            io.Out.WriteLine($"{path}: {source.FrameCount} frames at {source.Fps:0.##} fps, {source.Width}x{source.Height}; no face in {missing.Length} frame(s)");
            io.Out.WriteLine("frame  confidence  mouth centre (x, y)  width  angle");
            for (int t = 0; t < landmarks.Length; t++)
            {
                var m = landmarks[t].Mouth();
                io.Out.WriteLine($"{t,5}  {landmarks[t].Confidence,10:0.000}  ({m.CenterX,7:0.0}, {m.CenterY,7:0.0})  {m.Width,5:0.0}  {m.Angle * 180 / MathF.PI,5:0.0}{(landmarks[t].Interpolated ? "  interpolated" : "")}");
            }
            return 0;
        });
        return command;
    }

    private static FrameLandmarks[] LandmarkJson(IReadOnlyList<FaceLandmarks> landmarks) => landmarks.Select((l, t) => new FrameLandmarks(t,
        MathF.Round(l.Confidence, 4), l.Interpolated,
        Enumerable.Range(0, FaceLandmarks.Count).Select(i => new[] { MathF.Round(l.X(i), 2), MathF.Round(l.Y(i), 2), MathF.Round(l.Points[3 * i + 2], 2) }).ToArray(),
        FaceLandmarks.Lips.Select(i => new[] { MathF.Round(l.X(i), 2), MathF.Round(l.Y(i), 2) }).ToArray())).ToArray();

    internal static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w > 0 && h > 0)
            return (w, h);
        throw new LipNet.ML.TensorShapeException($"size '{text}' is not WxH with both sides positive (e.g. 100x50)");
    }

    private sealed record FrameLandmarks(int Frame, float Confidence, bool Interpolated, float[][] Points, float[][] Lips);

    private sealed record CropResult(string Video, int Frames, double Fps, int Width, int Height, int[][] Boxes, float[] Angles, string Profile,
        double SourceFps, int SourceFrames, double Duration, IReadOnlyList<int> MissingFrames,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] FrameLandmarks[]? Landmarks);

    private sealed record LandmarksResult(string Video, int Frames, double Fps, int Width, int Height, double SourceFps, int SourceFrames, double Duration,
        IReadOnlyList<int> MissingFrames, FrameLandmarks[] Landmarks);
}
