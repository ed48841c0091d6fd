using System.Text.Json;
using LipNet.ML.Runtime;
using LipNet.ML.Synthesis;

namespace LipNet.ML.Tests;

public class TrainCliTests
{
    /// <summary>
    /// train → export → transcribe on the Small preset: 2 synthetic speakers of 2 clips (one speaker held out),
    /// one epoch of one step. Checks the run folder, the log line, the card's accuracy and the exported model.
    /// </summary>
    [Fact]
    public void TrainExportsAModelWhoseCardRecordsTheRun()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var (code, stdout, stderr) = CliTests.Run("train", "--synthetic", "2x2", "--arch", "Small", "--out", run, "--epochs", "1", "--batch-size", "2",
            "--split", "unseen:1", "--seed", "3", "--threads", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("info: Epoch 1: train_loss=", stderr);
        Assert.Contains("val_cer=", stderr);
        foreach (var file in new[] { "model.onnx", "steps.csv", "epochs.csv", "curves.png", "best/state.json", "best/parameters.safetensors", "best/optimizer.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.Single(Directory.GetDirectories(Path.Combine(run, "checkpoints")));

        using (var model = LipNetModel.Load(Path.Combine(run, "model.onnx")))
        {
            Assert.Equal(Decoding.BlankPosition.First, model.Card.Blank);
            Assert.Equal(Tensors.FrameNormalizeOptions.Standardized.Mean, model.Card.Mean);
            Assert.Contains("synthetic 2x2", model.Card.Provenance);
            Assert.Contains(model.Card.Accuracy, a => a.Decoder == "greedy" && a.Cer >= 0);
        }

        // export from the run folder (its best checkpoint), fp16.
        (code, stdout, stderr) = CliTests.Run("export", "--checkpoint", run, "--out", dir.File("fp16.onnx"), "--fp16");
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(dir.File("fp16.onnx")).Length < new FileInfo(Path.Combine(run, "model.onnx")).Length * 0.6);

        // int8 convolutions, calibrated on a small generated corpus; without a calibration corpus: a clear error.
        string corpus = dir.File("corpus");
        (code, _, stderr) = CliTests.Run("synth", "--out", corpus, "--speakers", "1", "--clips-per-speaker", "2", "--seed", "3");
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = CliTests.Run("export", "--checkpoint", run, "--out", dir.File("int8.onnx"), "--int8", "--calibration", corpus, "--calibration-clips", "2");
        Assert.True(code == 0, stderr);
        using (var model = LipNetModel.Load(dir.File("int8.onnx")))
            Assert.Contains("int8 convolutions (u8s8, per-channel weights) calibrated on 2 clips", model.Card.Provenance);
        (code, _, stderr) = CliTests.Run("export", "--checkpoint", run, "--out", dir.File("int8b.onnx"), "--int8");
        Assert.Equal(2, code);
        Assert.Contains("--int8 needs --calibration", stderr);

        // Resume of a finished run trains nothing more and exports again.
        (code, _, stderr) = CliTests.Run("train", "--synthetic", "2x2", "--arch", "Small", "--out", run, "--epochs", "1", "--batch-size", "2",
            "--split", "unseen:1", "--seed", "3", "--resume", run);
        Assert.True(code == 0, stderr);
        Assert.Contains("Resumed from", stderr);
    }

    [Fact]
    public void TrainInitStartsFromAnotherRunsBestWeights()
    {
        using var dir = new TempDir();
        string first = dir.File("first"), second = dir.File("second");
        string[] common = ["--synthetic", "2x2", "--arch", "Small", "--epochs", "1", "--batch-size", "2", "--split", "unseen:1", "--seed", "3", "--threads", "2"];
        var (code, _, stderr) = CliTests.Run(["train", .. common, "--out", first]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", second, "--init", first]);
        Assert.True(code == 0, stderr);
        Assert.Contains("initialized from " + Path.Combine(first, "best", "parameters.safetensors"), stderr);
        using (var model = LipNetModel.Load(Path.Combine(second, "model.onnx")))
            Assert.Contains("initialized from", model.Card.Provenance);
        // An exported model, and the embedded default one, start training too.
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("from-onnx"), "--init", Path.Combine(second, "model.onnx")]);
        Assert.True(code == 0, stderr);
        Assert.Contains("initialized from " + Path.Combine(second, "model.onnx"), stderr);
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("from-default"), "--init", "default", "--max-steps", "1"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("initialized from embedded:lipnet-default.onnx", stderr);

        // Without --profile, a run crops as its --init weights were trained: the embedded model's card says mouth-centred; a run
        // of synthetic clips (no front end) says nothing, so haar, as before profiles.
        Assert.Equal("mouth-centred", LipNet.Cli.TrainCommands.InitProfile("default"));
        Assert.Equal("mouth-centred", LipNet.Cli.TrainCommands.InitProfile(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "onnx", "lipnet-default.onnx")));
        Assert.Null(LipNet.Cli.TrainCommands.InitProfile(first));

        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("third"), "--init", dir.Path]);
        Assert.Equal(2, code);
        Assert.Contains("neither a checkpoint", stderr);
        File.WriteAllBytes(dir.File("bad.safetensors"), [1, 2, 3]);
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("third"), "--init", dir.File("bad.safetensors")]);
        Assert.Equal(2, code);
        Assert.Contains("bad.safetensors", stderr);
    }

    [Fact]
    public void TrainOnACorpusWithAnUnreadableVideoStopsTypedOrSkipsIt()
    {
        using var dir = new TempDir();
        SyntheticCorpus.Write(dir.File("corpus"), new SyntheticCorpusOptions { Speakers = 2, ClipsPerSpeaker = 2, Seed = 6 });
        string broken = Directory.GetFiles(dir.File("corpus/video/s1")).Order().First();
        File.WriteAllBytes(broken, [0, 1, 2]);
        string[] common = ["--data", dir.File("corpus"), "--arch", "Small", "--epochs", "1", "--batch-size", "2", "--split", "unseen:1", "--seed", "3", "--threads", "2"];
        var (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("strict")]);
        Assert.Equal(LipNet.Cli.CliApp.BadInput, code);
        Assert.True(stderr.Contains(broken) && stderr.Contains("--skip-bad"), stderr);
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("skipping"), "--skip-bad"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("skipped " + broken, stderr);
    }

    /// <summary>
    /// Two corpora mixed with weights, validation from a clip list, landmark crops cached on disk: the card names the
    /// crop profile, the provenance the mix, and a second run reads the cached crops (no new cache files).
    /// </summary>
    [Fact]
    public void TrainMixesWeightedCorporaValidatesOnAListAndRecordsTheCropProfile()
    {
        using var dir = new TempDir();
        SyntheticCorpus.Write(dir.File("a"), new SyntheticCorpusOptions { Speakers = 1, ClipsPerSpeaker = 3, Seed = 31 });
        SyntheticCorpus.Write(dir.File("b"), new SyntheticCorpusOptions { Speakers = 1, ClipsPerSpeaker = 2, Seed = 32 });
        string held = Path.GetFileNameWithoutExtension(Directory.GetFiles(dir.File("a/video/s1")).Order().First());
        File.WriteAllText(dir.File("validation.txt"), $"# held-out clips\ns1/{held}\n");
        string cache = dir.File("cache");
        string[] common = ["--data", dir.File("a") + "*2", "--data", dir.File("b") + "*0.5", "--split", "list:" + dir.File("validation.txt"), "--profile", "mouth-centred",
            "--crop-cache", cache, "--augment", "full", "--arch", "Small", "--epochs", "1", "--batch-size", "2", "--seed", "3", "--threads", "2"];
        var (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("run1")]);
        Assert.True(code == 0, stderr);
        // Corpus a: 2 training clips x 2; corpus b (its own s1, another sentence set): 1 of 2 clips; 1 validation clip.
        Assert.Contains("5 training draws an epoch", stderr);
        Assert.Contains("on 5 clips, validating on 1", stderr);
        using (var model = LipNetModel.Load(dir.File("run1/model.onnx")))
        {
            Assert.Equal("mouth-centred", model.Card.CropProfile);
            Assert.Contains("x2: 2 training clips, 1 validation clips", model.Card.Provenance);
            Assert.Contains("crops mouth-centred", model.Card.Provenance);
        }
        int cached = Directory.GetFiles(cache, "*.crops", SearchOption.AllDirectories).Length;
        Assert.True(cached >= 4, $"{cached} cached crop files");
        (code, _, stderr) = CliTests.Run(["train", .. common, "--out", dir.File("run2")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(cached, Directory.GetFiles(cache, "*.crops", SearchOption.AllDirectories).Length);

        (code, _, stderr) = CliTests.Run(["train", .. common.Select(a => a.EndsWith("*0.5") ? dir.File("b") + "*x" : a), "--out", dir.File("run3")]);
        Assert.Equal(2, code);
        Assert.Contains("weight after '*'", stderr);
        (code, _, stderr) = CliTests.Run(["train", .. common.Select(a => a.StartsWith("list:") ? "list:" + dir.File("none.txt") : a), "--out", dir.File("run3")]);
        Assert.Equal(2, code);
        Assert.Contains("clip list not found", stderr);
    }

    /// <summary>A `lipnet train` process killed (SIGKILL) mid-run and resumed ends with the weights of an uninterrupted run, bit for bit.</summary>
    [Fact]
    public void AKilledRunResumedEndsWithTheUninterruptedWeights()
    {
        using var dir = new TempDir();
        string[] common = ["train", "--synthetic", "2x3", "--arch", "Small", "--epochs", "2", "--batch-size", "2", "--split", "none", "--seed", "5",
            "--threads", "1", "--checkpoint-every", "1", "--keep", "20", "--augment", "full"];
        var (code, _, stderr) = CliTests.Run([.. common, "--out", dir.File("whole")]);
        Assert.True(code == 0, stderr);

        string killed = dir.File("killed");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "lipnet.dll"));
        foreach (var a in common.Concat(["--out", killed]))
            start.ArgumentList.Add(a);
        using (var process = System.Diagnostics.Process.Start(start)!)
        {
            string checkpoints = Path.Combine(killed, "checkpoints");
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!process.HasExited && DateTime.UtcNow < deadline &&
                   (!Directory.Exists(checkpoints) || Directory.GetDirectories(checkpoints, "step-*").Count(d => File.Exists(Path.Combine(d, "state.json"))) < 2))
                Thread.Sleep(50);
            Assert.False(process.HasExited, "the run ended before it could be killed");
            process.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
            process.WaitForExit();
        }
        (code, _, stderr) = CliTests.Run([.. common, "--out", killed, "--resume", killed]);
        Assert.True(code == 0, stderr);
        Assert.Contains("Resumed from", stderr);
        string Last(string run) => Directory.GetDirectories(Path.Combine(run, "checkpoints"), "step-*").Where(d => File.Exists(Path.Combine(d, "state.json"))).Order().Last();
        Assert.Equal(Path.GetFileName(Last(dir.File("whole"))), Path.GetFileName(Last(killed)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Last(dir.File("whole")), "parameters.safetensors")), File.ReadAllBytes(Path.Combine(Last(killed), "parameters.safetensors")));
    }

    [Fact]
    public void BenchTrainPrintsOneJsonObjectWithThePhases()
    {
        var (code, stdout, stderr) = CliTests.Run("bench-train", "--arch", "Small", "--batch-size", "1", "--steps", "1");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("samples_per_s").GetDouble() > 0);
        var phases = root.GetProperty("phases_ms");
        Assert.Equal(["forward", "ctc", "backward", "optimizer"], phases.EnumerateObject().Select(p => p.Name));
        Assert.All(phases.EnumerateObject(), p => Assert.True(p.Value.GetDouble() >= 0));
    }

    [Fact]
    public void TrainRejectsBadArgumentsWithAClearMessage()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliTests.Run("train", "--synthetic", "2by2", "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("--synthetic '2by2'", stderr);
        (code, _, stderr) = CliTests.Run("train", "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --data", stderr);
        (code, _, stderr) = CliTests.Run("export", "--checkpoint", dir.Path, "--out", dir.File("m.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("not a checkpoint", stderr);
        File.WriteAllText(dir.File("report.json"), "{ \"sentences\": ");
        (code, _, stderr) = CliTests.Run("export", "--checkpoint", dir.Path, "--out", dir.File("m.onnx"), "--accuracy", dir.File("report.json"));
        Assert.Equal(2, code);
        Assert.Contains("report.json", stderr);
        Assert.Contains("not a readable evaluate report", stderr);
    }
}
