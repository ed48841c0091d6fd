using System.CommandLine;
using System.Diagnostics;
using Google.Protobuf;
using LipNet.ML;
using LipNet.ML.Corpora;
using LipNet.ML.Decoding;
using LipNet.ML.Metrics;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;

namespace LipNet.Cli;

/// <summary><c>import</c>, <c>transcribe</c> and <c>bench</c>: the commands that use a model.</summary>
internal static class ModelCommands
{
    /// <summary>A reader over --model when given, else over the default model embedded in LipNet.ML.</summary>
    internal static LipReader OpenReader(FileInfo? model, LipReaderOptions options) =>
        model is not null ? new LipReader(model.FullName, options) : LipReader.Default(options);

    /// <summary><c>--landmark-every N</c>: Face Mesh on every N-th frame for models whose crop profile uses landmarks.</summary>
    internal static Option<int> LandmarkEveryOption()
    {
        var option = (new Option<int>("--landmark-every")
        {
            Description = "Landmark profiles: run Face Mesh on every N-th frame and interpolate between (faster; 1 = every frame; at most 10, " +
                "the shortest stretch of speech that is read: sparser landmarks miss the lip movement that finds speech).",
            DefaultValueFactory = _ => new LipNet.ML.Mouth.LandmarkMouthLocatorOptions().LandmarkEvery,
        });
        option.Validators.Add(r =>
        {
            if (r.TryValue(out int v) && v is < 1 or > 10)
                r.AddError($"--landmark-every must lie in 1..10 (got {v})");
        });
        return option;
    }

    internal static LipNet.ML.Mouth.LandmarkMouthLocatorOptions Landmarks(ParseResult parse, Option<int> every) => new() { LandmarkEvery = parse.GetValue(every) };

    public static Command Import(CliIO io)
    {
        var keras = new Option<FileInfo?>("--keras") { Description = "rizkiarm/LipNet Keras 2 weights (.h5, save_weights or a full model file); --arch rizkiarm." };
        var torch = new Option<FileInfo?>("--torch") { Description = "LipNet-PyTorch (VIPL) checkpoint (.pt, torch.save state_dict, zip or legacy format); --arch vipl." };
        var safetensors = new Option<FileInfo?>("--safetensors") { Description = "Safetensors with LipNet-PyTorch names (conv1.weight, gru1.weight_ih_l0, FC.weight ...); --arch Paper or Small." };
        var arch = new Option<string?>("--arch") { Description = "The network: rizkiarm (--keras), vipl (--torch), Paper or Small (--safetensors; default Paper)." };
        var output = new Option<FileInfo>("--out") { Description = "ONNX model to write.", Required = true }.OutputPath();
        var blank = new Option<string>("--blank") { Description = "--safetensors only: first (blank, space, a..z) or last (a..z, space, blank).", DefaultValueFactory = _ => "first" };
        blank.AcceptOnlyFromAmong("first", "last");
        var fp16 = new Option<bool>("--fp16") { Description = "Store weights as float16 (half the size)." };
        var command = new Command("import", "Build an ONNX model (with model card) from public LipNet weights: Keras .h5, PyTorch .pt or safetensors.")
        {
            keras, torch, safetensors, arch, output, blank, fp16,
        };
        command.Validators.Add(r =>
        {
            var given = new[] { keras, torch, safetensors }.Where(o => r.GetResult(o) is not null).ToList();
            if (given.Count != 1)
            {
                r.AddError("give exactly one of --keras, --torch, --safetensors");
                return;
            }
            string? name = r.GetValue(arch)?.ToLowerInvariant();
            string? wrong = given[0] == keras ? (name is null or LipNetImport.Rizkiarm ? null : LipNetImport.Rizkiarm)
                : given[0] == torch ? (name is null or LipNetImport.Vipl ? null : LipNetImport.Vipl)
                : (name is null or "paper" or "small" ? null : "Paper or Small");
            if (wrong is not null)
                r.AddError($"{given[0].Name} takes --arch {wrong}, not '{r.GetValue(arch)}'");
            if (r.GetResult(blank) is { Implicit: false } && given[0] != safetensors)
                r.AddError("--blank applies to --safetensors only (Keras and PyTorch files set their own vocabulary order)");
        });
        command.SetAction(parse =>
        {
            ImportedLipNet imported;
            if (parse.GetValue(keras) is { } h5)
                imported = LipNetImport.FromKeras(h5.FullName);
            else if (parse.GetValue(torch) is { } pt)
                imported = LipNetImport.FromTorch(pt.FullName);
            else
                imported = LipNetImport.FromSafeTensors(parse.GetValue(safetensors)!.FullName, LipNetArchitecture.Preset(parse.GetValue(arch) ?? "Paper"),
                    parse.GetValue(blank) == "first" ? BlankPosition.First : BlankPosition.Last);
            string outPath = parse.GetValue(output)!.FullName;
            imported.Save(outPath, parse.GetValue(fp16));
            var (a, card) = (imported.Architecture, imported.Card);
            io.Out.WriteLine($"{outPath}: {a.Name}, {a.ParameterCount:N0} parameters, {new FileInfo(outPath).Length / 1048576.0:0.0} MiB; input {card.Width}x{card.Height} " +
                $"{card.ChannelOrder.ToString().ToUpperInvariant()}, crop profile {card.CropProfile ?? "haar"}, blank {card.Blank.ToString().ToLowerInvariant()}");
            return 0;
        });
        return command;
    }

    /// <summary>One video in <c>transcribe --json</c>: a failure keeps its place in the array, with <c>error</c> set and no text.</summary>
    private sealed record TranscribeResult(string Video, string? Text, string? Truth, double? Cer, double? Wer, double? Seconds, IReadOnlyList<SegmentJson> Segments,
        double? Confidence, string? Error = null);

    /// <summary>A segment in the JSON contract: times in seconds from the video's start.</summary>
    internal sealed record SegmentJson(double Start, double End, string Text, IReadOnlyList<WordJson> Words)
    {
        public static SegmentJson Of(TranscriptSegment s) => new(Seconds(s.Start), Seconds(s.End), s.Text,
            s.Words.Select(w => new WordJson(w.Word, Seconds(w.Start), Seconds(w.End), Math.Round(w.Confidence, 4))).ToList());

        private static double Seconds(TimeSpan t) => Math.Round(t.TotalSeconds, 3);
    }

    internal sealed record WordJson(string Word, double Start, double End, double Confidence);

    public static Command Transcribe(CliIO io)
    {
        var videos = new Argument<FileInfo[]>("video") { Description = "Video files.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<FileInfo?>("--model") { Description = "ONNX model with a model card (default: the embedded default model)." };
        var beam = (new Option<int>("--beam") { Description = "Beam width (0 = greedy).", DefaultValueFactory = _ => 100 }).BeamWidth();
        var grammar = new Option<string>("--grammar") { Description = "grid (only GRID sentences) or none.", DefaultValueFactory = _ => "none" };
        grammar.AcceptOnlyFromAmong("grid", "none");
        var lm = new Option<FileInfo?>("--lm") { Description = "ARPA language model." };
        var lmUnit = new Option<string>("--lm-unit") { Description = "word or char.", DefaultValueFactory = _ => "word" };
        lmUnit.AcceptOnlyFromAmong("word", "char");
        var alpha = new Option<float>("--alpha") { Description = "Language model weight.", DefaultValueFactory = _ => 0.5f }.Within(0, 100);
        var beta = new Option<float>("--beta") { Description = "Word insertion bonus.", DefaultValueFactory = _ => 0f }.Within(-100, 100);
        var device = OptionRanges.DeviceOption();
        var truth = new Option<string?>("--truth") { Description = "Ground-truth text (else from a GRID .align or the GRID file name)." };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON array, an object per video in order: video, text, truth, cer, wer, seconds, segments, confidence, error " +
                "(a video that failed has error set and no text). Same as --format json.",
        };
        var format = new Option<string>("--format")
        {
            Description = "text (one line per video), json (as --json), srt or vtt (subtitles of one video: a cue per segment between pauses).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "srt", "vtt");
        var mirror = new Option<bool>("--mirror-average") { Description = "Also read every clip mirrored and average both outputs (twice the model time)." };
        var landmarkEvery = LandmarkEveryOption();
        var command = new Command("transcribe", "Read the lips in videos of any length (longer than the model's window: read between pauses, streamed).")
            { videos, model, beam, grammar, lm, lmUnit, alpha, beta, device, truth, json, format, mirror, landmarkEvery };
        command.RejectingUnknownOptions(videos);
        command.Validators.Add(result =>
        {
            if (result.TryValue(videos, out var paths) && paths is not null && paths.Any(p => p is null || p.Name.Length == 0))
                result.AddError("a video path is empty");
            if (!result.TryValue(format, out string? f) || !result.TryValue(json, out bool asJson))
                return;
            // --format text is the default: only an explicit one contradicts --json.
            if (asJson && (f is "srt" or "vtt" || (f == "text" && result.GetResult(format) is { Implicit: false })))
                result.AddError($"--json and --format {f} ask for two outputs: choose one");
            if (f is "srt" or "vtt" && paths is { Length: > 1 })
                result.AddError($"--format {f} writes the subtitles of one video: give one video");
        });
        command.SetAction(parse =>
        {
            string outputFormat = parse.GetValue(json) ? "json" : parse.GetValue(format)!;
            var options = new LipReaderOptions
            {
                Landmarks = Landmarks(parse, landmarkEvery),
                Session = new LipNetSessionOptions { Device = parse.GetValue(device)!, Log = m => io.Error.WriteLine(m) },
                Logger = new TextWriterLogger(io.Error), // warnings, e.g. a long video cut short
                BeamWidth = parse.GetValue(beam),
                GridGrammar = parse.GetValue(grammar) == "grid",
                MirrorAverage = parse.GetValue(mirror),
                LanguageModel = parse.GetValue(lm) is { } arpa ? NGramLanguageModel.LoadArpa(arpa.FullName, parse.GetValue(lmUnit) == "char" ? LanguageModelUnit.Character : LanguageModelUnit.Word) : null,
                Alpha = parse.GetValue(alpha),
                Beta = parse.GetValue(beta),
            };
            using var reader = OpenReader(parse.GetValue(model), options);
            var results = new List<TranscribeResult>();
            int failed = 0;
            foreach (var video in parse.GetValue(videos)!)
            {
                try
                {
                    var t = reader.Transcribe(video.FullName);
                    string? reference = parse.GetValue(truth) ?? TruthFor(video.FullName);
                    // Distances only (two rows of memory): a 10-minute transcript's full alignment would take hundreds of MB.
                    string? normalized = reference is null ? null : LipNet.ML.Decoding.CtcVocabulary.NormalizeForScoring(reference);
                    double? cer = normalized is null ? null : ErrorRates.CorpusCer([normalized], [t.Text]);
                    double? wer = normalized is null ? null : ErrorRates.CorpusWer([normalized], [t.Text]);
                    var r = new TranscribeResult(video.FullName, t.Text, normalized, cer, wer, Math.Round(t.Seconds, 4),
                        t.Segments.Select(SegmentJson.Of).ToList(), Math.Round(t.Confidence, 4));
                    results.Add(r);
                    if (outputFormat == "srt")
                        io.Out.Write(Subtitles.Srt(t.Segments));
                    else if (outputFormat == "vtt")
                        io.Out.Write(Subtitles.WebVtt(t.Segments));
                    else if (outputFormat == "text")
                        io.Out.WriteLine($"{r.Video}: \"{r.Text}\"" + (r.Truth is null ? "" : $"  truth \"{r.Truth}\"  CER {r.Cer:P1}  WER {r.Wer:P1}") + $"  ({r.Seconds:0.00} s)");
                }
                catch (LipNetException ex) when (ex is not ModelLoadException)
                {
                    failed++;
                    io.Error.WriteLine($"error: {ex.Message}");
                    results.Add(new TranscribeResult(video.FullName, null, null, null, null, null, [], null, ex.Reason));
                }
            }
            if (outputFormat == "json")
                io.WriteJson(results);
            return failed == 0 ? 0 : CliApp.BadInput;
        });
        return command;
    }

    /// <summary>Ground truth for a video: its GRID align file (beside or mirrored), else its GRID file name.</summary>
    internal static string? TruthFor(string video)
    {
        if (GridAlign.FindFor(video) is { } align)
            return string.Join(' ', GridAlign.Load(align).Select(w => w.Word));
        // A GRID id as the name, or ending it after an underscore (Lombard GRID's s2_l_bbim3a).
        string name = Path.GetFileNameWithoutExtension(video);
        if (GridGrammar.TryParseId(name, out var sentence) || GridGrammar.TryParseId(name[(name.LastIndexOf('_') + 1)..], out sentence))
            return sentence;
        return null;
    }

    public static Command Bench(CliIO io)
    {
        var videos = new Argument<FileInfo[]>("video") { Description = "Video files.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<FileInfo?>("--model") { Description = "ONNX model with a model card (default: the embedded default model)." };
        var batch = (new Option<int>("--batch") { Description = "Clips per model run (1-1024).", DefaultValueFactory = _ => 1 }).Within(1, 1024);
        var repeat = (new Option<int>("--repeat") { Description = "Passes over the videos after the warm-up.", DefaultValueFactory = _ => 3 }).AtLeast(1);
        // One thread per model run by default: then one model worker per core (LipReaderOptions.ModelWorkers) while every core
        // also decodes and crops the next clips (on 2 cores, Paper float, fixed crop: 10.0 clips/s against 8.7 with one model
        // thread beside one preprocessing core).
        var threads = (new Option<int>("--threads")
        {
            Description = "ONNX Runtime intra-op threads per model run (0 = one per logical processor; default 1: one model worker per core).",
            DefaultValueFactory = _ => 1,
        }).AtLeast(0);
        var locator = new Option<string>("--locator")
        {
            Description = "card (the model card's crop profile, as transcribe), haar, landmarks (mouth-centred) or fixed (a fixed region, as the PyTorch + OpenCV reference).",
            DefaultValueFactory = _ => "card",
        };
        locator.AcceptOnlyFromAmong("card", "haar", "landmarks", "fixed");
        var beam = (new Option<int>("--beam") { Description = "CTC beam width (0 = greedy).", DefaultValueFactory = _ => 100 }).BeamWidth();
        var landmarkEvery = LandmarkEveryOption();
        var command = new Command("bench", "Throughput: end to end and model only, with the time of each stage (one JSON object).") { videos, model, batch, repeat, threads, locator, beam, landmarkEvery };
        command.RejectingUnknownOptions(videos);
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(videos)!.Select(v => v.FullName).ToList();
            using var reader = OpenReader(parse.GetValue(model), new LipReaderOptions
            {
                Landmarks = Landmarks(parse, landmarkEvery),
                BatchSize = Math.Max(1, parse.GetValue(batch)),
                BeamWidth = Math.Max(0, parse.GetValue(beam)),
                Session = new LipNetSessionOptions { IntraOpThreads = parse.GetValue(threads) },
                Locator = parse.GetValue(locator) switch
                {
                    "fixed" => new LipNet.ML.Mouth.FixedRegionMouthLocator(),
                    "haar" => new LipNet.ML.Mouth.HaarMouthLocator(),
                    "landmarks" => LipNet.ML.Mouth.CropProfile.MouthCentred.CreateLocator(Landmarks(parse, landmarkEvery)),
                    _ => null,
                },
            });
            // Warm-up: one pass over every video, which also finds the unreadable ones before anything is timed.
            var failures = reader.TranscribeMany(paths).Failures;
            if (failures.Count > 0)
            {
                foreach (var f in failures)
                    io.Error.WriteLine($"error: {f.Reason}");
                throw new LipNetException($"{failures.Count} of {paths.Count} videos cannot be read: nothing to time");
            }
            // One call over all passes: the pipeline stays full instead of draining at the end of each pass.
            var passes = Enumerable.Repeat(paths, Math.Max(1, parse.GetValue(repeat))).SelectMany(p => p).ToList();
            var sw = Stopwatch.StartNew();
            var all = reader.TranscribeMany(passes).Transcriptions;
            double seconds = sw.Elapsed.TotalSeconds;
            double modelMs = all.Average(t => t.ModelMs);
            io.WriteJson(new
            {
                clips = all.Count,
                clips_per_s = Math.Round(all.Count / seconds, 3),
                model_clips_per_s = Math.Round(1000 / modelMs, 3),
                stages_ms = new
                {
                    decode = Math.Round(all.Average(t => t.Preprocess.DecodeMs), 3),
                    crop = Math.Round(all.Average(t => t.Preprocess.CropMs), 3),
                    normalize = Math.Round(all.Average(t => t.Preprocess.NormalizeMs), 3),
                    model = Math.Round(modelMs, 3),
                    ctc = Math.Round(all.Average(t => t.DecodeMs), 3),
                },
            });
            return 0;
        });
        return command;
    }
}
