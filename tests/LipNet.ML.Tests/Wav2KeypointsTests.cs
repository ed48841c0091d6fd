using LipNet.ML.Audio;
using LipNet.ML.Keypoints;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;
using LipNet.ML.Training;

namespace LipNet.ML.Tests;

/// <summary>The WAV2KP system: data preparation, training with resume, the exported model, evaluation and bad input.</summary>
public class Wav2KeypointsTests(Xunit.Abstractions.ITestOutputHelper log)
{
    private static string Repository => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", ".."));

    /// <summary>
    /// Clips whose keypoints follow their "audio": the mouth opens with the first MFCC of the frame and the one before, and
    /// the corners spread with the second — learnable, and far from the mean pose.
    /// </summary>
    private static List<KeypointClip> Clips(int count, int seed, int frames = 20)
    {
        var random = new Random(seed);
        var clips = new List<KeypointClip>();
        for (int c = 0; c < count; c++)
        {
            var mfcc = new float[frames * 4];
            for (int i = 0; i < mfcc.Length; i++)
                mfcc[i] = (float)(random.NextDouble() * 2 - 1) * (i % 4 + 1) + 3;
            var targets = new float[frames * LipKeypoints.Values];
            for (int t = 0; t < frames; t++)
            {
                float opening = 0.1f * (mfcc[t * 4] - 3) + 0.05f * (t > 0 ? mfcc[(t - 1) * 4] - 3 : 0), spread = 0.05f * (mfcc[t * 4 + 1] - 3);
                for (int p = 0; p < LipKeypoints.Count; p++)
                {
                    double a = 2 * Math.PI * (p % 20) / 20;
                    targets[t * LipKeypoints.Values + 2 * p] = (float)(-(0.5 + spread) * Math.Cos(a));
                    targets[t * LipKeypoints.Values + 2 * p + 1] = (float)((p < 20 ? 0.3 : opening) * Math.Sin(a));
                }
            }
            clips.Add(new KeypointClip($"clip{seed}-{c}.mp4", mfcc, 4, targets, frames));
        }
        return clips;
    }

    private static Wav2KeypointsTrainingOptions Options(int epochs) => new()
    {
        Trainer = new TrainerOptions { BatchSize = 4, LearningRate = 1e-2f, WarmupSteps = 4, Seed = 2, Threads = 1, Dropout = 0.1f, WeightDecay = 0 },
        Epochs = epochs,
        Frames = 16,
        Context = 1,
        GruHidden = 16,
        GruLayers = 1,
        Features = new SpeechFeatureOptions { MfccCount = 4 },
    };

    [Fact]
    public void TrainingLearnsTheMappingBeatsBothBaselinesAndResumesExactly()
    {
        var train = Clips(24, 1);
        var validation = Clips(6, 2);
        using var whole = new TempDir();
        var state = Wav2KeypointsTraining.Train(train, validation, whole.Path, Options(30));
        Assert.Equal(30, state.Epoch);
        Assert.Equal(30 * 6, state.Step);
        Assert.InRange(state.BestEpoch, 1, 30);
        Assert.True(File.Exists(Path.Combine(whole.Path, Wav2KeypointsTraining.ModelFile)));
        Assert.Equal(31, File.ReadAllLines(Path.Combine(whole.Path, EpochLoop.EpochsCsv)).Length);

        using var model = new Wav2Keypoints(Path.Combine(whole.Path, Wav2KeypointsTraining.ModelFile));
        Assert.Equal(4, model.Card.Features.MfccCount);
        Assert.Equal(LipKeypoints.Values, model.Card.MeanPose.Length);
        var accuracy = Wav2KeypointsTraining.Evaluate(model, validation, train, "synthetic");
        log.WriteLine($"RMSE {accuracy.Rmse:F4}, mean pose {accuracy.BaselineRmse:F4}, nearest frame {accuracy.NearestNeighbourRmse:F4}");
        Assert.Equal(6, accuracy.Clips);
        Assert.True(accuracy.Rmse < 0.6 * accuracy.BaselineRmse, $"RMSE {accuracy.Rmse:F4} vs mean pose {accuracy.BaselineRmse:F4}");
        Assert.True(accuracy.Rmse < accuracy.NearestNeighbourRmse, $"RMSE {accuracy.Rmse:F4} vs nearest frame {accuracy.NearestNeighbourRmse:F4}");
        // The figures go into the model's card.
        Wav2Keypoints.RecordAccuracy(Path.Combine(whole.Path, Wav2KeypointsTraining.ModelFile), accuracy);
        using (var recorded = new Wav2Keypoints(Path.Combine(whole.Path, Wav2KeypointsTraining.ModelFile)))
            Assert.Equal(accuracy, Assert.Single(recorded.Card.Accuracy));
        // Whole clips of any length go through the exported model (dynamic frames).
        var longer = Clips(1, 3, frames: 40);
        Assert.Equal(1, Wav2KeypointsTraining.Evaluate(model, longer, [], "longer").Clips);

        // Stopped in the middle of epoch 13 (as a kill would) and resumed from the newest checkpoint: the same weights and
        // figures as the uninterrupted run.
        using var interrupted = new TempDir();
        using var stop = new CancellationTokenSource();
        var progress = new SynchronousProgress<StepResult>(r => { if (r.Step == 12 * 6 + 3) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Wav2KeypointsTraining.Train(train, validation, interrupted.Path, Options(30), progress: progress, cancellationToken: stop.Token));
        // A save cut short by a crash leaves a .tmp folder with a torn state: resuming ignores it.
        var torn = Directory.CreateDirectory(Path.Combine(interrupted.Path, "checkpoints", "epoch-0099.tmp"));
        File.WriteAllText(Path.Combine(torn.FullName, TrainingCheckpoint.StateFile), "{ \"step\": ");
        var resumed = Wav2KeypointsTraining.Train(train, validation, interrupted.Path, Options(30), resume: true);
        Assert.Equal(state.Epochs.Select(e => e.Validation), resumed.Epochs.Select(e => e.Validation));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole.Path, "best", TrainingCheckpoint.ParametersFile)),
            File.ReadAllBytes(Path.Combine(interrupted.Path, "best", TrainingCheckpoint.ParametersFile)));
    }

    [Fact]
    public void MseLossAndFeatureNoiseLearnAndStayReproducible()
    {
        var train = Clips(24, 1);
        var validation = Clips(6, 2);
        var options = Options(12) with { Loss = new MseLoss(), FeatureNoise = 0.1f };
        using var first = new TempDir();
        using var second = new TempDir();
        using var clean = new TempDir();
        var a = Wav2KeypointsTraining.Train(train, validation, first.Path, options);
        var b = Wav2KeypointsTraining.Train(train, validation, second.Path, options);
        var noiseless = Wav2KeypointsTraining.Train(train, validation, clean.Path, options with { FeatureNoise = 0 });
        Assert.Equal(a.Epochs.Select(e => e.Validation), b.Epochs.Select(e => e.Validation)); // the noise is seeded
        Assert.NotEqual(a.Epochs.Select(e => e.Validation), noiseless.Epochs.Select(e => e.Validation)); // and applied
        using var model = new Wav2Keypoints(Path.Combine(first.Path, Wav2KeypointsTraining.ModelFile));
        var accuracy = Wav2KeypointsTraining.Evaluate(model, validation, train, "synthetic");
        Assert.True(accuracy.Rmse < 0.95 * accuracy.BaselineRmse, $"RMSE {accuracy.Rmse:F4} vs mean pose {accuracy.BaselineRmse:F4}"); // learning (12 epochs)
    }

    [Fact]
    public void FeaturesStackContextAndStandardise()
    {
        float[] values = [1, 10, 2, 20, 3, 30]; // 3 frames x 2 features
        var stacked = KeypointFeatures.Stack(values, 3, 2, [2, 20], [1, 10], context: 1);
        // Frame 0: frames -1 (clamped to 0), 0, 1.
        Assert.Equal([-1, -1, -1, -1, 0, 0], stacked[..6]);
        Assert.Equal([0, 0, 1, 1, 1, 1], stacked[12..]);
        Assert.Throws<TensorShapeException>(() => KeypointFeatures.Stack(values, 3, 2, [1], [], 1));
    }

    [Fact]
    public void ARealClipsAudioAndKeypointsLineUpFrameForFrame()
    {
        string clip = Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bbaf4p.mp4");
        using var keypoints = new KeypointExtractor();
        var data = Wav2KeypointsTraining.Prepare(clip, new SpeechFeatureExtractor(), keypoints);
        Assert.Equal(75, data.Frames);
        Assert.Equal(75 * 13, data.Mfcc.Length);
        Assert.Equal(75 * LipKeypoints.Values, data.Targets.Length);
        // The mouth corners of a real face: about half a mouth width either side of the centre.
        var (x0, _) = new KeypointSequence(data.Targets, 75, [], 1).Point(0, 0);
        Assert.InRange(x0, -0.6f, -0.4f);
    }

    [Fact]
    public void BadInputIsTyped()
    {
        using var dir = new TempDir();
        // A model without a WAV2KP card.
        var lipnet = LipReaderTests.RandomModel(dir);
        Assert.Throws<ModelLoadException>(() => new Wav2Keypoints(lipnet));
        Assert.Throws<ModelLoadException>(() => new Wav2Keypoints(dir.File("absent.onnx")));
        // A video without audio, through a trained model.
        var state = Wav2KeypointsTraining.Train(Clips(4, 5), [], dir.File("run"), Options(1) with { Features = new SpeechFeatureOptions() with { MfccCount = 4 } });
        using var model = new Wav2Keypoints(dir.File("run/model.onnx"));
        var silent = dir.File("silent.avi");
        SyntheticCorpus.WriteVideo(SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 1 }, 0, 0).Frames, silent, SyntheticVideoFormat.Avi);
        Assert.ThrowsAny<AudioDecodeException>(() => model.Predict(silent));
        Assert.Throws<AudioTooShortException>(() => model.Predict(new AudioClip(new float[100], 16000, "short")));
        Assert.Throws<SampleRateMismatchException>(() => model.Predict(new AudioClip(new float[8000], 8000, "8k")));
        Assert.Equal(1, state.Epoch);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
