using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using LipNet.ML;
using LipNet.ML.Corpora;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Training;
using Microsoft.Extensions.Logging;

namespace LipNet.Cli;

/// <summary><c>train</c>, <c>export</c> and <c>bench-train</c>.</summary>
internal static class TrainCommands
{
    /// <summary>File the run's inference model is exported to (from the best checkpoint) inside --out.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The augmentation with word spans and splices at these chances; without other augmentation, those alone.</summary>
    private static FrameAugmentOptions? WithWordAugmentation(FrameAugmentOptions? augment, double spans, double splices) =>
        spans <= 0 && splices <= 0 ? augment
        : (augment ?? new FrameAugmentOptions { FlipProbability = 0, FrameJitterProbability = 0 }) with
        {
            WordSpanProbability = spans, WordSpliceProbability = splices,
        };

    public static Command Train(CliIO io)
    {
        var data = new Option<string[]>("--data")
        {
            Description = "Corpus root (GRID layout or any corpus `stats` reads), cropped as inference does with --profile; repeat it to mix corpora, " +
                          "ROOT*W weighting one: its clips appear W times an epoch (W = 0.5: a fixed seeded half).",
            AllowMultipleArgumentsPerToken = true,
        };
        var profile = new Option<string?>("--profile") { Description = "Crop profile of the training crops, written into the model card: haar, mouth-centred, mean-face or face-aligned (default: the profile of the --resume run or of the --init model's card, else haar)." };
        profile.AcceptOnlyFromAmong([.. LipNet.ML.Mouth.CropProfile.All.Select(p => p.Name)]);
        var cropCache = new Option<string?>("--crop-cache") { Description = $"Folder keeping crops between runs, keyed by video and profile (default {CropCache.DefaultDirectory}; 'none' = off)." };
        var augment = new Option<string>("--augment") { Description = "none, basic (flip + frame drop/duplicate) or full (also ±4 px shift, ±8% zoom, brightness ±20, contrast ±15%) or strong (±6 px, ±12%, and time masks of up to 10 frames per second).", DefaultValueFactory = _ => "basic" };
        augment.AcceptOnlyFromAmong("none", "basic", "full", "strong");
        var wordSpans = new Option<float>("--word-spans") { Description = "Chance that a clip with word times (GRID align files) is trained on as a span of its words at a random place in the window, the rest held still (the LipNet paper's single-word instances; 0 = off).", DefaultValueFactory = _ => 0f }.Within(0, 1);
        var wordSplice = new Option<float>("--word-splice") { Description = "Chance that one word of a clip with word times is replaced by the same place's word of another clip of its speaker (speaker ids are folder names: keep them distinct across --data roots; 0 = off).", DefaultValueFactory = _ => 0f }.Within(0, 1);
        var synthetic = new Option<string?>("--synthetic") { Description = "SxC: render S speakers x C clips in memory instead (true mouth boxes, no codec)." };
        var arch = new Option<string>("--arch") { Description = "Small or Paper.", DefaultValueFactory = _ => "Small" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder: checkpoints/, best/, steps.csv, epochs.csv, curves.png, model.onnx.", Required = true }.OutputPath();
        var split = new Option<string>("--split") { Description = "Validation split: unseen:N (N held-out speakers), overlapped:N (N clips per speaker), list:FILE (the clips FILE names, e.g. onnx/splits/s1-validation.txt) or none.", DefaultValueFactory = _ => "unseen:1" }.SplitSyntax(counted: true, "none");
        var epochs = (new Option<int>("--epochs") { Description = "Passes over the training draws.", DefaultValueFactory = _ => 10 }).AtLeast(1);
        var batchSize = (new Option<int>("--batch-size") { Description = "Clips per optimizer step (split into --accumulate micro-batches).", DefaultValueFactory = _ => 8 }).AtLeast(1);
        var accumulate = (new Option<int>("--accumulate") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => 1 }).AtLeast(1);
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (AdamW).", DefaultValueFactory = _ => 3e-3f }.Within(1e-8f, 1f);
        var warmup = (new Option<int>("--warmup") { Description = "Warm-up steps (then cosine annealing to the end of the last epoch).", DefaultValueFactory = _ => 50 }).AtLeast(0);
        var clip = new Option<float>("--clip") { Description = "Global gradient-norm clip (0 = off).", DefaultValueFactory = _ => 5f }.Within(0, 1e6f);
        var weightDecay = new Option<float>("--weight-decay") { Description = "AdamW decoupled weight decay.", DefaultValueFactory = _ => 1e-2f }.Within(0, 1);
        var dropout = new Option<float>("--dropout") { Description = "Dropout probability after each conv block (channel-wise) and each GRU layer (0 = none).", DefaultValueFactory = _ => 0f }.Within(0, 1, maxExclusive: true);
        var seed = new Option<int>("--seed") { Description = "Seed of the data order, augmentation, dropout and initialisation: the same seed, the same run.", DefaultValueFactory = _ => 0 };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Checkpoint folder to continue from (or the run folder: its newest checkpoint)." };
        var init = new Option<string?>("--init") { Description = "Start from these weights with a fresh optimizer and schedule: 'default' (the embedded model), a float .onnx model of `lipnet export`, a checkpoint folder, a run folder (its best/) or a PyTorch-named .safetensors file." };
        var device = OptionRanges.DeviceOption();
        var patience = (new Option<int>("--patience") { Description = "Early stop after N epochs without a better validation CER (0 = off).", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var checkpointEvery = (new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps.", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var keep = (new Option<int>("--keep") { Description = "Step checkpoints kept.", DefaultValueFactory = _ => 2 }).AtLeast(1);
        var maxSteps = (new Option<int>("--max-steps") { Description = "Stop after N steps in this process (resume later).", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var noAugment = new Option<bool>("--no-augment") { Description = "No flip or frame jitter." };
        var threads = (new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = one per logical processor).", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var skipBad = new Option<bool>("--skip-bad") { Description = "Leave out unreadable videos and malformed labels (reported) instead of stopping." };
        var command = new Command("train", "Train a LipNet on ONNX Runtime (checkpoints, validation, resume) and export the best model.")
            { data, synthetic, arch, output, split, epochs, batchSize, accumulate, lr, warmup, clip, weightDecay, dropout, seed, resume, init, device, patience, checkpointEvery, keep, maxSteps, noAugment, threads, skipBad, profile, cropCache, augment, wordSpans, wordSplice };
        command.SetAction(parse =>
        {
            var architecture = LipNetArchitecture.Preset(parse.GetValue(arch)!);
            string outDir = parse.GetValue(output)!.FullName;
            int trainSeed = parse.GetValue(seed);
            // Crops as the weights were trained on unless told otherwise: fine-tuning the embedded model (mouth-centred) on Haar
            // crops would train it on another front end than the one it reads with.
            string profileName = parse.GetValue(profile) ?? ResumeProfile(parse.GetValue(resume)?.FullName)
                ?? (parse.GetValue(init) is { } initFrom ? InitProfile(initFrom) : null) ?? LipNet.ML.Mouth.CropProfile.Haar.Name;
            var cropProfile = LipNet.ML.Mouth.CropProfile.Get(profileName);
            var cache = parse.GetValue(cropCache) is "none" ? null : new CropCache(parse.GetValue(cropCache) ?? CropCache.DefaultDirectory,
                $"{cropProfile.Name} {architecture.Width}x{architecture.Height} {TrainingFps}fps");
            var (train, validation, description) = Clips(parse.GetValue(data) ?? [], parse.GetValue(synthetic), parse.GetValue(split)!, trainSeed, parse.GetValue(skipBad), io,
                cropProfile, cache, architecture);
            int batch = Math.Max(1, parse.GetValue(batchSize)), micro = Math.Max(1, parse.GetValue(accumulate));
            int stepsPerEpoch = (int)Math.Ceiling((train.Count + batch - 1) / batch / (double)micro);
            var options = new TrainingRunOptions
            {
                Trainer = new TrainerOptions
                {
                    BatchSize = batch, AccumulationSteps = micro, LearningRate = parse.GetValue(lr), WarmupSteps = parse.GetValue(warmup),
                    TotalSteps = stepsPerEpoch * parse.GetValue(epochs), ClipNorm = parse.GetValue(clip), WeightDecay = parse.GetValue(weightDecay),
                    Dropout = parse.GetValue(dropout), Seed = trainSeed, Device = parse.GetValue(device)!, Threads = parse.GetValue(threads),
                },
                Epochs = parse.GetValue(epochs),
                Normalize = FrameNormalizeOptions.Standardized,
                Augment = WithWordAugmentation(parse.GetValue(noAugment) ? null : parse.GetValue(augment) switch
                {
                    "none" => null,
                    "full" => FrameAugmentOptions.Full,
                    "strong" => FrameAugmentOptions.Strong,
                    _ => FrameAugmentOptions.Default,
                }, parse.GetValue(wordSpans), parse.GetValue(wordSplice)),
                CropProfile = parse.GetValue(synthetic) is null ? cropProfile.Name : null,
                Patience = parse.GetValue(patience),
                CheckpointEverySteps = parse.GetValue(checkpointEvery),
                KeepCheckpoints = parse.GetValue(keep),
                MaxStepsThisRun = parse.GetValue(maxSteps),
                Data = description,
            };
            if (parse.GetValue(init) is { } initPath)
            {
                var (weights, weightsFile) = InitialWeights(initPath, architecture);
                options = options with { InitialWeights = weights, Data = $"{description}; initialized from {weightsFile}" };
            }
            string? resumeFrom = parse.GetValue(resume)?.FullName;
            if (resumeFrom is not null && !File.Exists(Path.Combine(resumeFrom, TrainingCheckpoint.StateFile)))
                resumeFrom = TrainingRun.LatestCheckpoint(resumeFrom) ?? throw new LipNetException("no checkpoint to resume from", resumeFrom);
            var logger = new TextWriterLogger(io.Error);
            logger.LogInformation("Training {Arch} ({Params:N0} parameters) on {Train} clips, validating on {Val}: {Data}",
                architecture.Name, architecture.ParameterCount, train.Count, validation?.Count ?? 0, options.Data);
            using var ownedTrain = train as IDisposable;
            using var ownedValidation = validation as IDisposable;
            TrainingResult result = null!;
            var clock = Stopwatch.StartNew();
            int totalSteps = parse.GetValue(maxSteps) > 0 ? parse.GetValue(maxSteps) : options.Trainer.TotalSteps;
            io.WithProgress("training", totalSteps, tick =>
            {
                var progress = new SynchronousProgress<TrainingProgress>(p => tick($"epoch {p.Epoch + 1}/{p.Epochs} step {p.Step} loss {p.Loss:F3}"));
                result = TrainingRun.Run(architecture, train, validation, outDir, options, resumeFrom, logger, progress,
                    epochEnded: state => Curves(state, Path.Combine(outDir, "curves.png")));
            });
            string source = result.BestCheckpoint ?? result.LastCheckpoint;
            if (source.Length == 0)
            {
                io.Out.WriteLine($"{outDir}: {result.State.Step} steps, no checkpoint yet (use --checkpoint-every or finish an epoch)");
                return 0;
            }
            string modelPath = Path.Combine(outDir, ModelFile);
            Export(source, modelPath, fp16: false);
            io.Out.WriteLine($"{modelPath}: exported from {source} after {result.State.Step} steps in {clock.Elapsed.TotalMinutes:F1} min" +
                (double.IsFinite(result.State.BestValidationCer) ? $"; best validation CER {result.State.BestValidationCer:P2} (epoch {result.State.BestEpoch})" : ""));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The weights behind <c>--init</c>: <c>default</c> (the embedded model), a float ONNX model <c>lipnet export</c>
    /// wrote, a .safetensors file, a checkpoint's parameters, or a run's best/ checkpoint.
    /// </summary>
    internal static (Dictionary<string, NamedTensor> Weights, string Source) InitialWeights(string path, LipNetArchitecture architecture)
    {
        if (path == "default" && !File.Exists(path))
        {
            const string embedded = "embedded:" + LipNetModel.DefaultModelName;
            var bytes = LipNetModel.DefaultModelBytes() ?? throw new ModelLoadException("this build has no embedded default model");
            return (LipNetGraph.ReadWeights(architecture, bytes, embedded), embedded);
        }
        string file = InitialWeightsFile(path);
        if (file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            return (LipNetGraph.ReadWeights(architecture, File.ReadAllBytes(file), file), file);
        var weights = SafeTensors.Load(file);
        architecture.Validate(weights, file);
        return (weights, file);
    }

    /// <summary>A split given as <c>overlapped:N</c> or <c>unseen:N</c> (<see cref="Split(string, IReadOnlyList{CorpusItem}, int, int, string?)"/>).</summary>
    /// <param name="spec">The --split value.</param>
    /// <param name="items">The corpus's clips.</param>
    /// <param name="seed">Seed of the split.</param>
    /// <param name="forms">The forms the command takes, for the error on any other value.</param>
    internal static CorpusSplit Split(string spec, IReadOnlyList<CorpusItem> items, int seed, string forms = "overlapped:N or unseen:N")
    {
        var parts = spec.Split(':');
        if (parts.Length != 2 || parts[0] is not ("overlapped" or "unseen") || !int.TryParse(parts[1], out int n) || n < 0)
            throw new LipNetException($"--split '{spec}' is not {forms}");
        return Split(parts[0], items, n, seed);
    }

    /// <summary>
    /// A seeded overlapped or unseen split (the protocol already checked); a split the corpus cannot give (all its speakers
    /// held out, say) is a typed error naming the corpus, not an exception from the library's argument check.
    /// </summary>
    internal static CorpusSplit Split(string protocol, IReadOnlyList<CorpusItem> items, int n, int seed, string? root = null)
    {
        try
        {
            return protocol == "unseen" ? CorpusSplits.Unseen(items, n, seed) : CorpusSplits.Overlapped(items, n, seed);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new LipNetException($"--split {protocol}:{n} does not fit the corpus: {ex.Message.Split(" (Parameter", 2)[0]}", root);
        }
    }

    /// <summary>
    /// The crop profile the <c>--init</c> weights were trained on: their model card's (the embedded model, an ONNX file) or their
    /// checkpoint's; null when nothing says (a bare .safetensors file, a card or checkpoint from before crop profiles).
    /// </summary>
    internal static string? InitProfile(string path)
    {
        byte[]? model = path == "default" && !File.Exists(path) ? LipNetModel.DefaultModelBytes() : null;
        if (model is null)
        {
            string file = InitialWeightsFile(path);
            if (file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                model = File.ReadAllBytes(file);
            else
                return ResumeProfile(Path.GetDirectoryName(file));
        }
        try
        {
            var json = LipNet.ML.Onnx.Proto.ModelProto.Parser.ParseFrom(model).MetadataProps.FirstOrDefault(p => p.Key == ModelCard.MetadataKey)?.Value;
            return json is null ? null : ModelCard.FromJson(json).CropProfile;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null; // not ONNX: reading its weights reports that, naming the file
        }
    }

    /// <summary>The crop profile a checkpoint (or a run's newest checkpoint) recorded; null when there is none or it predates profiles.</summary>
    private static string? ResumeProfile(string? path)
    {
        if (path is null)
            return null;
        string? directory = File.Exists(Path.Combine(path, TrainingCheckpoint.StateFile)) ? path : TrainingRun.LatestCheckpoint(path);
        return directory is not null && File.Exists(Path.Combine(directory, TrainingCheckpoint.StateFile))
            ? TrainingCheckpoint.LoadState(directory).CropProfile : null;
    }

    /// <summary>The file behind <c>--init</c>: the file itself, a checkpoint's parameters, or a run's best/ checkpoint.</summary>
    private static string InitialWeightsFile(string path)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
            return full;
        foreach (var candidate in new[] { Path.Combine(full, TrainingCheckpoint.ParametersFile), Path.Combine(full, TrainingRun.BestFolder, TrainingCheckpoint.ParametersFile) })
            if (File.Exists(candidate))
                return candidate;
        throw new LipNetException(Directory.Exists(full) ? "neither a checkpoint (parameters.safetensors) nor a run folder with best/" : "no such file or folder", full);
    }

    private static (ITrainingClips Train, ITrainingClips? Validation, string Description) Clips(string[] data, string? synthetic, string split, int seed, bool skipBad,
        CliIO io, LipNet.ML.Mouth.CropProfile profile, CropCache? cache, LipNetArchitecture architecture)
    {
        if ((data.Length == 0) == (synthetic is null))
            throw new LipNetException("give exactly one of --data <corpus-dir> (repeatable, ROOT*W to weight a corpus) and --synthetic SxC");
        var parts = split.Split(':', 2);
        string? listFile = parts[0] == "list" && parts.Length == 2 ? parts[1] : null;
        int held = split == "none" || listFile is not null ? 0
            : parts.Length == 2 && int.TryParse(parts[1], out int n) && n >= 0 && parts[0] is "unseen" or "overlapped" ? n
            : throw new LipNetException($"--split '{split}' is not unseen:N, overlapped:N, list:FILE or none");
        if (synthetic is not null)
        {
            var sc = synthetic.ToLowerInvariant().Split('x');
            if (sc.Length != 2 || !int.TryParse(sc[0], out int speakers) || !int.TryParse(sc[1], out int clips) || speakers < 1 || clips < 1)
                throw new LipNetException($"--synthetic '{synthetic}' is not SxC (speakers x clips, e.g. 8x100)");
            if ((parts[0] == "overlapped" && held > 0) || listFile is not null)
                throw new LipNetException("--synthetic supports --split unseen:N or none");
            if (held >= speakers)
                throw new LipNetException($"--split {split} holds out {held} of {speakers} speakers: nothing left to train on");
            var corpus = new SyntheticCorpusOptions { Speakers = speakers, ClipsPerSpeaker = clips, Seed = seed };
            var trainSpeakers = Enumerable.Range(0, speakers - held).ToList();
            var valSpeakers = Enumerable.Range(speakers - held, held).ToList();
            return (new SyntheticTrainingClips(corpus, trainSpeakers), held > 0 ? new SyntheticTrainingClips(corpus, valSpeakers) : null,
                $"synthetic {speakers}x{clips} (seed {seed}), rendered in memory; validation speakers {string.Join(",", valSpeakers.Select(SyntheticCorpus.SpeakerName))}");
        }
        var listed = listFile is null ? null : ReadClipList(listFile);
        var train = new List<CorpusItem>();
        var validation = new List<CorpusItem>();
        var described = new List<string>();
        foreach (var entry in data)
        {
            var (root, weight) = ParseWeightedRoot(entry);
            var reader = CorpusReader.Open(root, new CorpusReadOptions { SkipBad = skipBad });
            var items = reader.Read().ToList();
            foreach (var p in reader.Problems)
                io.Skipped(p.Path, p.Reason);
            if (items.Count == 0)
                throw new LipNetException("the corpus has no clips", root);
            var divided = listed is not null ? new CorpusSplit(items.Where(i => !listed.Contains(ClipKey(i))).ToList(), items.Where(i => listed.Contains(ClipKey(i))).ToList())
                : held == 0 ? new CorpusSplit(items, []) : Split(parts[0], items, held, seed, root);
            train.AddRange(Weighted(divided.Train, weight, seed));
            validation.AddRange(divided.Test);
            described.Add($"{reader.Name} corpus {root} x{weight.ToString(CultureInfo.InvariantCulture)}: {divided.Train.Count} training clips, {divided.Test.Count} validation clips");
        }
        if (listed is not null && validation.Count != listed.Count)
            io.Error.WriteLine($"warning: {listFile} names {listed.Count} clips, {validation.Count} of them found in the corpora");
        // Clips are decoded and cropped when first drawn: with --skip-bad one that fails then is reported and left out.
        ITrainingClips Set(List<CorpusItem> part)
        {
            var clips = new CorpusTrainingClips(part, () => TrainingPreprocessor(profile, architecture), diskCache: cache);
            return skipBad ? new SkippingTrainingClips(clips, ex => io.Skipped(ex.FilePath, ex.Message)) : clips;
        }
        return (Set(train), validation.Count > 0 ? Set(validation) : null,
            $"{string.Join("; ", described)} (split {split}, seed {seed}, crops {profile.Name}); {train.Count} training draws an epoch");
    }

    /// <summary>Frame rate training crops are read at (GRID's; the card's default).</summary>
    private const double TrainingFps = 25;

    /// <summary>Decodes at <see cref="TrainingFps"/> and crops with the profile's locator at the architecture's size, as inference will.</summary>
    private static ClipPreprocessor TrainingPreprocessor(LipNet.ML.Mouth.CropProfile profile, LipNetArchitecture architecture) =>
        new(profile.CreateLocator(), new LipNet.ML.Mouth.MouthCropOptions { Width = architecture.Width, Height = architecture.Height },
            read: new LipNet.ML.Video.VideoReadOptions { TargetFps = TrainingFps }, ownsLocator: true);

    /// <summary>
    /// A corpus's clips split by a <c>list:FILE</c> spec into (the others, the listed ones); <paramref name="whole"/> (e.g.
    /// "none" or "all") gives (every clip, none). With the corpus reader's problems (unreadable labels ...).
    /// </summary>
    internal static (List<CorpusItem> Others, List<CorpusItem> Listed, List<TranscriptionFailure> Problems) ListSplit(string root, string spec, string whole)
    {
        var reader = CorpusReader.Open(root, new CorpusReadOptions { SkipBad = true });
        var items = reader.Read().ToList();
        if (items.Count == 0)
            throw new CorpusFormatException($"no clips found: not a {reader.Name} corpus", reader.Root);
        var problems = reader.Problems.Select(p => new TranscriptionFailure(p.Path, p.Reason)).ToList();
        if (spec == whole)
            return (items, [], problems);
        if (!spec.StartsWith("list:", StringComparison.Ordinal))
            throw new LipNetException($"--split '{spec}' is not list:FILE or {whole}");
        var listed = ReadClipList(spec[5..]);
        return (items.Where(i => !listed.Contains(ClipKey(i))).ToList(), items.Where(i => listed.Contains(ClipKey(i))).ToList(), problems);
    }

    /// <summary>A clip's key in a clip list: speaker/id (GRID: s1/bbaf4p).</summary>
    internal static string ClipKey(CorpusItem item) => $"{item.Speaker}/{item.Id}";

    /// <summary>A clip list: one speaker/id a line; blank lines and # comments ignored.</summary>
    internal static HashSet<string> ReadClipList(string path)
    {
        if (!File.Exists(path))
            throw new LipNetException("clip list not found", path);
        var keys = File.ReadAllLines(path).Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).ToList();
        foreach (var key in keys)
            if (key.Split('/').Length != 2)
                throw new CorpusFormatException($"'{key}' is not speaker/id", path);
        return [.. keys];
    }

    /// <summary>ROOT or ROOT*W (W a non-negative weight).</summary>
    internal static (string Root, double Weight) ParseWeightedRoot(string entry)
    {
        int star = entry.LastIndexOf('*');
        if (star < 0)
            return (Path.GetFullPath(entry), 1);
        if (!double.TryParse(entry[(star + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w >= 0) || w > 100)
            throw new LipNetException($"--data '{entry}': the weight after '*' must be a number from 0 to 100");
        return (Path.GetFullPath(entry[..star]), w);
    }

    /// <summary>Each item floor(W) times, plus a fixed seeded share of the items for the fraction of W.</summary>
    internal static IEnumerable<CorpusItem> Weighted(IReadOnlyList<CorpusItem> items, double weight, int seed)
    {
        int whole = (int)Math.Floor(weight);
        for (int k = 0; k < whole; k++)
            foreach (var item in items)
                yield return item;
        int extra = (int)Math.Round((weight - whole) * items.Count);
        if (extra == 0)
            yield break;
        var random = new Random(StableSeed.Combine(seed, items.Count, 0x3e1));
        foreach (var i in Enumerable.Range(0, items.Count).OrderBy(_ => random.Next()).Take(extra).Order())
            yield return items[i];
    }

    /// <summary>Writes the inference model of a checkpoint, with the validation figures of its best epoch in the card.</summary>
    internal static void Export(string checkpoint, string modelPath, bool fp16, IReadOnlyList<MeasuredAccuracy>? measured = null,
        (string Corpus, int Clips)? int8Calibration = null, CliIO? io = null, IReadOnlyList<string>? averageWith = null)
    {
        var state = TrainingCheckpoint.LoadState(checkpoint);
        var weights = TrainingCheckpoint.LoadParameters(checkpoint);
        state.Architecture.Validate(weights, Path.Combine(checkpoint, TrainingCheckpoint.ParametersFile));
        if (averageWith is { Count: > 0 })
            weights = Average(state, weights, averageWith);
        var int8 = int8Calibration is { } c ? CalibrateInt8(state, weights, c.Corpus, c.Clips, io) : null;
        var accuracy = new List<MeasuredAccuracy>();
        var best = state.Epochs.FirstOrDefault(e => e.Epoch == state.BestEpoch) ?? state.Epochs.LastOrDefault();
        // An average is not the checkpoint its run validated: only measured reports describe it.
        if (best is not null && double.IsFinite(best.GreedyCer) && averageWith is not { Count: > 0 })
        {
            accuracy.Add(new MeasuredAccuracy("validation (training run)", best.ValidationClips, best.GreedyCer, best.GreedyWer, best.GreedyCerMean, best.GreedyWerMean, "greedy"));
            if (double.IsFinite(best.BeamCer))
                accuracy.Add(new MeasuredAccuracy("validation (training run)", best.ValidationClips, best.BeamCer, best.BeamWer, best.BeamCerMean, best.BeamWerMean, "beam 10 + GRID grammar (as validated)"));
        }
        accuracy.AddRange(measured ?? []);
        string provenance = $"trained with LipNet.ML on ONNX Runtime: {state.Data}; {state.Step} steps, epoch {state.Epoch}, batch {state.Trainer.BatchSize}x{state.Trainer.AccumulationSteps}, " +
                            $"lr {state.Trainer.LearningRate.ToString(CultureInfo.InvariantCulture)}, seed {state.Trainer.Seed}";
        if (averageWith is { Count: > 0 })
            provenance += $"; parameters averaged element-wise with {string.Join(", ", averageWith)} (weight averaging of fine-tunings of one model)";
        if (int8 is not null)
            provenance += $"; int8 convolutions (u8s8, per-channel weights) calibrated on {int8.CalibrationClips} clips of {int8Calibration!.Value.Corpus}";
        var model = LipNetTrainer.ExportModel(state.Architecture, weights, provenance, accuracy, state.Normalize, fp16, int8, state.CropProfile);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        File.WriteAllBytes(modelPath, model.ToByteArray());
    }

    /// <summary>
    /// The element-wise mean of the checkpoint's parameters and those of <paramref name="others"/> (checkpoint folders of
    /// the same architecture): weight averaging of fine-tunings of one model ("model soups", Wortsman et al., 2022).
    /// </summary>
    /// <exception cref="LipNetException">Another checkpoint's architecture or parameters differ.</exception>
    internal static Dictionary<string, NamedTensor> Average(TrainingState state, Dictionary<string, NamedTensor> weights, IReadOnlyList<string> others)
    {
        var sums = weights.ToDictionary(w => w.Key, w => w.Value.Data.Select(v => (double)v).ToArray());
        foreach (var other in others)
        {
            var otherState = TrainingCheckpoint.LoadState(other);
            if (otherState.Architecture.Name != state.Architecture.Name)
                throw new LipNetException($"architecture {otherState.Architecture.Name} differs from {state.Architecture.Name}: cannot average", other);
            var otherWeights = TrainingCheckpoint.LoadParameters(other);
            state.Architecture.Validate(otherWeights, Path.Combine(other, TrainingCheckpoint.ParametersFile));
            foreach (var (name, sum) in sums)
            {
                var data = otherWeights.TryGetValue(name, out var t) && t.Data.Length == sum.Length ? t.Data
                    : throw new LipNetException($"parameter '{name}' is missing or of another size: cannot average", other);
                for (int i = 0; i < sum.Length; i++)
                    sum[i] += data[i];
            }
        }
        int n = others.Count + 1;
        return weights.ToDictionary(w => w.Key, w => w.Value with { Data = sums[w.Key].Select(v => (float)(v / n)).ToArray() });
    }

    /// <summary>Activation scales for int8 convolutions from clips spread over a corpus, cropped and normalized as the run trained.</summary>
    private static Int8Convolutions CalibrateInt8(TrainingState state, IReadOnlyDictionary<string, NamedTensor> weights, string corpus, int clips, CliIO? io)
    {
        var reader = CorpusReader.Open(corpus, new CorpusReadOptions { SkipBad = true });
        var items = reader.Read().ToList();
        foreach (var p in reader.Problems)
            io?.Skipped(p.Path, p.Reason);
        if (items.Count == 0)
            throw new LipNetException("the calibration corpus has no clips", corpus);
        int n = Math.Min(clips, items.Count);
        var chosen = Enumerable.Range(0, n).Select(i => items[(int)((long)i * items.Count / n)]).ToList();
        var profile = LipNet.ML.Mouth.CropProfile.Named(state.CropProfile);
        using var set = new CorpusTrainingClips(chosen, () => TrainingPreprocessor(profile, state.Architecture));
        var assembler = new TrainingBatchAssembler(state.Normalize with { Layout = TensorLayout.CTHW, FrameCount = state.Architecture.Frames }, null,
            LipNet.ML.Decoding.CtcVocabulary.Grid(LipNet.ML.Decoding.BlankPosition.First));
        IEnumerable<float[]> Tensors()
        {
            for (int i = 0; i < set.Count; i++)
                yield return assembler.Assemble(set, [i], 0, 0, 0).Video.ToArray();
        }
        return Int8Convolutions.Calibrate(state.Architecture, weights, Tensors());
    }

    /// <summary>A checkpoint folder as given, or a run folder's best/ (else its newest checkpoint).</summary>
    private static string CheckpointFolder(string dir)
    {
        if (File.Exists(Path.Combine(dir, TrainingCheckpoint.StateFile)))
            return dir;
        return Directory.Exists(Path.Combine(dir, TrainingRun.BestFolder)) ? Path.Combine(dir, TrainingRun.BestFolder)
            : TrainingRun.LatestCheckpoint(dir) ?? throw new LipNetException("not a checkpoint or run folder", dir);
    }

    public static Command ExportCommand(CliIO io)
    {
        var checkpoint = new Option<DirectoryInfo>("--checkpoint") { Description = "Checkpoint folder (or a run folder: its best/ checkpoint).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "ONNX model to write.", Required = true }.OutputPath();
        var fp16 = new Option<bool>("--fp16") { Description = "Store weights as float16 (half the size)." };
        var reports = new Option<FileInfo[]>("--accuracy") { Description = "report.json files of `lipnet evaluate` whose figures go into the model card.", AllowMultipleArgumentsPerToken = true };
        var int8 = new Option<bool>("--int8") { Description = "8-bit convolutions after the first block (u8s8, per-channel weights; GRUs stay float), calibrated on --calibration clips." };
        var calibration = new Option<DirectoryInfo?>("--calibration") { Description = "Corpus whose clips calibrate the int8 activation scales (use training data, not the test set)." };
        var calibrationClips = (new Option<int>("--calibration-clips") { Description = "Clips read for calibration, spread over the corpus.", DefaultValueFactory = _ => 32 }).AtLeast(1);
        var average = new Option<DirectoryInfo[]>("--average")
        {
            Description = "Other checkpoints (or run folders: their best/) of the same architecture whose parameters are averaged element-wise with " +
                          "--checkpoint's (weight averaging of fine-tunings of one model; the shipped default averages two stages).",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("export", "Write the inference ONNX model (with model card) of a training checkpoint.") { checkpoint, output, fp16, reports, int8, calibration, calibrationClips, average };
        command.SetAction(parse =>
        {
            // Reports first: a malformed one fails before any work.
            var measured = (parse.GetValue(reports) ?? []).Select(f => EvaluateCommand.ReadAccuracy(f.FullName)).ToList();
            string dir = CheckpointFolder(parse.GetValue(checkpoint)!.FullName);
            if (parse.GetValue(int8) && parse.GetValue(calibration) is null)
                throw new LipNetException("--int8 needs --calibration <corpus-dir> (clips to calibrate activation scales on)");
            string path = parse.GetValue(output)!.FullName;
            var others = (parse.GetValue(average) ?? []).Select(d => CheckpointFolder(d.FullName)).ToList();
            Export(dir, path, parse.GetValue(fp16), measured, parse.GetValue(int8) ? (parse.GetValue(calibration)!.FullName, Math.Max(1, parse.GetValue(calibrationClips))) : null, io, others);
            io.Out.WriteLine($"{path}: exported from {dir} ({new FileInfo(path).Length / 1048576.0:0.0} MiB)");
            return 0;
        });
        return command;
    }

    public static Command BenchTrain(CliIO io)
    {
        var arch = new Option<string>("--arch") { Description = "Small or Paper.", DefaultValueFactory = _ => "Small" };
        var batchSize = (new Option<int>("--batch-size") { Description = "Clips per step.", DefaultValueFactory = _ => 4 }).AtLeast(1);
        var steps = (new Option<int>("--steps") { Description = "Timed steps after one warm-up step.", DefaultValueFactory = _ => 5 }).AtLeast(1);
        var threads = (new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = one per logical processor).", DefaultValueFactory = _ => 0 }).AtLeast(0);
        var command = new Command("bench-train", "Training throughput on synthetic input: samples/s and the time of each phase (one JSON object).") { arch, batchSize, steps, threads };
        command.SetAction(parse =>
        {
            var architecture = LipNetArchitecture.Preset(parse.GetValue(arch)!);
            int batch = Math.Max(1, parse.GetValue(batchSize));
            using var trainer = new LipNetTrainer(architecture, new TrainerOptions { BatchSize = batch, Threads = parse.GetValue(threads), TotalSteps = 1000 });
            var random = new Random(1);
            var video = new float[batch * architecture.Channels * architecture.Frames * architecture.Height * architecture.Width];
            for (int i = 0; i < video.Length; i++)
                video[i] = random.NextSingle();
            var targets = Enumerable.Range(0, batch).Select(i => trainer.Vocabulary.Encode(SyntheticCorpus.Sentences(i, 1, 1)[0])).ToList();
            var lengths = Enumerable.Repeat(architecture.Frames, batch).ToList();
            trainer.TrainStep(video, targets, lengths); // warm-up
            var results = new List<StepResult>();
            var clock = Stopwatch.StartNew();
            for (int s = 0; s < Math.Max(1, parse.GetValue(steps)); s++)
                results.Add(trainer.TrainStep(video, targets, lengths));
            double seconds = clock.Elapsed.TotalSeconds;
            io.WriteJson(new
            {
                arch = architecture.Name,
                batch_size = batch,
                samples_per_s = Math.Round(results.Count * batch / seconds, 3),
                phases_ms = new
                {
                    forward = Math.Round(results.Average(r => r.ForwardMs), 1),
                    ctc = Math.Round(results.Average(r => r.LossMs), 1),
                    backward = Math.Round(results.Average(r => r.BackwardMs), 1),
                    optimizer = Math.Round(results.Average(r => r.OptimizerMs), 1),
                },
            });
            return 0;
        });
        return command;
    }

    /// <summary>Loss and validation CER per epoch as a PNG (rewritten after every epoch).</summary>
    private static void Curves(TrainingState state, string path)
    {
        var plot = new ScottPlot.Plot();
        double[] epochs = state.Epochs.Select(e => (double)e.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, state.Epochs.Select(e => e.TrainLoss).ToArray());
        train.LegendText = "train loss (per char)";
        if (state.Epochs.Any(e => double.IsFinite(e.ValidationLoss)))
        {
            var val = plot.Add.Scatter(epochs, state.Epochs.Select(e => e.ValidationLoss).ToArray());
            val.LegendText = "validation loss";
            var cer = plot.Add.Scatter(epochs, state.Epochs.Select(e => e.GreedyCer * 10).ToArray());
            cer.LegendText = "validation greedy CER x10";
        }
        plot.XLabel("epoch");
        plot.Title($"{state.Architecture.Name}: training curves");
        plot.ShowLegend();
        plot.SavePng(path, 800, 450);
    }

    internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>Log lines (<c>info: …</c>) on a writer: the CLI's stderr.</summary>
internal sealed class TextWriterLogger(TextWriter writer) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
            return;
        string level = logLevel switch { LogLevel.Warning => "warn", LogLevel.Error or LogLevel.Critical => "fail", _ => "info" };
        lock (writer)
            writer.WriteLine($"{level}: {formatter(state, exception)}");
    }
}
