using System.CommandLine;
using System.Globalization;
using System.Text;
using LipNet.ML;
using LipNet.ML.Corpora;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Runtime;

namespace LipNet.Cli;

/// <summary>
/// <c>lipnet evaluate &lt;corpus-dir&gt; --model &lt;onnx&gt; --out &lt;dir&gt;</c>: transcribes a corpus (or a split of it)
/// and writes JSON and Markdown reports and PNG plots.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(CliIO io)
    {
        var corpus = new Argument<DirectoryInfo>("corpus-dir") { Description = "Corpus root (GRID layout and the others `stats` reads)." };
        var model = new Option<FileInfo?>("--model") { Description = "ONNX model with a model card (default: the embedded default model)." };
        var split = new Option<string>("--split") { Description = "all, overlapped:N (N test clips per speaker), unseen:N (N test speakers) or list:FILE (the clips FILE names, speaker/id a line); the test side is evaluated.", DefaultValueFactory = _ => "all" }.SplitSyntax(counted: true, "all");
        var seed = new Option<int>("--seed") { Description = "Seed of the split.", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for report.json, report.md and the plots.", Required = true }.OutputPath();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (sentences, cer, wer, cer_mean, wer_mean, bleu, per_speaker ...)." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report unreadable videos and malformed labels and go on." };
        var beam = (new Option<int>("--beam") { Description = "Beam width (0 = greedy).", DefaultValueFactory = _ => 100 }).BeamWidth();
        var grammar = new Option<string>("--grammar") { Description = "grid or none.", DefaultValueFactory = _ => "none" };
        grammar.AcceptOnlyFromAmong("grid", "none");
        var device = OptionRanges.DeviceOption();
        var mirror = new Option<bool>("--mirror-average") { Description = "Also read every clip mirrored and average both outputs (twice the model time)." };
        var landmarkEvery = ModelCommands.LandmarkEveryOption();
        var command = new Command("evaluate", "Transcribe a corpus and report CER/WER/BLEU overall and per speaker, with plots.")
            { corpus, model, split, seed, output, json, skipBad, beam, grammar, device, mirror, landmarkEvery };
        command.SetAction(parse =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var reader = CorpusReader.Open(parse.GetValue(corpus)!.FullName, new CorpusReadOptions { SkipBad = parse.GetValue(skipBad) });
            var items = reader.Read().ToList();
            var test = SelectSplit(items, parse.GetValue(split)!, parse.GetValue(seed));
            if (items.Count == 0)
                throw new CorpusFormatException($"no clips found: not a {reader.Name} corpus", reader.Root);
            if (test.Count == 0)
                throw new LipNetException($"the split '{parse.GetValue(split)}' selects no clips of the {items.Count}", reader.Root);
            var options = new LipReaderOptions
            {
                Landmarks = ModelCommands.Landmarks(parse, landmarkEvery),
                Session = new LipNetSessionOptions { Device = parse.GetValue(device)!, Log = m => io.Error.WriteLine(m) },
                BeamWidth = parse.GetValue(beam),
                GridGrammar = parse.GetValue(grammar) == "grid",
                MirrorAverage = parse.GetValue(mirror),
            };
            using var lipReader = ModelCommands.OpenReader(parse.GetValue(model), options);
            var evaluation = new EvaluationOptions
            {
                Corpus = $"{reader.Name} {Path.GetFileName(Path.TrimEndingDirectorySeparator(reader.Root))}",
                Split = parse.GetValue(split)!,
                Seed = parse.GetValue(seed),
            };
            EvaluationReport report = null!;
            io.WithProgress("transcribing", test.Count, tick => report = lipReader.Evaluate(test, evaluation, new TrainCommands.SynchronousProgress<Transcription>(_ => tick())));
            foreach (var p in reader.Problems)
                io.Skipped(p.Path, p.Reason);
            foreach (var f in report.Failed)
                io.Skipped(f.Source, f.Reason);
            if (report.Failed.Count > 0 && !parse.GetValue(skipBad))
                throw new LipNetException($"{report.Failed.Count} video(s) could not be read, first: {report.Failed[0].Reason} (use --skip-bad to report and go on)");
            // The corpus reader's own problems (unreadable labels, videos without labels) are reported with the clips that failed.
            report = report with
            {
                Model = parse.GetValue(model)?.FullName ?? lipReader.Model.Source,
                Failed = [.. reader.Problems.Select(p => new TranscriptionFailure(p.Path, p.Reason)), .. report.Failed],
                Seconds = Math.Round(started.Elapsed.TotalSeconds, 2),
            };
            var dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "report.json"), System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions(CliIO.Json) { WriteIndented = true }));
            File.WriteAllText(Path.Combine(dir, "report.md"), Markdown(report));
            Plots(report, dir);
            if (parse.GetValue(json))
                io.WriteJson(new { sentences = report.Sentences, cer = report.Cer, wer = report.Wer, cer_interval = report.CerInterval, wer_interval = report.WerInterval, cer_mean = report.CerMean, wer_mean = report.WerMean, bleu = report.Bleu, per_speaker = report.PerSpeaker, failed = report.Failed.Count, report = Path.Combine(dir, "report.json") });
            else
                io.Out.WriteLine($"{report.Sentences} sentences: CER {report.Cer:P2} [{report.CerInterval[0]:P2}, {report.CerInterval[1]:P2}], WER {report.Wer:P2}, mean CER {report.CerMean:P2}, mean WER {report.WerMean:P2}, BLEU {report.Bleu:0.000}; report in {dir}");
            return 0;
        });
        return command;
    }

    /// <summary>A report.json's corpus figures as a model-card accuracy entry (test set: corpus and split).</summary>
    internal static LipNet.ML.Onnx.MeasuredAccuracy ReadAccuracy(string reportPath)
    {
        EvaluationReport? report;
        try
        {
            report = System.Text.Json.JsonSerializer.Deserialize<EvaluationReport>(File.ReadAllText(reportPath), CliIO.Json);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException)
        {
            throw new LipNetException($"not a readable evaluate report ({ex.Message})", reportPath);
        }
        if (report is null || report.Sentences <= 0)
            throw new LipNetException("evaluate report has no sentences", reportPath);
        return new LipNet.ML.Onnx.MeasuredAccuracy($"{report.Corpus} ({report.Split})", report.Sentences, report.Cer, report.Wer, report.CerMean, report.WerMean, report.Decoder);
    }

    internal static List<CorpusItem> SelectSplit(List<CorpusItem> items, string spec, int seed)
    {
        if (spec == "all")
            return items;
        if (spec.StartsWith("list:", StringComparison.Ordinal))
        {
            var listed = TrainCommands.ReadClipList(spec[5..]);
            return items.Where(i => listed.Contains(TrainCommands.ClipKey(i))).ToList();
        }
        return TrainCommands.Split(spec, items, seed, "all, overlapped:N, unseen:N or list:FILE").Test.ToList();
    }

    private static string Markdown(EvaluationReport r)
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"# Evaluation: {r.Corpus} ({r.Split})");
        sb.AppendLine();
        sb.AppendLine(ci, $"Model `{Path.GetFileName(r.Model)}`, decoder {r.Decoder}, {r.Sentences} sentences, {r.Seconds} s.");
        sb.AppendLine();
        sb.AppendLine("| | CER | WER | mean CER | mean WER | BLEU |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- |");
        sb.AppendLine(ci, $"| all | {r.Cer:P2} [{r.CerInterval[0]:P2}, {r.CerInterval[1]:P2}] | {r.Wer:P2} [{r.WerInterval[0]:P2}, {r.WerInterval[1]:P2}] | {r.CerMean:P2} | {r.WerMean:P2} | {r.Bleu:0.000} |");
        foreach (var (speaker, s) in r.PerSpeaker)
            sb.AppendLine(ci, $"| {speaker} ({s.Sentences}) | {s.Cer:P2} [{s.CerInterval[0]:P2}, {s.CerInterval[1]:P2}] | {s.Wer:P2} | {s.CerMean:P2} | {s.WerMean:P2} | {s.Bleu:0.000} |");
        sb.AppendLine();
        sb.AppendLine("CER/WER: corpus-level (total edits / total reference length) with 95% bootstrap intervals; mean: average of per-sentence rates; BLEU: mean character BLEU-4 (as rizkiarm/LipNet).");
        sb.AppendLine();
        sb.AppendLine("## Worst sentences");
        sb.AppendLine();
        foreach (var w in r.Worst)
            sb.AppendLine(ci, $"- CER {w.Cer:P1}: \"{w.Text}\" for \"{w.Truth}\" ({Path.GetFileName(w.Video)})");
        sb.AppendLine();
        sb.AppendLine("## Letter confusions (truth → read as)");
        sb.AppendLine();
        foreach (var c in r.LetterConfusions)
            sb.AppendLine(ci, $"- '{c.Truth}' → '{c.ReadAs}': {c.Count}");
        if (r.Failed.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Skipped");
            sb.AppendLine();
            foreach (var f in r.Failed)
                sb.AppendLine(ci, $"- {f.Source}: {f.Reason}");
        }
        sb.AppendLine();
        sb.AppendLine("![CER per speaker](per_speaker_cer.png) ![CER histogram](cer_histogram.png)");
        return sb.ToString();
    }

    private static void Plots(EvaluationReport r, string dir)
    {
        double[] sentenceCer = (r.Clips ?? []).Select(c => c.Cer).ToArray();
        var bars = new ScottPlot.Plot();
        var speakers = r.PerSpeaker.Keys.ToArray();
        for (int i = 0; i < speakers.Length; i++)
        {
            var s = r.PerSpeaker[speakers[i]];
            var bar = bars.Add.Bar(i, s.Cer * 100);
            bar.Bars[0].Error = (s.CerInterval[1] - s.CerInterval[0]) * 50;
        }
        bars.Axes.Bottom.SetTicks(Enumerable.Range(0, speakers.Length).Select(i => (double)i).ToArray(), speakers);
        bars.Title($"CER per speaker ({r.Decoder})");
        bars.YLabel("CER (%), bars: ± half the 95% bootstrap interval");
        bars.Axes.Margins(bottom: 0);
        bars.SavePng(Path.Combine(dir, "per_speaker_cer.png"), 800, 450);

        var histogram = new ScottPlot.Plot();
        var hist = ScottPlot.Statistics.Histogram.WithBinCount(20, 0, Math.Max(0.01, sentenceCer.DefaultIfEmpty(0).Max()) * 100);
        hist.AddRange(sentenceCer.Select(c => c * 100));
        histogram.Add.Histogram(hist);
        histogram.Title("Sentence CER");
        histogram.XLabel("CER (%)");
        histogram.YLabel("sentences");
        histogram.SavePng(Path.Combine(dir, "cer_histogram.png"), 800, 450);
    }
}
