using System.CommandLine;
using LipNet.ML;
using LipNet.ML.Audio;
using LipNet.ML.Corpora;
using LipNet.ML.Keypoints;
using LipNet.ML.Runtime;
using LipNet.ML.Training;
using OpenCvSharp;

namespace LipNet.Cli;

/// <summary>
/// <c>lipnet keypoints train|predict|evaluate</c>: audio → mouth keypoints (the WAV2KP system): train on a corpus of videos with
/// audio, predict the lip points of a video's or an audio file's speech (JSON, MP4 or PNG), measure RMSE against baselines.
/// </summary>
internal static class KeypointsCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("keypoints", "Audio → mouth keypoints (WAV2KP): train, predict, evaluate.");
        command.Subcommands.Add(Train(io));
        command.Subcommands.Add(Predict(io));
        command.Subcommands.Add(Evaluate(io));
        return command;
    }

    private static Option<string> SplitOption() => new("--split")
    {
        Description = "list:FILE (the clips FILE names, speaker/id a line, are the held-out set) or none.",
        DefaultValueFactory = _ => "none",
    };

    private static Option<string?> CacheOption() => new("--cache")
    {
        Description = "Folder caching each clip's keypoints (Face Mesh on every frame); 'none' to disable. Default ~/.cache/lipnet/keypoints.",
    };


    /// <summary>Each clip's MFCCs and keypoints; clips that fail are reported (skip) or stop the command.</summary>
    private static List<KeypointClip> Prepare(CliIO io, IReadOnlyList<CorpusItem> items, SpeechFeatureOptions features, string? cache, bool skipBad,
        List<TranscriptionFailure> failures, string label)
    {
        var extractor = new SpeechFeatureExtractor(features);
        string? cacheDirectory = cache == "none" ? null : cache ?? KeypointExtractor.DefaultCacheDirectory;
        using var keypoints = new KeypointExtractor(features.FrameRate, cacheDirectory);
        var clips = new List<KeypointClip>();
        io.WithProgress(label, items.Count, tick =>
        {
            foreach (var item in items)
            {
                try
                {
                    clips.Add(Wav2KeypointsTraining.Prepare(item.VideoPath, extractor, keypoints));
                }
                catch (LipNetException ex) when (skipBad)
                {
                    failures.Add(new TranscriptionFailure(item.VideoPath, ex.Message));
                }
                tick();
            }
        });
        return clips;
    }

    private static Command Train(CliIO io)
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Corpus root of videos with audio (GRID layout and the others `stats` reads).", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder: checkpoints, epochs.csv, model.onnx (the best epoch's).", Required = true }.OutputPath();
        var split = SplitOption();
        var cache = CacheOption();
        var epochs = (new Option<int>("--epochs") { Description = "Passes over the training clips.", DefaultValueFactory = _ => 30 }).AtLeast(1);
        var batch = (new Option<int>("--batch-size") { Description = "Clips per step.", DefaultValueFactory = _ => 8 }).AtLeast(1);
        var lr = (new Option<float>("--lr") { Description = "Peak learning rate (linear warm-up, cosine decay).", DefaultValueFactory = _ => 2e-3f }).Within(1e-7f, 1f);
        var hidden = (new Option<int>("--hidden") { Description = "GRU hidden units per direction.", DefaultValueFactory = _ => 128 }).AtLeast(1);
        var layers = (new Option<int>("--layers") { Description = "Bidirectional GRU layers.", DefaultValueFactory = _ => 2 }).AtLeast(1);
        var context = (new Option<int>("--context") { Description = "Frames of audio context on each side of a frame.", DefaultValueFactory = _ => 2 }).AtLeast(0);
        var dropout = (new Option<float>("--dropout") { Description = "Dropout after each GRU layer, in [0, 1).", DefaultValueFactory = _ => 0.1f }).Within(0f, 1f, maxExclusive: true);
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, the shuffles and the dropout masks.", DefaultValueFactory = _ => 0 };
        var perFrame = new Option<int>("--mfcc-per-frame") { Description = "MFCC frames per video frame: 1 (40 ms hop at 25 fps) or 4 (10 ms hop, side by side).", DefaultValueFactory = _ => 1 };
        perFrame.AcceptOnlyFromAmong("1", "4");
        var loss = new Option<string>("--loss") { Description = "l1 (default) or mse (the square of the RMSE the model is judged by).", DefaultValueFactory = _ => "l1" };
        loss.AcceptOnlyFromAmong("l1", "mse");
        var noise = (new Option<float>("--feature-noise") { Description = "Std of Gaussian noise on the standardised training features (0 = none).", DefaultValueFactory = _ => 0f }).Within(0f, 10f);
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report clips without audio or face and go on." };
        var command = new Command("train", "Train an audio → mouth keypoints model (MFCC context windows → BiGRU → 40 lip points per frame).")
            { data, output, split, cache, epochs, batch, lr, hidden, layers, context, dropout, seed, perFrame, loss, noise, resume, skipBad };
        command.SetAction(parse =>
        {
            var (trainItems, heldOut, problems) = TrainCommands.ListSplit(parse.GetValue(data)!.FullName, parse.GetValue(split)!, "none");
            var features = new SpeechFeatureOptions { FeaturesPerVideoFrame = parse.GetValue(perFrame) };
            var failures = new List<TranscriptionFailure>(problems);
            var train = Prepare(io, trainItems, features, parse.GetValue(cache), parse.GetValue(skipBad), failures, "training clips");
            var validation = Prepare(io, heldOut, features, parse.GetValue(cache), parse.GetValue(skipBad), failures, "validation clips");
            foreach (var f in failures)
                io.Skipped(f.Source, f.Reason);
            var options = new Wav2KeypointsTrainingOptions
            {
                Trainer = new TrainerOptions
                {
                    BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), WarmupSteps = 50, Dropout = parse.GetValue(dropout),
                    Seed = parse.GetValue(seed),
                },
                Epochs = parse.GetValue(epochs),
                GruHidden = parse.GetValue(hidden),
                GruLayers = parse.GetValue(layers),
                Context = parse.GetValue(context),
                Features = features,
                Loss = parse.GetValue(loss) == "mse" ? new MseLoss() : new L1Loss(),
                FeatureNoise = parse.GetValue(noise),
                Provenance = "lipnet " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            var state = Wav2KeypointsTraining.Train(train, validation, parse.GetValue(output)!.FullName, options, parse.GetValue(resume),
                new TextWriterLogger(io.Error));
            io.WriteJson(new
            {
                epochs = state.Epoch,
                steps = state.Step,
                best_epoch = state.BestEpoch,
                best_rmse = state.Best,
                train_clips = train.Count,
                validation_clips = validation.Count,
                skipped = failures.Count,
                model = Path.Combine(parse.GetValue(output)!.FullName, Wav2KeypointsTraining.ModelFile),
            });
            return 0;
        });
        return command;
    }

    private static Wav2Keypoints OpenModel(FileInfo? model) => model is null ? Wav2Keypoints.Default() : new Wav2Keypoints(model.FullName);

    private static Command Evaluate(CliIO io)
    {
        var corpus = new Argument<DirectoryInfo>("corpus-dir") { Description = "Corpus root of videos with audio." };
        var model = new Option<FileInfo?>("--model") { Description = "WAV2KP ONNX model with its card (default: the embedded model)." };
        var split = SplitOption();
        var cache = CacheOption();
        var json = new Option<bool>("--json") { Description = "Print one object: {\"clips\", \"rmse\", \"baseline_rmse\", \"nn_rmse\"}." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report clips without audio or face and go on." };
        var record = new Option<bool>("--record") { Description = "Write the figures into the --model file's card (its accuracy for this test set)." };
        var command = new Command("evaluate", "Normalised RMSE of predicted lip keypoints against the video's, with the mean-pose and nearest-frame baselines.")
            { corpus, model, split, cache, json, skipBad, record };
        command.SetAction(parse =>
        {
            using var wav2kp = OpenModel(parse.GetValue(model));
            var (rest, heldOut, problems) = TrainCommands.ListSplit(parse.GetValue(corpus)!.FullName, parse.GetValue(split)!, "none");
            bool listed = parse.GetValue(split) != "none";
            var failures = new List<TranscriptionFailure>(problems);
            // With a held-out list the rest of the corpus is the nearest-neighbour baseline's search set; without, each clip
            // searches the others (leave one clip out).
            var test = Prepare(io, listed ? heldOut : rest, wav2kp.Card.Features, parse.GetValue(cache), parse.GetValue(skipBad), failures, "test clips");
            var reference = listed ? Prepare(io, rest, wav2kp.Card.Features, parse.GetValue(cache), true, failures, "reference clips") : [];
            if (test.Count == 0)
                throw new LipNetException("no clip could be read", parse.GetValue(corpus)!.FullName);
            var accuracy = Wav2KeypointsTraining.Evaluate(wav2kp, test, reference, $"{Path.GetFileName(parse.GetValue(corpus)!.FullName)} ({parse.GetValue(split)})");
            foreach (var f in failures)
                io.Skipped(f.Source, f.Reason);
            if (parse.GetValue(record))
            {
                if (parse.GetValue(model) is not { } file)
                    throw new LipNetException("--record needs --model (the embedded model cannot be rewritten)");
                Wav2Keypoints.RecordAccuracy(file.FullName, accuracy);
            }
            if (parse.GetValue(json))
                io.WriteJson(new { clips = accuracy.Clips, rmse = accuracy.Rmse, baseline_rmse = accuracy.BaselineRmse, nn_rmse = accuracy.NearestNeighbourRmse });
            else
                io.Out.WriteLine($"{accuracy.Clips} clips: RMSE {accuracy.Rmse:F4} (mean pose {accuracy.BaselineRmse:F4}, nearest frame {accuracy.NearestNeighbourRmse:F4}; " +
                    $"ratio to the mean pose {accuracy.Rmse / accuracy.BaselineRmse:F2}), in mouth widths");
            return 0;
        });
        return command;
    }

    private static Command Predict(CliIO io)
    {
        var input = new Argument<FileInfo>("input") { Description = "A video with audio, or an audio file (wav, mp3, m4a …)." };
        var model = new Option<FileInfo?>("--model") { Description = "WAV2KP ONNX model with its card (default: the embedded model)." };
        var output = CliIO.Extensions(new Option<FileInfo?>("--out") { Description = "file.json (40 points per frame), file.mp4 (the points drawn; beside the video's own when the input is a video) or file.png (a strip of frames).", Required = true },
            ".json", ".mp4", ".png").OutputPath();
        var cache = CacheOption();
        var command = new Command("predict", "Predict the lip keypoints of speech: JSON, or an MP4 / PNG to judge them by eye.") { input, model, output, cache };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(input)!.FullName;
            if (!File.Exists(path))
                throw new LipNetException(Directory.Exists(path) ? "is a directory, not a video or audio file" : "file not found", path);
            string file = CliIO.OutputFile(parse.GetValue(output)!);
            using var wav2kp = OpenModel(parse.GetValue(model));
            var audio = AudioReader.Open(path, new AudioReadOptions { SampleRate = wav2kp.Card.Features.SampleRate });
            KeypointSequence? truth = null;
            if (audio.HasVideo)
            {
                string? cacheDirectory = parse.GetValue(cache) is { } c ? (c == "none" ? null : c) : KeypointExtractor.DefaultCacheDirectory;
                using var extractor = new KeypointExtractor(wav2kp.Card.Fps, cacheDirectory);
                try
                {
                    truth = extractor.Extract(path);
                }
                catch (MouthLocatorException ex)
                {
                    io.Error.WriteLine($"warning: no true keypoints ({ex.Message}); drawing the prediction alone");
                }
            }
            var predicted = wav2kp.Predict(audio.ReadAll(), truth?.Frames);
            switch (Path.GetExtension(file).ToLowerInvariant())
            {
                case ".json":
                    CliIO.WriteJsonTo(file, new
                    {
                        input = path,
                        fps = wav2kp.Card.Fps,
                        frames = predicted.Frames,
                        units = "mouth widths, centred on the mouth, x along the lips, y down",
                        points = Enumerable.Range(0, predicted.Frames).Select(t => predicted.Points.AsSpan(t * LipKeypoints.Values, LipKeypoints.Values).ToArray()),
                        truth = truth is null ? null : Enumerable.Range(0, truth.Frames).Select(t => truth.Points.AsSpan(t * LipKeypoints.Values, LipKeypoints.Values).ToArray()),
                    });
                    break;
                case ".mp4":
                    KeypointDrawing.WriteVideo(file, predicted, truth, wav2kp.Card.Fps);
                    break;
                case ".png":
                    KeypointDrawing.WriteStrip(file, predicted, truth);
                    break;
            }
            io.Out.WriteLine($"{file}: {predicted.Frames} frames" + (truth is null ? "" : $", RMSE against the video's own keypoints {LipKeypoints.Rmse(predicted.Points, truth.Points):F4} mouth widths"));
            return 0;
        });
        return command;
    }
}

/// <summary>Draws keypoints: each frame a panel with the predicted lips (and the true ones beside them).</summary>
internal static class KeypointDrawing
{
    private const int Panel = 240;

    private static void Draw(Mat canvas, int left, ReadOnlySpan<float> points, Scalar colour, string label)
    {
        Cv2.PutText(canvas, label, new Point(left + 8, 22), HersheyFonts.HersheySimplex, 0.55, new Scalar(200, 200, 200), 1, LineTypes.AntiAlias);
        // Outer lip 0..19 and inner lip 20..39 are each a closed contour (MediaPipe's lip order); 0.6 panel widths per mouth width.
        foreach (int start in new[] { 0, 20 })
        {
            var contour = new Point[20];
            for (int i = 0; i < 20; i++)
                contour[i] = new Point(left + Panel / 2 + points[2 * (start + i)] * Panel * 0.6f, Panel / 2 + points[2 * (start + i) + 1] * Panel * 0.6f);
            Cv2.Polylines(canvas, [contour], true, colour, 2, LineTypes.AntiAlias);
        }
    }

    private static Mat Frame(KeypointSequence predicted, KeypointSequence? truth, int t)
    {
        var canvas = new Mat(Panel, truth is null ? Panel : 2 * Panel, MatType.CV_8UC3, Scalar.All(30));
        Draw(canvas, 0, predicted.Points.AsSpan(t * LipKeypoints.Values, LipKeypoints.Values), new Scalar(80, 200, 255), $"predicted {t}");
        if (truth is not null && t < truth.Frames)
            Draw(canvas, Panel, truth.Points.AsSpan(t * LipKeypoints.Values, LipKeypoints.Values), new Scalar(120, 255, 120), "video");
        return canvas;
    }

    public static void WriteVideo(string file, KeypointSequence predicted, KeypointSequence? truth, double fps)
    {
        // The lower-case tag is the one FFmpeg's MP4 muxer takes ('MP4V' makes OpenCV print a fallback warning).
        using var writer = new VideoWriter(file, VideoWriter.FourCC('m', 'p', '4', 'v'), fps, new Size(truth is null ? Panel : 2 * Panel, Panel));
        if (!writer.IsOpened())
            throw new LipNetException("cannot write the video (OpenCV's FFmpeg writer)", file);
        for (int t = 0; t < predicted.Frames; t++)
        {
            using var frame = Frame(predicted, truth, t);
            writer.Write(frame);
        }
    }

    /// <summary>Every 5th frame (up to 12) side by side: predicted above, true below.</summary>
    public static void WriteStrip(string file, KeypointSequence predicted, KeypointSequence? truth)
    {
        var frames = Enumerable.Range(0, predicted.Frames).Where(t => t % 5 == 2).Take(12).ToList();
        using var strip = new Mat(truth is null ? Panel : 2 * Panel, Panel * frames.Count, MatType.CV_8UC3, Scalar.All(30));
        for (int i = 0; i < frames.Count; i++)
        {
            using var p = new Mat(Panel, Panel, MatType.CV_8UC3, Scalar.All(30));
            Draw(p, 0, predicted.Points.AsSpan(frames[i] * LipKeypoints.Values, LipKeypoints.Values), new Scalar(80, 200, 255), $"predicted {frames[i]}");
            p.CopyTo(strip[new Rect(i * Panel, 0, Panel, Panel)]);
            if (truth is not null && frames[i] < truth.Frames)
            {
                using var v = new Mat(Panel, Panel, MatType.CV_8UC3, Scalar.All(30));
                Draw(v, 0, truth.Points.AsSpan(frames[i] * LipKeypoints.Values, LipKeypoints.Values), new Scalar(120, 255, 120), $"video {frames[i]}");
                v.CopyTo(strip[new Rect(i * Panel, Panel, Panel, Panel)]);
            }
        }
        if (!Cv2.ImWrite(file, strip))
            throw new LipNetException("cannot write the image", file);
    }
}
