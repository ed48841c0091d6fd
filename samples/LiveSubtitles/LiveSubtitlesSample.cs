using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;
using LipNet.ML.Video;

namespace LipNet.Samples;

public static class LiveSubtitlesSample
{
    /// <summary>
    /// Streams a video file, URL or camera through <see cref="LipReader.TranscribeAsync"/> (frames at the model's rate,
    /// partial and final segments back), printing final segments as they come, and writes their subtitles (SRT).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        bool realtime = args.Contains("--realtime");
        int cameraAt = Array.IndexOf(args, "--camera");
        var rest = args.Where((a, i) => a != "--realtime" && (cameraAt < 0 || (i != cameraAt && i != cameraAt + 1))).ToList();
        string? srt = rest.FirstOrDefault(a => a.EndsWith(".srt", StringComparison.OrdinalIgnoreCase));
        string? input = rest.FirstOrDefault(a => a != srt);
        if (input is null && cameraAt < 0)
        {
            // A 30 s monologue: ten GRID sentences said by an unseen synthetic speaker, with pauses between.
            string dir = Path.Combine(Path.GetTempPath(), "lipnet-live-sample");
            SyntheticCorpus.Write(dir, new SyntheticCorpusOptions { Speakers = 1, ClipsPerSpeaker = 1, SentencesPerClip = 10, Seed = 7, Format = SyntheticVideoFormat.Mp4 });
            input = Path.Combine(dir, "video", "s1", "monologue000.mp4");
        }

        // Beam search constrained to the GRID grammar: the default model reads GRID-style sentences.
        using var reader = LipReader.Default(new LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        var read = new VideoReadOptions { TargetFps = reader.Model.Card.Fps };
        using var video = cameraAt >= 0 ? VideoReader.OpenCamera(int.Parse(args[cameraAt + 1]), read) : VideoReader.Open(input!, read);
        var finals = new List<TranscriptSegment>();
        await foreach (var segment in reader.TranscribeAsync(video.ReadFramesAsync(realtime, cancellationToken), video.Source, cancellationToken))
        {
            if (!segment.IsFinal)
                continue; // partial readings of the segment still open: a UI would show them greyed
            finals.Add(segment);
            output.WriteLine($"[{Subtitles.Time(segment.Start, '.')} --> {Subtitles.Time(segment.End, '.')}] {segment.Text} (confidence {segment.Confidence:F2})");
        }
        if (srt is not null)
            await File.WriteAllTextAsync(srt, Subtitles.Srt(finals), cancellationToken);
        output.WriteLine($"{finals.Count} segments" + (srt is null ? "" : $", subtitles in {srt}"));
        return 0;
    }
}
