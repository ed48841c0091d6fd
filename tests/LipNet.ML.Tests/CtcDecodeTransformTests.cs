using LipNet.ML.Decoding;
using LipNet.ML.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML.Tests;

public class CtcDecodeTransformTests
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        [VectorType(75 * 28)] public float[] Scores { get; set; } = [];
        public int Frames { get; set; }
    }

    /// <summary>
    /// Model-like scores spelling a sentence: two blank frames, two frames per token (a blank between
    /// repeats), blanks to the end; every class gets noise in [0, <paramref name="noise"/>) and the
    /// intended one <paramref name="boost"/> more.
    /// </summary>
    internal static float[] Spell(CtcVocabulary vocab, string sentence, int frames, int seed, float noise = 1f, float boost = 6f)
    {
        var random = new Random(seed);
        var scores = new float[frames * vocab.Size];
        int t = 0, previous = -1;
        void Put(int id)
        {
            for (int v = 0; v < vocab.Size; v++)
                scores[t * vocab.Size + v] = (float)random.NextDouble() * noise;
            scores[t * vocab.Size + id] += boost;
            t++;
        }
        Put(vocab.BlankId);
        Put(vocab.BlankId);
        foreach (int id in vocab.Encode(sentence))
        {
            if (id == previous) Put(vocab.BlankId);
            Put(id);
            Put(id);
            previous = id;
        }
        while (t < frames) Put(vocab.BlankId);
        return scores;
    }

    [Fact]
    public void DecodesAColumnAndSurvivesSaveAndLoad()
    {
        var vocab = CtcVocabulary.Grid();
        string[] sentences = ["bin blue at a one now", "set red with z nine soon"];
        var rows = sentences.Select((s, i) => new Row { Id = $"c{i}", Scores = Spell(vocab, s, 75, i), Frames = 75 }).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { BeamWidth = 20, GridGrammar = true }, lengthColumnName: "Frames").Fit(data);
        Assert.Equal(sentences, model.Transform(data).GetColumn<string>("Text").ToArray());

        using var dir = new TempDir();
        ml.Model.Save(model, data.Schema, dir.File("decode.zip"));
        var ml2 = new MLContext().RegisterLipNet();
        var loaded = ml2.Model.Load(dir.File("decode.zip"), out _);
        Assert.Equal(sentences, loaded.Transform(ml2.Data.LoadFromEnumerable(rows)).GetColumn<string>("Text").ToArray());

        var greedy = ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { BeamWidth = 0 }).Fit(data);
        Assert.Equal(sentences, greedy.Transform(data).GetColumn<string>("Text").ToArray());
    }

    [Fact]
    public void VocabularyMismatchIsATypedError()
    {
        var vocab = CtcVocabulary.Grid();
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new Row { Id = "x", Scores = Spell(vocab, "bin", 75, 0), Frames = 75 } });
        // 2100 scores per row are no whole number of frames of 11 outputs: refused when fitting.
        var ex = Assert.Throws<TensorShapeException>(() => ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { Tokens = [.. "abcdefghij".Select(c => c.ToString())] }).Fit(data));
        Assert.Contains("11", ex.Message);
        // An ONNX output column keeps its batch axis, [1, 75, 28]: 2100 scores are a whole number of frames of 4 outputs, but
        // the last axis says 28.
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Scores)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, 75, 28);
        var batched = ml.Data.LoadFromEnumerable(new[] { new Row { Id = "x", Scores = Spell(vocab, "bin", 75, 0), Frames = 75 } }, schema);
        ex = Assert.Throws<TensorShapeException>(() => ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { Tokens = ["a", "b", "c"] }).Fit(batched));
        Assert.Contains("[1, 75, 28]", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { BeamWidth = 5, Beta = float.NaN }));
        Assert.Throws<CorpusFormatException>(() => ml.Transforms.CtcDecode("Text", "Scores", new CtcDecodeOptions { LanguageModelPath = "/no/lm.arpa" }));
    }
}
