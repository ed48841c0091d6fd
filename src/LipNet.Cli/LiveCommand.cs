using System.CommandLine;
using System.Diagnostics;
using LipNet.ML;
using LipNet.ML.Runtime;
using LipNet.ML.Video;

namespace LipNet.Cli;

/// <summary>
/// <c>lipnet live --camera N | --input FILE-OR-URL [--realtime]</c>: reads a live stream and prints each segment as soon
/// as it is final, with its latency (from the segment's last frame arriving to its output).
/// </summary>
internal static class LiveCommand
{
    public static Command Create(CliIO io)
    {
        var camera = new Option<int?>("--camera") { Description = "Camera index (0 = the first; V4L2 on Linux)." };
        camera.Validators.Add(r =>
        {
            if (r.TryValue(out int? v) && v < 0)
                r.AddError($"--camera must be at least 0 (got {v})");
        });
        var input = new Option<string?>("--input") { Description = "A video file or a stream URL (rtsp://, http://, udp:// ...)." };
        var realtime = new Option<bool>("--realtime") { Description = "Deliver a file at its frame rate (a file standing in for a camera)." };
        var model = new Option<FileInfo?>("--model") { Description = "ONNX model with a model card (default: the embedded default model)." };
        var beam = (new Option<int>("--beam") { Description = "Beam width (0 = greedy).", DefaultValueFactory = _ => 100 }).BeamWidth();
        var grammar = new Option<string>("--grammar") { Description = "grid (only GRID sentences) or none.", DefaultValueFactory = _ => "none" };
        grammar.AcceptOnlyFromAmong("grid", "none");
        var partials = new Option<bool>("--partials") { Description = "Also print partial readings of the open segment (stderr): fast greedy previews, without the beam, grammar or language model of the final segments." };
        var json = new Option<bool>("--json") { Description = "One JSON object per final segment (JSON lines), then a summary object." };
        var openTimeout = new Option<double>("--open-timeout") { Description = "Seconds a camera or URL may take to open.", DefaultValueFactory = _ => 10 }.Positive();
        var command = new Command("live", "Read the lips in a live stream (camera, URL, or a file paced as one), printing segments as they are final.")
            { camera, input, realtime, model, beam, grammar, partials, json, openTimeout };
        command.Validators.Add(result =>
        {
            if (result.TryValue(camera, out int? n) && result.TryValue(input, out string? path) && (n is null) == (path is null))
                result.AddError("give exactly one of --camera N and --input FILE-OR-URL");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var reader = ModelCommands.OpenReader(parse.GetValue(model), new LipReaderOptions
            {
                BeamWidth = Math.Max(0, parse.GetValue(beam)),
                GridGrammar = parse.GetValue(grammar) == "grid",
            });
            var read = new VideoReadOptions
            {
                TargetFps = reader.Model.Card.Fps > 0 ? reader.Model.Card.Fps : 25,
                OpenTimeout = TimeSpan.FromSeconds(parse.GetValue(openTimeout)),
                ReadTimeout = TimeSpan.FromSeconds(parse.GetValue(openTimeout)),
            };
            using var video = parse.GetValue(camera) is { } index ? VideoReader.OpenCamera(index, read) : VideoReader.Open(parse.GetValue(input)!, read);
            bool asJson = parse.GetValue(json);
            // When each frame arrived (wall clock), to measure latency from a segment's last frame to its output.
            var arrivals = new Queue<(TimeSpan FrameTime, TimeSpan Wall)>();
            var wall = Stopwatch.StartNew();
            async IAsyncEnumerable<VideoFrame> Frames()
            {
                await foreach (var f in video.ReadFramesAsync(parse.GetValue(realtime), cancellationToken))
                {
                    arrivals.Enqueue((f.Time, wall.Elapsed));
                    while (arrivals.Count > 0 && f.Time - arrivals.Peek().FrameTime > TimeSpan.FromSeconds(60))
                        arrivals.Dequeue();
                    yield return f;
                }
            }
            int segments = 0;
            var latencies = new List<double>();
            TimeSpan lastFrame = TimeSpan.Zero;
            await foreach (var s in reader.TranscribeAsync(Frames(), video.Source, cancellationToken))
            {
                lastFrame = s.LastFrameTime > lastFrame ? s.LastFrameTime : lastFrame;
                if (!s.IsFinal)
                {
                    if (parse.GetValue(partials))
                        io.Error.WriteLine($"  ... {Subtitles.Time(s.Start, '.')} {s.Text}");
                    continue;
                }
                var arrived = arrivals.Where(a => a.FrameTime >= s.End).Select(a => (TimeSpan?)a.Wall).FirstOrDefault() ?? wall.Elapsed;
                double latency = Math.Max(0, (wall.Elapsed - arrived).TotalSeconds);
                latencies.Add(latency);
                segments++;
                if (asJson)
                    io.WriteJson(new { start = Math.Round(s.Start.TotalSeconds, 3), end = Math.Round(s.End.TotalSeconds, 3), text = s.Text, latency = Math.Round(latency, 3) });
                else
                    io.Out.WriteLine($"[{Subtitles.Time(s.Start, '.')} --> {Subtitles.Time(s.End, '.')}] {s.Text}  (latency {latency:0.00} s)");
                await io.Out.FlushAsync(cancellationToken);
            }
            double media = video.FramesYielded / read.TargetFps!.Value, seconds = wall.Elapsed.TotalSeconds;
            var summary = new
            {
                source = video.Source,
                frames = video.FramesYielded,
                media_seconds = Math.Round(media, 3),
                wall_seconds = Math.Round(seconds, 3),
                segments,
                latency_mean = latencies.Count == 0 ? 0 : Math.Round(latencies.Average(), 3),
                latency_max = latencies.Count == 0 ? 0 : Math.Round(latencies.Max(), 3),
            };
            if (asJson)
                io.WriteJson(summary);
            else
                io.Error.WriteLine($"{summary.frames} frames ({summary.media_seconds} s) in {summary.wall_seconds} s; {segments} segment{(segments == 1 ? "" : "s")}, latency mean {summary.latency_mean} s, max {summary.latency_max} s");
            return 0;
        });
        return command;
    }
}
