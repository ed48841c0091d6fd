using System.Globalization;
using System.Text;
using LipNet.ML.Corpora;

namespace LipNet.ML.Tests;

public class CorpusTests
{
    internal const string Align = "0 16000 sil\n16000 24250 bin\n24250 31750 green\n31750 35250 by\n35250 42000 s\n42000 53000 zero\n53000 61250 again\n61250 74500 sil\n";

    /// <summary>A Lombard-style phone label for "bin blue in m three again".</summary>
    internal static string LombardJson(string key)
    {
        string[][] words = [["b", "ih", "n"], ["b", "l", "uw"], ["ih", "n"], ["eh", "m"], ["th", "r", "iy"], ["ax", "g", "eh", "n"]];
        var sb = new StringBuilder($"{{\"{key}\": [{{\"duration\": 0.2, \"offset\": 0, \"phone\": \"SIL\"}}");
        double t = 0.2;
        foreach (var w in words)
        {
            for (int i = 0; i < w.Length; i++)
            {
                string pos = w.Length == 1 ? "S" : i == 0 ? "B" : i == w.Length - 1 ? "E" : "I";
                sb.Append(CultureInfo.InvariantCulture, $", {{\"duration\": 0.1, \"offset\": {t:0.##}, \"phone\": \"{w[i]}_{pos}\"}}");
                t += 0.1;
            }
        }
        sb.Append(CultureInfo.InvariantCulture, $", {{\"duration\": 0.15, \"offset\": {t:0.##}, \"phone\": \"SIL_S\"}}]}}");
        return sb.ToString();
    }

    [Fact]
    public void AlignParsesWordsAndTimingsAndDropsSilence()
    {
        var words = GridAlign.Parse(Align, "x.align", out double seconds);
        Assert.Equal("bin green by s zero again", string.Join(' ', words.Select(w => w.Word)));
        Assert.Equal(16000 / 25000.0, words[0].Start, 9);
        Assert.Equal(24250 / 25000.0, words[0].End, 9);
        Assert.Equal(74500 / 25000.0, seconds, 9);
        Assert.DoesNotContain(GridAlign.Parse("0 10 sil\n10 20 sp\n20 30 bin\n").Select(w => w.Word), w => w is "sil" or "sp");
    }

    [Theory]
    [InlineData("", "no segments")]
    [InlineData("0 16000\n", "expected")]
    [InlineData("0 abc bin\n", "numbers")]
    [InlineData("100 50 bin\n", "reversed")]
    [InlineData("0 100 sil\n", "only silence")]
    [InlineData("0 100 bin\n50 200 red\n", "before the previous")]
    public void MalformedAlignNamesFileAndLine(string text, string reason)
    {
        var ex = Assert.Throws<CorpusFormatException>(() => GridAlign.Parse(text, "bad.align"));
        Assert.Equal("bad.align", ex.FilePath);
        Assert.Contains(reason, ex.Message);
        if (text.Length > 0 && reason != "only silence")
            Assert.NotNull(ex.Line);
    }

    [Fact]
    public void AlignRoundTripsThroughFormat()
    {
        var words = GridAlign.Parse(Align, null, out double seconds);
        var again = GridAlign.Parse(GridAlign.Format(words, seconds), null, out double seconds2);
        Assert.Equal(words, again);
        Assert.Equal(seconds, seconds2, 6);
    }

    [Theory]
    [InlineData("bgbsza", "bin green by s zero again")]
    [InlineData("bwaq8s", "bin white at q eight soon")]
    [InlineData("lbbo3n", "lay blue by o three now")]
    [InlineData("pwabza", "place white at b zero again")]
    [InlineData("srizzp", "set red in z zero please")]
    public void GridIdsAndSentencesAreInverse(string id, string sentence)
    {
        Assert.Equal(sentence, GridGrammar.SentenceFromId(id));
        Assert.Equal(id, GridGrammar.IdFromSentence(sentence));
        Assert.True(GridGrammar.IsValidSentence(sentence));
    }

    [Fact]
    public void GridGrammarHas51WordsAllPronounced()
    {
        var words = GridGrammar.Slots.SelectMany(s => s).ToList();
        Assert.Equal(51, words.Count);
        Assert.All(words, w => Assert.True(GridGrammar.Pronunciations.ContainsKey(w), w));
        Assert.DoesNotContain("w", GridGrammar.Letters);
        Assert.False(GridGrammar.TryParseId("bgbswa", out _)); // w is no GRID letter
        Assert.Throws<CorpusFormatException>(() => GridGrammar.SentenceFromId("xx"));
    }

    [Theory]
    [InlineData("video/s1/{0}.mpg", "align/s1/{0}.align")]
    [InlineData("s1/video/mpg_6000/{0}.mpg", "alignments/s1/{0}.align")]
    [InlineData("s1/{0}.mpg", "s1/{0}.align")]
    [InlineData("s1/{0}.mpg", "align/{0}.align")]
    public void GridCorpusFindsAlignsInEveryLayout(string videoPattern, string alignPattern)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File(string.Format(videoPattern, "bgbsza")), [0]);
        File.WriteAllText(dir.File(string.Format(alignPattern, "bgbsza")), Align);
        var items = new GridCorpus(dir.Path).Read().ToList();
        var item = Assert.Single(items);
        Assert.Equal("s1", item.Speaker);
        Assert.Equal("bin green by s zero again", item.Sentence);
        Assert.Equal(6, item.Words.Count);
        Assert.NotNull(item.LabelPath);
        Assert.Equal(2.98, item.Duration!.Value, 6);
    }

    [Fact]
    public void GridVideoWithoutAlignTakesTheSentenceFromItsName()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("video/s3/lbbo3n.mpg"), [0]);
        var item = Assert.Single(new GridCorpus(dir.Path).Read());
        Assert.Equal("lay blue by o three now", item.Sentence);
        Assert.Null(item.LabelPath);
        Assert.Empty(item.Words);
    }

    [Fact]
    public void SkipBadReportsAndContinues()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("video/s1/bgbsza.mpg"), [0]);
        File.WriteAllText(dir.File("align/s1/bgbsza.align"), Align);
        File.WriteAllBytes(dir.File("video/s1/bwaq8s.mpg"), [0]);
        File.WriteAllText(dir.File("align/s1/bwaq8s.align"), "garbage line here too many fields\n");
        File.WriteAllBytes(dir.File("video/s1/notgrid.mpg"), [0]);

        Assert.Throws<CorpusFormatException>(() => new GridCorpus(dir.Path).Read().ToList());
        var reader = new GridCorpus(dir.Path, new CorpusReadOptions { SkipBad = true });
        var items = reader.Read().ToList();
        Assert.Single(items);
        Assert.Equal(2, reader.Problems.Count);
        Assert.Contains(reader.Problems, p => p.Path.EndsWith("bwaq8s.align") && p.Reason.Contains("line 1"));
        Assert.Contains(reader.Problems, p => p.Path.EndsWith("notgrid.mpg"));
    }

    [Fact]
    public void LombardLabelBecomesGridWordsWithTimings()
    {
        var words = LombardCorpus.ParseLabel(LombardJson("s2_l_bbim3a"), "x.json", out var key, out double seconds);
        Assert.Equal("s2_l_bbim3a", key);
        Assert.Equal("bin blue in m three again", string.Join(' ', words.Select(w => w.Word)));
        Assert.Equal(0.2, words[0].Start, 6);
        Assert.Equal(0.5, words[0].End, 6);
        Assert.True(seconds > words[^1].End);
    }

    [Fact]
    public void LombardMatchReportsVideosAndLabelsWithoutPartners()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s2_l_bbim3a.mov"), [0]);
        File.WriteAllText(dir.File("s2_l_bbim3a.json"), LombardJson("s2_l_bbim3a"));
        File.WriteAllBytes(dir.File("s2_l_bgbp3n.mov"), [0]);
        File.WriteAllText(dir.File("s2_p_lrbi7p.json"), LombardJson("s2_p_lrbi7p"));
        var corpus = new LombardCorpus(dir.Path, new CorpusReadOptions { SkipBad = true });
        var match = corpus.Match();
        Assert.Single(match.Pairs);
        Assert.EndsWith("s2_l_bgbp3n.mov", Assert.Single(match.VideosWithoutLabels));
        Assert.EndsWith("s2_p_lrbi7p.json", Assert.Single(match.LabelsWithoutVideos));
        var item = Assert.Single(corpus.Read());
        Assert.Equal("s2", item.Speaker);
        Assert.Equal(2, corpus.Problems.Count);
        Assert.Throws<CorpusFormatException>(() => new LombardCorpus(dir.Path).Read().ToList());
    }

    [Theory]
    [InlineData("[]", "object")]
    [InlineData("{\"a\": [{\"phone\": \"b_B\"}]}", "offset")]
    [InlineData("{\"a\": [{\"phone\": \"b_B\", \"offset\": 0, \"duration\": 0.1}]}", "no end phone")]
    [InlineData("{\"a\": [{\"phone\": \"b\", \"offset\": 0, \"duration\": 0.1}]}", "suffix")]
    [InlineData("{\"a\": [{\"phone\": \"b_S\", \"offset\": 0, \"duration\": 0.1}]}", "6")]
    [InlineData("{\"a\": [", "invalid JSON")]
    public void MalformedLombardLabelsAreTypedErrors(string json, string reason)
    {
        var ex = Assert.Throws<CorpusFormatException>(() => LombardCorpus.ParseLabel(json, "l.json", out _));
        Assert.Equal("l.json", ex.FilePath);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void ChineseLipsReadsEverySplitAndNamesBadRows()
    {
        using var dir = new TempDir();
        const string header = "file_id,category,wav_path,ppt_path,face_path,text\n";
        File.WriteAllText(dir.File("meta_train.csv"), header + "spk01_0001,tech,wav/a.wav,ppt/a.png,face/a.mp4,你好世界\nspk02_0002,news,wav/b.wav,ppt/b.png,face/b.mp4,\"再见, 朋友\"\n");
        File.WriteAllText(dir.File("meta_test.csv"), header + "spk03_0003,tech,wav/c.wav,ppt/c.png,face/c.mp4,测试\nbroken,row\n");
        Assert.IsType<ChineseLipsCorpus>(CorpusReader.Open(dir.Path));

        var strict = new ChineseLipsCorpus(dir.Path);
        var ex = Assert.Throws<CorpusFormatException>(() => strict.Read().ToList());
        Assert.EndsWith("meta_test.csv", ex.FilePath);
        Assert.Equal(3, ex.Line);

        var lenient = new ChineseLipsCorpus(dir.Path, new CorpusReadOptions { SkipBad = true });
        var items = lenient.Read().ToList();
        Assert.Equal(3, items.Count);
        Assert.Equal("再见, 朋友", items[1].Sentence);
        Assert.Equal("spk02", items[1].Speaker);
        Assert.Equal(Path.Combine(dir.Path, "face/b.mp4"), items[1].VideoPath);
        Assert.Equal("test", items[2].Extra["split"]);
        Assert.Single(lenient.Problems);
    }

    [Fact]
    public void ChineseLipsWithoutRequiredColumnsIsATypedError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("meta_valid.csv"), "file_id,text\nx,y\n");
        var ex = Assert.Throws<CorpusFormatException>(() => new ChineseLipsCorpus(dir.Path).Read().ToList());
        Assert.Contains("face_path", ex.Message);
    }

    [Fact]
    public void LrsTranscriptsGiveSentenceAndWordTimes()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("6330311066473698535/00011.mp4"), [0]);
        File.WriteAllText(dir.File("6330311066473698535/00011.txt"),
            "Text:  WHEN YOU LOOK AT\nConf:  4\n\nWORD START END ASDSCORE\nWHEN 0.10 0.30 1.2\nYOU 0.30 0.42 2.0\nLOOK 0.42 0.70 3.1\nAT 0.70 0.80 1.0\n");
        var reader = CorpusReader.Open(dir.Path);
        Assert.IsType<LrsCorpus>(reader);
        var item = Assert.Single(reader.Read());
        Assert.Equal("when you look at", item.Sentence);
        Assert.Equal("6330311066473698535", item.Speaker);
        Assert.Equal(4, item.Words.Count);
        Assert.Equal(0.42, item.Words[2].Start, 6);
    }

    [Theory]
    [InlineData("Conf: 4\n", "Text:")]
    [InlineData("Text:   \n", "empty")]
    [InlineData("Text: A B\n\nWORD START END\nA zero 1\n", "WORD START END")]
    public void MalformedLrsTranscriptsAreTypedErrors(string text, string reason)
    {
        var ex = Assert.Throws<CorpusFormatException>(() => LrsCorpus.ParseTranscript(text, "t.txt"));
        Assert.Contains(reason, ex.Message);
    }

    private static List<CorpusItem> FakeItems(int speakers, int perSpeaker) =>
        Enumerable.Range(0, speakers).SelectMany(s => Enumerable.Range(0, perSpeaker).Select(i =>
            new CorpusItem($"c{s}_{i}", $"s{s}", $"/v/{s}/{i}.mpg", null, "bin blue at a zero now", [], "grid"))).ToList();

    [Fact]
    public void OverlappedSplitHoldsOutClipsOfEverySpeakerReproducibly()
    {
        var items = FakeItems(4, 10);
        var a = CorpusSplits.Overlapped(items, 3, seed: 7);
        var b = CorpusSplits.Overlapped(items, 3, seed: 7);
        Assert.Equal(12, a.Test.Count);
        Assert.Equal(28, a.Train.Count);
        Assert.All(a.Test.GroupBy(i => i.Speaker), g => Assert.Equal(3, g.Count()));
        Assert.Equal(a.Test.Select(i => i.Id), b.Test.Select(i => i.Id));
        Assert.Empty(a.Train.Intersect(a.Test));
        Assert.NotEqual(a.Test.Select(i => i.Id), CorpusSplits.Overlapped(items, 3, seed: 8).Test.Select(i => i.Id));
    }

    [Fact]
    public void UnseenSplitHoldsOutWholeSpeakers()
    {
        var items = FakeItems(5, 4);
        var split = CorpusSplits.Unseen(items, 2, seed: 1);
        var testSpeakers = split.Test.Select(i => i.Speaker).Distinct().ToList();
        Assert.Equal(2, testSpeakers.Count);
        Assert.DoesNotContain(split.Train, i => testSpeakers.Contains(i.Speaker));
        Assert.Equal(20, split.Train.Count + split.Test.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusSplits.Unseen(items, 5, seed: 1));
    }

    [Fact]
    public void BatcherWrapsAroundSoEveryBatchIsFull()
    {
        var items = Enumerable.Range(0, 10).ToArray();
        var batcher = new EpochBatcher<int>(items, 4, seed: 3);
        var epoch = batcher.Epoch(0).ToList();
        Assert.Equal(3, epoch.Count);
        Assert.All(epoch, b => Assert.Equal(4, b.Length));
        var order = batcher.EpochOrder(0);
        Assert.Equal(order.Order(), items);
        Assert.Equal([order[8], order[9], order[0], order[1]], epoch[2]); // get_list_safe wrap-around
        Assert.Equal(order, new EpochBatcher<int>(items, 4, seed: 3).EpochOrder(0));
        Assert.NotEqual(order, batcher.EpochOrder(1));
    }

    [Fact]
    public void BatcherLoadsItemsOnlyWhenTheirBatchIsReached()
    {
        var batcher = new EpochBatcher<int>(Enumerable.Range(0, 100).ToArray(), 10, seed: 0);
        int loads = 0;
        using var e = batcher.Epoch(0, i => { loads++; return i * 2; }).GetEnumerator();
        Assert.Equal(0, loads);
        Assert.True(e.MoveNext());
        Assert.Equal(10, loads);
    }
}
