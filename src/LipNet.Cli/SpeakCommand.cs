using System.CommandLine;
using LipNet.ML;
using LipNet.ML.Corpora;
using LipNet.ML.LipToSpeech;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Training;

namespace LipNet.Cli;

/// <summary><c>lipnet speak</c>: silent video → speech (lip-to-speech): <c>speak &lt;video&gt; --out speech.wav</c>, <c>speak train</c>, <c>speak evaluate</c>.</summary>
internal static partial class SpeakCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("speak", "Lip-to-speech: a silent video's mouth → log-mel → speech (Griffin-Lim); train and evaluate such models.");
        command.Subcommands.Add(Train(io));
        AddSpeak(io, command);
        return command;
    }

    /// <summary>The lipreading model a lip-to-speech model starts from: "default" (embedded) or an ONNX file.</summary>
    private static (byte[] Bytes, string Source) Lipreading(string init)
    {
        if (init == "default" && !File.Exists(init))
            return (LipNetModel.DefaultModelBytes() ?? throw new ModelLoadException("this build has no embedded default model"), "embedded:" + LipNetModel.DefaultModelName);
        if (!File.Exists(init))
            throw new ModelLoadException("lipreading model not found", init);
        return (File.ReadAllBytes(init), Path.GetFullPath(init));
    }

    /// <summary>Clips with crops (through the crop cache) and mel targets; clips without audio are dropped and reported.</summary>
    internal static (ITrainingClips Clips, List<float[]> Mel) Data(IReadOnlyList<CorpusItem> items, ModelCard lipCard, LipToSpeechTrainingOptions options,
        string? cropCache, bool skipBad, CliIO io, string label)
    {
        var architecture = lipCard.Architecture!;
        var (mel, failures) = LipToSpeechTraining.MelTargets(items, architecture.Frames, options.Mel);
        foreach (var f in failures)
            io.Error.WriteLine($"skipped {f.Source}: {f.Reason}");
        if (failures.Count > 0 && !skipBad)
            throw new LipNetException($"{failures.Count} {label} could not be read, first: {failures[0].Reason} (use --skip-bad to report and go on)", failures[0].Source);
        var kept = Enumerable.Range(0, items.Count).Where(i => mel[i] is not null).ToList();
        var profile = lipCard.Profile();
        var cache = cropCache == "none" ? null
            : new CropCache(cropCache ?? CropCache.DefaultDirectory, $"{profile.Name} {architecture.Width}x{architecture.Height} {lipCard.Fps}fps");
        var clips = new CorpusTrainingClips(kept.Select(i => items[i]).ToList(), () => new LipNet.ML.Tensors.ClipPreprocessor(profile.CreateLocator(),
            new LipNet.ML.Mouth.MouthCropOptions { Width = architecture.Width, Height = architecture.Height },
            read: new LipNet.ML.Video.VideoReadOptions { TargetFps = lipCard.Fps }, ownsLocator: true), cache: false, diskCache: cache);
        ITrainingClips set = skipBad ? new SkippingTrainingClips(clips, ex => io.Error.WriteLine($"skipped {ex.FilePath}: {ex.Message}")) : clips;
        return (set, kept.Select(i => mel[i]!).ToList());
    }

    private static Command Train(CliIO io)
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Corpus root of videos with audio (GRID layout and the others `stats` reads).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder: checkpoints, epochs.csv, model.onnx (the best epoch's).", Required = true };
        var split = new Option<string>("--split") { Description = "list:FILE (the held-out clips, speaker/id a line: validation, never trained on) or none.", DefaultValueFactory = _ => "none" };
        var init = new Option<string>("--init") { Description = "Lipreading model whose front end (conv blocks, GRUs), crop profile and normalisation to start from: default or a .onnx file.", DefaultValueFactory = _ => "default" };
        var cropCache = new Option<string?>("--crop-cache") { Description = $"Folder keeping crops between runs (default {CropCache.DefaultDirectory}; 'none' = off)." };
        var epochs = (new Option<int>("--epochs") { Description = "Passes over the training clips.", DefaultValueFactory = _ => 20 }).AtLeast(1);
        var batch = (new Option<int>("--batch-size") { Description = "Clips per step.", DefaultValueFactory = _ => 8 }).AtLeast(1);
        var lr = (new Option<float>("--lr") { Description = "Peak learning rate (linear warm-up, cosine decay).", DefaultValueFactory = _ => 1e-3f }).Within(1e-7f, 1f);
        var dropout = (new Option<float>("--dropout") { Description = "Dropout after each conv block and GRU layer, in [0, 1).", DefaultValueFactory = _ => 0.1f }).Within(0f, 1f, maxExclusive: true);
        var seed = new Option<int>("--seed") { Description = "Seed of the head, the shuffles, flips and dropout masks.", DefaultValueFactory = _ => 0 };
        var threads = (new Option<int>("--threads") { Description = "ONNX Runtime threads (0 = one per logical processor).", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report clips without audio or face and go on." };
        var command = new Command("train", "Train a lip-to-speech model (mouth crops → log-mel, L1), starting from a lipreading model's front end.")
            { data, output, split, init, cropCache, epochs, batch, lr, dropout, seed, threads, resume, skipBad };
        command.SetAction(parse =>
        {
            var (bytes, source) = Lipreading(parse.GetValue(init)!);
            ModelCard lipCard;
            using (var lip = LipNetModel.Load(bytes, source))
                lipCard = lip.Card;
            if (lipCard.Architecture is null)
                throw new ModelLoadException("the lipreading model's card names no architecture", source);
            var reader = CorpusReader.Open(parse.GetValue(data)!.FullName, new CorpusReadOptions { SkipBad = true });
            var items = reader.Read().ToList();
            if (items.Count == 0)
                throw new CorpusFormatException($"no clips found: not a {reader.Name} corpus", reader.Root);
            var spec = parse.GetValue(split)!;
            var held = spec == "none" ? [] : spec.StartsWith("list:", StringComparison.Ordinal) ? TrainCommands.ReadClipList(spec[5..])
                : throw new LipNetException($"--split '{spec}' is not list:FILE or none");
            var options = new LipToSpeechTrainingOptions
            {
                Trainer = new TrainerOptions
                {
                    BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), WarmupSteps = 50, Dropout = parse.GetValue(dropout),
                    Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
                },
                Epochs = parse.GetValue(epochs),
                Provenance = "lipnet speak train " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var (train, trainMel) = Data(items.Where(i => !held.Contains(TrainCommands.ClipKey(i))).ToList(), lipCard, options, parse.GetValue(cropCache),
                parse.GetValue(skipBad), io, "training clips");
            var (validation, validationMel) = Data(items.Where(i => held.Contains(TrainCommands.ClipKey(i))).ToList(), lipCard, options, parse.GetValue(cropCache),
                parse.GetValue(skipBad), io, "validation clips");
            var state = LipToSpeechTraining.Train(train, trainMel, validation, validationMel, bytes, source, parse.GetValue(output)!.FullName, options,
                parse.GetValue(resume), new TextWriterLogger(io.Error));
            io.WriteJson(new
            {
                epochs = state.Epoch,
                steps = state.Step,
                best_epoch = state.BestEpoch,
                best_mel_l1 = state.Best,
                train_clips = train.Count,
                validation_clips = validation.Count,
                model = Path.Combine(parse.GetValue(output)!.FullName, LipToSpeechTraining.ModelFile),
            });
            return 0;
        });
        return command;
    }

    static partial void AddSpeak(CliIO io, Command speak);
}
