using System.Text.Json;
using LipNet.Cli;

namespace LipNet.ML.Tests;

public class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void CropJsonIsExactlyOneObjectWithOneBoxPerFrame()
    {
        using var dir = new TempDir();
        var video = TestVideos.Write(dir.File("clip.avi"), frames: 9, width: 160, height: 120);
        var (code, stdout, stderr) = Run("crop", video, "--out", dir.File("crops"), "--json", "--locator", "fixed", "--frames");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        // Today's contract first, then what the front end reports beside it.
        Assert.Equal(["video", "frames", "fps", "width", "height", "boxes", "angles", "profile", "source_fps", "source_frames", "duration", "missing_frames"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(video, root.GetProperty("video").GetString());
        Assert.Equal(9, root.GetProperty("frames").GetInt32());
        Assert.Equal(25.0, root.GetProperty("fps").GetDouble(), 3);
        Assert.Equal(160, root.GetProperty("width").GetInt32());
        Assert.Equal(120, root.GetProperty("height").GetInt32());
        var boxes = root.GetProperty("boxes").EnumerateArray().ToList();
        Assert.Equal(9, boxes.Count);
        Assert.All(boxes, b => Assert.Equal(4, b.GetArrayLength()));
        Assert.True(File.Exists(dir.File("crops/clip_mouth.png")));
        Assert.Equal(9, Directory.GetFiles(dir.File("crops/clip_frames"), "*.png").Length);
    }

    [Fact]
    public void CropOfAMissingVideoFailsWithAClearMessage()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Run("crop", dir.File("missing.mpg"), "--out", dir.Path, "--json");
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains("missing.mpg", stderr);
        Assert.Contains("not found", stderr);
    }

    [Fact]
    public void StatsJsonCountsSpeakersVocabularyAndLengths()
    {
        using var dir = new TempDir();
        foreach (var (speaker, id) in new[] { ("s1", "bgbsza"), ("s1", "lbbo3n"), ("s2", "pwabza") })
        {
            File.WriteAllBytes(dir.File($"video/{speaker}/{id}.mpg"), [0]);
            File.WriteAllText(dir.File($"align/{speaker}/{id}.align"), CorpusTests.Align);
        }
        File.WriteAllBytes(dir.File("video/s2/broken.mpg"), [0]);
        var (code, stdout, stderr) = Run("stats", dir.Path, "--json", "--skip-bad", "--split", "unseen:1", "--seed", "2");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("grid", root.GetProperty("corpus").GetString());
        Assert.Equal(3, root.GetProperty("items").GetInt32());
        Assert.Equal(2, root.GetProperty("per_speaker").GetProperty("s1").GetInt32());
        Assert.Equal(6, root.GetProperty("vocabulary_size").GetInt32());
        Assert.Equal(3, root.GetProperty("sentence_length_histogram").GetProperty("6").GetInt32());
        Assert.Equal(2.98 * 3, root.GetProperty("duration_seconds").GetProperty("total").GetDouble(), 3);
        Assert.Equal(3, root.GetProperty("split").GetProperty("train").GetInt32() + root.GetProperty("split").GetProperty("test").GetInt32());
        Assert.Single(root.GetProperty("problems").EnumerateArray());
    }

    [Fact]
    public void StatsWithoutSkipBadStopsOnTheBadFileNamingIt()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("video/s1/bgbsza.mpg"), [0]);
        File.WriteAllText(dir.File("align/s1/bgbsza.align"), "0 x sil\n");
        var (code, _, stderr) = Run("stats", dir.Path);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("bgbsza.align", stderr);
        Assert.Contains("line 1", stderr);
    }

    [Fact]
    public void TranscribeJsonKeepsAFailedVideoInTheArrayWithItsError()
    {
        using var dir = new TempDir();
        string clip = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "samples", "data", "synthetic", "video", "s1", "sbwb8s.mp4");
        string bad = dir.File("bad.mp4");
        File.WriteAllText(bad, "not a video");
        var (code, stdout, stderr) = Run("transcribe", clip, bad, "--beam", "0", "--json");
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("bad.mp4", stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        var ok = doc.RootElement[0];
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("error").ValueKind);
        Assert.InRange(ok.GetProperty("confidence").GetDouble(), 0, 1);
        var failed = doc.RootElement[1];
        Assert.EndsWith("bad.mp4", failed.GetProperty("video").GetString());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("text").ValueKind);
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("transcribe", "x.mp4", "--beam", "-5")]
    [InlineData("synth", "--out", "x", "--speakers", "0")]
    [InlineData("synth", "--out", "x", "--mouth-onset", "0")]
    [InlineData("synth", "--out", "x", "--speakers", "100001")]
    [InlineData("synth", "--out", "x", "--sentences", "100000")]
    [InlineData("synth", "--out", "x", "--size", "0x0")]
    [InlineData("synth", "--out", "x", "--size", "abc")]
    [InlineData("crop", "x.mp4", "--out", "o", "--size", "5000x5000")]
    [InlineData("lm", "--out", "x", "--order", "9")]
    [InlineData("live", "--camera", "-1")]
    [InlineData("train", "--out", "x", "--synthetic", "1x1", "--dropout", "1")]
    [InlineData("train", "--out", "x", "--synthetic", "1x1", "--lr", "-0.1")]
    [InlineData("bench", "x.mp4", "--repeat", "0")]
    [InlineData("live", "--input", "x.mp4", "--open-timeout", "0")]
    [InlineData("transcribe", "x.mp4", "--beam", "abc")]
    [InlineData("transcribe", "x.mp4", "--format", "xml")]
    [InlineData("transcribe", "x.mp4", "--landmark-every", "x")]
    [InlineData("transcribe", "x.mp4", "--landmark-every", "11")]
    [InlineData("transcribe", "x.mp4", "--alpha", "abc")]
    [InlineData("live", "--camera", "abc")]
    [InlineData("crop", "x.mp4", "--out", "o", "--fps", "fast")]
    [InlineData("transcribe", "", "x.mp4")]
    [InlineData("speak", "")]
    [InlineData("transcribe", "x.mp4", "--device", "gpu")]
    [InlineData("evaluate", "x", "--out", "o", "--split", "overlapped:-1")]
    [InlineData("train", "--out", "x", "--synthetic", "1x1", "--split", "unseen:x")]
    [InlineData("transcribe", "x.mp4", "--truth", "-h", "--beam", "abc")]
    public void OutOfRangeOrUnparsableNumbersAreUsageErrorsNamingTheOption(params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(1, code);
        Assert.Contains(args[^1], stderr);
        if (args[^2] != "--format") // System.CommandLine names the value and the choices, not the option, for a value out of a list
            Assert.Contains(args[^2], stderr);
        Assert.DoesNotContain("Unhandled", stderr);
        // One line per error and a pointer to the help on stderr; nothing on stdout (it may be redirected to a file).
        Assert.Equal("", stdout);
        Assert.Contains("--help' lists the options", stderr);
    }

    [Fact]
    public void TruthComesFromAGridIdAsTheNameOrEndingIt()
    {
        using var dir = new TempDir();
        Assert.Equal("bin blue at f four please", LipNet.Cli.ModelCommands.TruthFor(dir.File("bbaf4p.mp4")));
        Assert.Equal("bin blue in m three again", LipNet.Cli.ModelCommands.TruthFor(dir.File("s2_l_bbim3a.mov"))); // Lombard GRID
        Assert.Null(LipNet.Cli.ModelCommands.TruthFor(dir.File("holiday_video.mp4")));
        Assert.Null(LipNet.Cli.ModelCommands.TruthFor(dir.File("talk.mp4")));
    }

    [Fact]
    public void OutputPathsThatCannotBeWrittenAreUsageErrorsNamingThePath()
    {
        using var dir = new TempDir();
        string file = dir.File("a-file.txt");
        File.WriteAllText(file, "x");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["evaluate", dir.Path, "--out", file], "is a file, not a folder"),
            (["synth", "--out", file], "is a file, not a folder"),
            (["evaluate", dir.Path, "--out", Path.Combine(file, "sub")], $"{file} on its path is a file"),
            (["speak", "x.mp4", "--out", Path.Combine(file, "x.wav")], $"{file} on its path is a file"),
            (["lm", "--out", dir.Path], "is a folder, not a file"),
        })
        {
            var (code, stdout, stderr) = Run(args);
            Assert.Equal(1, code);
            Assert.Contains("--out", stderr);
            Assert.Contains(expected, stderr);
            Assert.Equal("", stdout);
        }
    }

    [Theory]
    [InlineData("transcribe")]
    [InlineData("bench")]
    public void AMistypedOptionIsAUsageErrorNotAVideoName(string command)
    {
        // A many-valued video argument would otherwise take "--beem 50" for two more videos and read the real one.
        var (code, stdout, stderr) = Run(command, "x.mp4", "--beem", "50");
        Assert.Equal(1, code);
        Assert.Contains("Unrecognized option '--beem'", stderr);
        Assert.DoesNotContain("not found", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void StatsAndEvaluateOnAFolderWithoutClipsAreTypedErrors()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run("stats", dir.Path);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("no clips found", stderr);
        (code, _, stderr) = Run("evaluate", dir.Path, "--out", dir.File("report"));
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("no clips found", stderr);
    }
}
