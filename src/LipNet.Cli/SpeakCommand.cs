using System.CommandLine;
using LipNet.ML;
using LipNet.ML.Corpora;
using LipNet.ML.LipToSpeech;
using LipNet.ML.Onnx;
using LipNet.ML.Runtime;
using LipNet.ML.Tensors;
using LipNet.ML.Training;

namespace LipNet.Cli;

/// <summary><c>lipnet speak</c>: silent video → speech (lip-to-speech): <c>speak &lt;video&gt; --out speech.wav</c>, <c>speak train</c>, <c>speak evaluate</c>.</summary>
internal static class SpeakCommand
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
            io.Skipped(f.Source, f.Reason);
        if (failures.Count > 0 && !skipBad)
            throw new LipNetException($"{failures.Count} {label} could not be read, first: {failures[0].Reason} (use --skip-bad to report and go on)", failures[0].Source);
        var kept = Enumerable.Range(0, items.Count).Where(i => mel[i] is not null).ToList();
        var profile = lipCard.Profile();
        var cache = cropCache == "none" ? null
            : new CropCache(cropCache ?? CropCache.DefaultDirectory, $"{profile.Name} {architecture.Width}x{architecture.Height} {lipCard.Fps}fps");
        var clips = new CorpusTrainingClips(kept.Select(i => items[i]).ToList(), () => new LipNet.ML.Tensors.ClipPreprocessor(profile.CreateLocator(),
            new LipNet.ML.Mouth.MouthCropOptions { Width = architecture.Width, Height = architecture.Height },
            read: new LipNet.ML.Video.VideoReadOptions { TargetFps = lipCard.Fps }, ownsLocator: true), cache: false, diskCache: cache);
        ITrainingClips set = skipBad ? new SkippingTrainingClips(clips, ex => io.Skipped(ex.FilePath, ex.Message)) : clips;
        return (set, kept.Select(i => mel[i]!).ToList());
    }

    private static Command Train(CliIO io)
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Corpus root of videos with audio (GRID layout and the others `stats` reads).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder: checkpoints, epochs.csv, model.onnx (the best epoch's).", Required = true }.OutputPath();
        var split = new Option<string>("--split") { Description = "list:FILE (the held-out clips, speaker/id a line: validation, never trained on) or none.", DefaultValueFactory = _ => "none" }.SplitSyntax(counted: false, "none");
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
        var augment = new Option<string>("--augment") { Description = "flip (horizontal flips), full (also ±4 px shift, ±8% zoom, brightness ±20, contrast ±15%) or strong (±6 px, ±12%, and time masks of up to 10 frames); never frame drop/duplicate, which would misalign the audio.", DefaultValueFactory = _ => "flip" };
        augment.AcceptOnlyFromAmong("flip", "full", "strong");
        var command = new Command("train", "Train a lip-to-speech model (mouth crops → log-mel, L1), starting from a lipreading model's front end.")
            { data, output, split, init, cropCache, epochs, batch, lr, dropout, seed, threads, resume, skipBad, augment };
        command.SetAction(parse =>
        {
            var (bytes, source) = Lipreading(parse.GetValue(init)!);
            ModelCard lipCard;
            using (var lip = LipNetModel.Load(bytes, source))
                lipCard = lip.Card;
            if (lipCard.Architecture is null)
                throw new ModelLoadException("the lipreading model's card names no architecture", source);
            var (trainItems, heldOut, _) = TrainCommands.ListSplit(parse.GetValue(data)!.FullName, parse.GetValue(split)!, "none");
            var options = new LipToSpeechTrainingOptions
            {
                Trainer = new TrainerOptions
                {
                    BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), WarmupSteps = 50, Dropout = parse.GetValue(dropout),
                    Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
                },
                Epochs = parse.GetValue(epochs),
                Augment = (parse.GetValue(augment) switch
                {
                    "full" => FrameAugmentOptions.Full,
                    "strong" => FrameAugmentOptions.Strong,
                    _ => FrameAugmentOptions.Default,
                }) with { FrameJitterProbability = 0 },
                Provenance = "lipnet " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var (train, trainMel) = Data(trainItems, lipCard, options, parse.GetValue(cropCache),
                parse.GetValue(skipBad), io, "training clips");
            var (validation, validationMel) = Data(heldOut, lipCard, options, parse.GetValue(cropCache),
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

    /// <summary><c>speak &lt;video&gt; --out speech.wav</c> and <c>speak evaluate</c>.</summary>
    private static void AddSpeak(CliIO io, Command speak)
    {
        var video = new Argument<FileInfo>("video") { Description = "A video of a speaking face (its own audio, if any, is not used).", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<FileInfo?>("--model") { Description = "Lip-to-speech ONNX model with its card (default: the embedded model)." };
        var output = CliIO.Extensions(new Option<FileInfo?>("--out") { Description = "The WAV file to write (16-bit PCM, the card's rate, the video's length).", Required = true }, ".wav").OutputPath();
        var spectrogram = CliIO.Extensions(new Option<FileInfo?>("--spectrogram") { Description = "Also write a PNG of the predicted log-mel (above it the video's own audio's, when it has audio)." }, ".png");
        speak.Arguments.Add(video);
        speak.Options.Add(model);
        speak.Options.Add(output);
        speak.Options.Add(spectrogram);
        speak.Validators.Add(result =>
        {
            if (result.TryValue(video, out var given) && given is null)
                result.AddError("give a video: lipnet speak <video> --out speech.wav (or lipnet speak train|evaluate)");
        });
        speak.SetAction(parse =>
        {
            var input = parse.GetValue(video)!;
            if (!File.Exists(input.FullName))
                throw new LipNetException(Directory.Exists(input.FullName) ? "is a directory, not a video" : "video file not found", input.FullName);
            string file = CliIO.OutputFile(parse.GetValue(output)!);
            if (parse.GetValue(spectrogram) is { } spectrogramFile)
                CliIO.OutputFile(spectrogramFile);
            using var synthesizer = OpenModel(parse.GetValue(model));
            var started = System.Diagnostics.Stopwatch.StartNew();
            var mel = synthesizer.Mel(input.FullName);
            var speech = synthesizer.Vocode(mel, input.FullName);
            speech.WriteWav(file);
            double seconds = started.Elapsed.TotalSeconds;
            if (parse.GetValue(spectrogram) is { } png)
            {
                LipNet.ML.Audio.SpeechFeatures? truth = null;
                try
                {
                    var audio = LipNet.ML.Audio.AudioReader.Read(input.FullName, new LipNet.ML.Audio.AudioReadOptions { SampleRate = synthesizer.Card.Mel.SampleRate });
                    truth = new LipNet.ML.Audio.SpeechFeatureExtractor(synthesizer.Card.Mel).LogMel(audio, mel.VideoFrameCount);
                }
                catch (LipNetException)
                {
                    // A silent video (or one whose audio is unusable): the predicted spectrogram alone.
                }
                Spectrograms.Write(png.FullName, mel, truth);
            }
            io.Out.WriteLine($"{file}: {speech.DurationSeconds:0.00} s of speech from {mel.VideoFrameCount} frames ({seconds:0.00} s)");
            return 0;
        });

        var corpus = new Argument<DirectoryInfo>("corpus-dir") { Description = "Corpus root of videos with their own audio." };
        var evalModel = new Option<FileInfo?>("--model") { Description = "Lip-to-speech ONNX model (default: the embedded model)." };
        var split = new Option<string>("--split") { Description = "list:FILE (only the clips FILE names, speaker/id a line) or all.", DefaultValueFactory = _ => "all" }.SplitSyntax(counted: false, "all");
        var json = new Option<bool>("--json") { Description = "Print one object: {\"clips\", \"stoi\", \"estoi\", \"mel_l1\"}." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report clips without audio or face and go on." };
        var record = new Option<bool>("--record") { Description = "Write the figures into the --model file's card." };
        var evaluate = new Command("evaluate", "STOI, ESTOI and mel L1 of the speech made from each clip's video against the clip's own audio.")
            { corpus, evalModel, split, json, skipBad, record };
        evaluate.SetAction(parse =>
        {
            var spec = parse.GetValue(split)!;
            var (all, listed, _) = TrainCommands.ListSplit(parse.GetValue(corpus)!.FullName, spec, "all");
            var items = spec == "all" ? all : listed;
            var root = parse.GetValue(corpus)!.FullName;
            using var synthesizer = OpenModel(parse.GetValue(evalModel));
            var failures = new List<TranscriptionFailure>();
            SpeechAccuracy accuracy = null!;
            io.WithProgress("speaking", items.Count, (Action _) => accuracy = synthesizer.Evaluate(items.Select(i => i.VideoPath).ToList(),
                $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(root))} ({spec})", failures));
            foreach (var f in failures)
                io.Skipped(f.Source, f.Reason);
            if (failures.Count > 0 && !parse.GetValue(skipBad))
                throw new LipNetException($"{failures.Count} clip(s) could not be read, first: {failures[0].Reason} (use --skip-bad to report and go on)", failures[0].Source);
            if (parse.GetValue(record))
                LipToSpeechSynthesizer.RecordAccuracy((parse.GetValue(evalModel) ?? throw new LipNetException("--record needs --model")).FullName, accuracy);
            if (parse.GetValue(json))
                io.WriteJson(new { clips = accuracy.Clips, stoi = accuracy.Stoi, estoi = accuracy.Estoi, mel_l1 = accuracy.MelL1 });
            else
                io.Out.WriteLine($"{accuracy.Clips} clips: STOI {accuracy.Stoi:F3}, ESTOI {accuracy.Estoi:F3}, mel L1 {accuracy.MelL1:F3}");
            return 0;
        });
        speak.Subcommands.Add(evaluate);
    }

    private static LipToSpeechSynthesizer OpenModel(FileInfo? model) => model is null ? LipToSpeechSynthesizer.Default() : new LipToSpeechSynthesizer(model.FullName);
}

/// <summary>Log-mel spectrograms as a PNG (viridis, low frequencies at the bottom): the true one above the predicted one.</summary>
internal static class Spectrograms
{
    public static void Write(string path, LipNet.ML.Audio.SpeechFeatures predicted, LipNet.ML.Audio.SpeechFeatures? truth)
    {
        var panels = new List<(string Label, LipNet.ML.Audio.SpeechFeatures Mel)>();
        if (truth is not null)
            panels.Add(("audio of the video", truth));
        panels.Add(("predicted from the lips", predicted));
        float min = panels.Min(p => p.Mel.Values.Min()), max = panels.Max(p => p.Mel.Values.Max());
        min = Math.Max(min, max - 12); // 12 natural-log units (~52 dB) of range
        const int scaleX = 3, scaleY = 3, label = 24;
        int width = predicted.FrameCount * scaleX, bandHeight = predicted.FeatureCount * scaleY;
        using var canvas = new OpenCvSharp.Mat(panels.Count * (bandHeight + label), width, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(255));
        for (int p = 0; p < panels.Count; p++)
        {
            var mel = panels[p].Mel;
            using var gray = new OpenCvSharp.Mat(mel.FeatureCount, mel.FrameCount, OpenCvSharp.MatType.CV_8UC1);
            for (int t = 0; t < mel.FrameCount; t++)
                for (int f = 0; f < mel.FeatureCount; f++)
                {
                    float v = (mel.Values[t * mel.FeatureCount + f] - min) / (max - min);
                    gray.Set(mel.FeatureCount - 1 - f, t, (byte)Math.Clamp(v * 255, 0, 255));
                }
            using var colour = new OpenCvSharp.Mat();
            OpenCvSharp.Cv2.ApplyColorMap(gray, colour, OpenCvSharp.ColormapTypes.Viridis);
            using var big = new OpenCvSharp.Mat();
            OpenCvSharp.Cv2.Resize(colour, big, new OpenCvSharp.Size(Math.Min(width, mel.FrameCount * scaleX), bandHeight), interpolation: OpenCvSharp.InterpolationFlags.Nearest);
            int top = p * (bandHeight + label);
            OpenCvSharp.Cv2.PutText(canvas, $"{panels[p].Label} (log-mel, 80 bands, 10 ms frames)", new OpenCvSharp.Point(6, top + 17),
                OpenCvSharp.HersheyFonts.HersheySimplex, 0.5, OpenCvSharp.Scalar.All(0), 1, OpenCvSharp.LineTypes.AntiAlias);
            big.CopyTo(canvas[new OpenCvSharp.Rect(0, top + label, big.Width, big.Height)]);
        }
        if (!OpenCvSharp.Cv2.ImWrite(path, canvas))
            throw new LipNetException("cannot write the image", path);
    }
}
