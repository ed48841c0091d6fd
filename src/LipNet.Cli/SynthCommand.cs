using System.CommandLine;
using System.Diagnostics;
using LipNet.ML.Synthesis;

namespace LipNet.Cli;

/// <summary><c>lipnet synth --out &lt;dir&gt; --speakers N --clips-per-speaker M --seed S</c>: a GRID-style synthetic corpus.</summary>
internal static class SynthCommand
{
    public static Command Create(CliIO io)
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Corpus root to write (GRID layout: video/sNN, align/sNN).", Required = true }.OutputPath();
        var speakers = (new Option<int>("--speakers") { Description = "Number of synthetic speakers (1-100000).", DefaultValueFactory = _ => 2 }).Within(1, 100_000);
        var clips = (new Option<int>("--clips-per-speaker") { Description = "Clips per speaker (1-100000; at most a million clips in all).", DefaultValueFactory = _ => 5 }).Within(1, 100_000);
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed writes the same corpus.", DefaultValueFactory = _ => 0 };
        var format = new Option<string>("--format") { Description = "avi (MJPG), mp4 (mp4v) or mpg (MPEG-1).", DefaultValueFactory = _ => "avi" };
        format.AcceptOnlyFromAmong("avi", "mp4", "mpg");
        var size = new Option<string>("--size") { Description = "Frame size WxH (64..4096 pixels a side).", DefaultValueFactory = _ => "360x288" }.SizeWithin(64, 4096);
        var sentences = (new Option<int>("--sentences")
        {
            Description = "GRID sentences per clip (default 1). More writes long clips: monologues of N sentences by one speaker with " +
                "pauses between, 3 s per sentence, and word-level align files (e.g. --sentences 10: 30 s; 200: 10 minutes).",
            DefaultValueFactory = _ => 1,
        }).Within(1, SyntheticCorpus.MaxSentencesPerClip);
        var mouthOnset = new Option<double?>("--mouth-onset")
        {
            Description = "Seconds before each sentence's first phoneme at which the mouth leaves its rest pose (default: a single clip's " +
                "mouth moves from its first frame, as in every synthetic corpus so far; a monologue's rests until 0.15 s before each sentence).",
        };
        mouthOnset.Validators.Add(r =>
        {
            if (r.TryValue(out double? v) && v is { } x && !(x > 0 && double.IsFinite(x)))
                r.AddError($"--mouth-onset must be a positive number of seconds (got {x})");
        });
        var json = new Option<bool>("--json") { Description = "Print one JSON object: written, skipped, failed, seconds." };
        var command = new Command("synth", "Render a GRID-style synthetic talking-mouth corpus (resumable: complete clips are kept).")
            { output, speakers, clips, seed, format, size, sentences, mouthOnset, json };
        command.Validators.Add(r =>
        {
            if (r.TryValue(speakers, out int s) && r.TryValue(clips, out int c) && (long)s * c > SyntheticCorpus.MaxClips)
                r.AddError($"--speakers x --clips-per-speaker must be at most {SyntheticCorpus.MaxClips:N0} clips (got {(long)s * c:N0})");
        });
        command.SetAction(parse =>
        {
            var (w, h) = CropCommand.ParseSize(parse.GetValue(size)!);
            var options = new SyntheticCorpusOptions
            {
                Speakers = parse.GetValue(speakers),
                ClipsPerSpeaker = parse.GetValue(clips),
                Seed = parse.GetValue(seed),
                Width = w,
                Height = h,
                Format = Enum.Parse<SyntheticVideoFormat>(parse.GetValue(format)!, ignoreCase: true),
                SentencesPerClip = parse.GetValue(sentences),
                MouthOnsetSeconds = parse.GetValue(mouthOnset),
            };
            if (options.Speakers < 1 || options.ClipsPerSpeaker < 1 || options.SentencesPerClip < 1)
                throw new LipNet.ML.LipNetException("--speakers, --clips-per-speaker and --sentences must be at least 1");
            string root = parse.GetValue(output)!.FullName;
            var sw = Stopwatch.StartNew();
            SyntheticCorpusReport report = null!;
            io.WithProgress("rendering clips", options.Speakers * options.ClipsPerSpeaker, tick => report = SyntheticCorpus.Write(root, options, tick));
            double seconds = Math.Round(sw.Elapsed.TotalSeconds, 2);
            if (parse.GetValue(json))
            {
                io.WriteJson(new { root, written = report.Written, skipped = report.Skipped, failed = report.Failed, seconds });
            }
            else
            {
                io.Out.WriteLine($"{root}: {report.Written} clips written, {report.Skipped} already there, {report.Failed.Count} failed, in {seconds} s");
                foreach (var f in report.Failed)
                    io.Error.WriteLine($"failed: {f.Path}: {f.Reason}");
            }
            return report.Failed.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
