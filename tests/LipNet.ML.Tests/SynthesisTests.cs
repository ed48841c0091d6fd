using System.Text.Json;
using LipNet.ML.Corpora;
using LipNet.ML.Mouth;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

public class SynthesisTests
{
    private static readonly SyntheticCorpusOptions Options = new() { Speakers = 4, ClipsPerSpeaker = 3, Seed = 5 };

    [Fact]
    public void RenderingIsDeterministicInTheSeed()
    {
        var a = SyntheticCorpus.Render(Options, 1, 2);
        var b = SyntheticCorpus.Render(Options, 1, 2);
        Assert.Equal(a.Sentence, b.Sentence);
        Assert.Equal(a.Frames.Pixels, b.Frames.Pixels);
        Assert.True(GridGrammar.IsValidSentence(a.Sentence));
        Assert.Equal(75, a.Frames.FrameCount);
        Assert.Equal((360, 288), (a.Frames.Width, a.Frames.Height));
        var c = SyntheticCorpus.Render(Options with { Seed = 6 }, 1, 2);
        Assert.NotEqual(a.Frames.Pixels, c.Frames.Pixels);
    }

    [Fact]
    public void MouthOnsetHoldsTheRestPoseUntilShortlyBeforeTheFirstPhoneme()
    {
        // Default: the mouth leaves rest from the clip's first frame (the convention of every synthetic corpus so far).
        var drift = SyntheticCorpus.Render(Options, 0, 0);
        Assert.NotEqual(MouthShape.Rest, drift.Mouth[2]);
        var onset = SyntheticCorpus.Render(Options with { MouthOnsetSeconds = 0.15 }, 0, 0);
        Assert.Equal(drift.Sentence, onset.Sentence);
        Assert.Equal(drift.Words, onset.Words);
        double leave = onset.Timeline.Phonemes[0].Start - 0.15;
        Assert.True(leave > 0.2, $"the first phoneme starts at {onset.Timeline.Phonemes[0].Start} s");
        for (int t = 0; (t + 0.5) / 25 <= leave; t++)
            Assert.Equal(MouthShape.Rest, onset.Mouth[t]);
        int moving = (int)Math.Ceiling(onset.Timeline.Phonemes[0].Start * 25);
        Assert.NotEqual(MouthShape.Rest, onset.Mouth[moving]);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            SyntheticCorpus.Write(Path.GetTempPath(), Options with { MouthOnsetSeconds = 0 }));
    }

    [Fact]
    public void SpeakersLookDifferent()
    {
        var ids = Enumerable.Range(0, 6).Select(i => SpeakerIdentity.Create(SyntheticCorpus.SpeakerName(i), 5)).ToList();
        Assert.Equal(6, ids.Select(i => i.Skin).Distinct().Count());
        Assert.Equal(6, ids.Select(i => (MathF.Round(i.CenterX, 2), MathF.Round(i.FaceScale, 2))).Distinct().Count());
        // Pixel-level: the mean colour of a whole frame differs between speakers.
        var means = Enumerable.Range(0, 4).Select(s => SyntheticCorpus.Render(Options, s, 0).Frames.Frame(0).ToArray().Select(v => (double)v).Average()).ToList();
        Assert.Equal(4, means.Select(m => Math.Round(m)).Distinct().Count());
    }

    [Fact]
    public void WordTimingsFitTheClipInOrder()
    {
        var clip = SyntheticCorpus.Render(Options, 0, 0);
        Assert.Equal(clip.Sentence, string.Join(' ', clip.Words.Select(w => w.Word)));
        Assert.True(clip.Words[0].Start >= 0.05);
        Assert.True(clip.Words[^1].End <= 3.0);
        for (int i = 1; i < clip.Words.Count; i++)
            Assert.True(clip.Words[i].Start >= clip.Words[i - 1].End - 1e-9);
    }

    [Fact]
    public void HaarLocatorFindsTheSyntheticMouth()
    {
        using var locator = new HaarMouthLocator();
        for (int s = 0; s < Options.Speakers; s++)
        {
            var clip = SyntheticCorpus.Render(Options, s, 0);
            var found = locator.Locate(clip.Frames, 2f);
            for (int t = 0; t < found.Length; t++)
            {
                var truth = clip.MouthBoxes[t];
                Assert.True(Math.Abs(found[t].CenterX - truth.CenterX) < 0.3 * truth.Width && Math.Abs(found[t].CenterY - truth.CenterY) < 0.6 * truth.Height,
                    $"speaker {s} frame {t}: located {found[t]}, true mouth {truth}");
            }
        }
    }

    [Fact]
    public void TrackedFacesGiveTheMouthOfFullFrameSearches()
    {
        using var tracking = new HaarMouthLocator();
        using var searching = new HaarMouthLocator(new HaarMouthLocatorOptions { TrackFace = false });
        Assert.True(tracking.Options.TrackFace);
        // Neither is exact (Haar boxes jitter by a few pixels): tracking must be as close to the true mouth.
        double trackedError = 0, searchedError = 0;
        for (int s = 0; s < Options.Speakers; s++)
        {
            var clip = SyntheticCorpus.Render(Options, s, 1);
            trackedError += MouthTests.MeanCentreError(tracking.Locate(clip.Frames, 2f), clip.MouthBoxes);
            searchedError += MouthTests.MeanCentreError(searching.Locate(clip.Frames, 2f), clip.MouthBoxes);
        }
        Assert.True(trackedError <= 1.25 * searchedError + Options.Speakers, $"mean centre error tracked {trackedError / Options.Speakers:0.0} px, searched {searchedError / Options.Speakers:0.0} px");
    }

    [Fact]
    public void InMemoryCropsEqualWrittenAndDecodedCropsUpToCodecNoise()
    {
        using var dir = new TempDir();
        var clip = SyntheticCorpus.Render(Options, 2, 1);
        var inMemory = new FrameNormalizer().Normalize(SyntheticCorpus.MouthCrops(clip));
        foreach (var format in new[] { SyntheticVideoFormat.Avi, SyntheticVideoFormat.Mp4 })
        {
            var path = dir.File($"clip.{format.ToString().ToLowerInvariant()}");
            SyntheticCorpus.WriteVideo(clip.Frames, path, format);
            var decoded = VideoLoader.Load(path);
            Assert.Equal(clip.Frames.FrameCount, decoded.FrameCount);
            var crops = new MouthCropper(new FixedRegionMouthLocator()).CropBoxes(decoded, clip.MouthBoxes);
            var viaFile = new FrameNormalizer().Normalize(crops);
            double meanAbs = inMemory.Data.Zip(viaFile.Data, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(meanAbs < 0.03, $"{format}: mean |difference| {meanAbs:0.0000} is more than codec noise");
        }
    }

    /// <summary>Fraction of very dark pixels (the inside of an open mouth) in a crop.</summary>
    private static double DarkFraction(ReadOnlySpan<byte> crop)
    {
        int dark = 0, n = crop.Length / 3;
        for (int i = 0; i < crop.Length; i += 3)
            if (Math.Max(crop[i], Math.Max(crop[i + 1], crop[i + 2])) < 70 && crop[i + 2] < 60)
                dark++;
        return (double)dark / n;
    }

    [Fact]
    public void VisemesAreSeparableFromPixels()
    {
        // Bilabial frames (lips shut) against open-vowel frames (jaw open), for every speaker.
        for (int s = 0; s < Options.Speakers; s++)
        {
            var closed = new List<double>();
            var open = new List<double>();
            for (int c = 0; c < Options.ClipsPerSpeaker; c++)
            {
                var clip = SyntheticCorpus.Render(Options, s, c);
                var crops = SyntheticCorpus.MouthCrops(clip);
                for (int t = 0; t < crops.FrameCount; t++)
                {
                    double time = (t + 0.5) / 25;
                    var seg = clip.Timeline.Phonemes.FirstOrDefault(p => p.Start + 0.25 * (p.End - p.Start) <= time && time <= p.End - 0.25 * (p.End - p.Start));
                    if (seg?.Viseme == Viseme.Bilabial)
                        closed.Add(DarkFraction(crops.Frame(t)));
                    else if (seg?.Viseme == Viseme.OpenVowel)
                        open.Add(DarkFraction(crops.Frame(t)));
                }
            }
            Assert.NotEmpty(closed);
            Assert.NotEmpty(open);
            Assert.True(open.Average() - closed.Average() > 0.05,
                $"speaker {s}: open-vowel dark fraction {open.Average():0.000} vs bilabial {closed.Average():0.000}");
        }
    }

    [Fact]
    public void WrittenCorpusIsGridLayoutParsesAndResumes()
    {
        using var dir = new TempDir();
        var options = Options with { Speakers = 2, ClipsPerSpeaker = 2 };
        var first = SyntheticCorpus.Write(dir.Path, options);
        Assert.Equal((4, 0), (first.Written, first.Skipped));
        Assert.Empty(first.Failed);
        var items = new GridCorpus(dir.Path).Read().ToList();
        Assert.Equal(4, items.Count);
        Assert.All(items, i =>
        {
            Assert.True(GridGrammar.IsValidSentence(i.Sentence));
            Assert.Equal(GridGrammar.SentenceFromId(i.Id), i.Sentence);
            Assert.Equal(3.0, i.Duration!.Value, 3);
        });
        Assert.Equal(["s1", "s2"], items.Select(i => i.Speaker).Distinct().Order());
        var aligns = Directory.GetFiles(Path.Combine(dir.Path, "align", "s1"));
        Assert.All(aligns, a => Assert.StartsWith("0 ", File.ReadAllLines(a)[0]));
        Assert.All(aligns, a => Assert.EndsWith(" sil", File.ReadAllLines(a)[^1]));

        // Resume: a deleted clip is rewritten, complete ones are kept; no temporary files remain.
        File.Delete(items[0].VideoPath);
        var second = SyntheticCorpus.Write(dir.Path, options);
        Assert.Equal((1, 3), (second.Written, second.Skipped));
        Assert.Empty(Directory.GetFiles(dir.Path, ".tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void SynthCommandWritesACorpusThatCropAndStatsRead()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = CliTests.Run("synth", "--out", dir.Path, "--speakers", "2", "--clips-per-speaker", "2", "--seed", "3", "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
            Assert.Equal(4, doc.RootElement.GetProperty("written").GetInt32());
        var video = Directory.GetFiles(Path.Combine(dir.Path, "video", "s1")).First();
        var crop = CliTests.Run("crop", video, "--out", Path.Combine(dir.Path, "crops"), "--json");
        Assert.True(crop.Code == 0, crop.Err);
        var stats = CliTests.Run("stats", dir.Path, "--json");
        using var s = JsonDocument.Parse(stats.Out);
        Assert.Equal(4, s.RootElement.GetProperty("items").GetInt32());
        Assert.Equal(2, s.RootElement.GetProperty("speakers").GetInt32());
    }
}
