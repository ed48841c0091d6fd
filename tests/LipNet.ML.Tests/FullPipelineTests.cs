using LipNet.ML.MLNet;
using LipNet.ML.Synthesis;
using LipNet.ML.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML.Tests;

public class FullPipelineTests
{
    private sealed class VideoRow
    {
        public string VideoPath { get; set; } = "";
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    [Fact]
    public void VideoToTextPipelineFitsSavesLoadsAndPredicts()
    {
        using var dir = new TempDir();
        var model = LipReaderTests.RandomModel(dir);
        var paths = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var clip = SyntheticCorpus.Render(new SyntheticCorpusOptions { Seed = 9, ClipsPerSpeaker = 2 }, 0, i);
            paths.Add(dir.File($"c{i}.avi"));
            SyntheticCorpus.WriteVideo(clip.Frames, paths[^1], SyntheticVideoFormat.Avi);
        }
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new VideoRow { VideoPath = p }));
        var pipeline = ml.Transforms.LoadVideo("Video", "VideoPath")
            .Append(ml.Transforms.CropMouth("Mouth", "Video"))
            .Append(ml.Transforms.NormalizeFrames("Tensor", "Mouth"))
            .Append(ml.Transforms.CopyColumns("video", "Tensor")) // the ONNX input's name
            .Append(ml.Transforms.ApplyOnnxModel(["log_probs"], ["video"], model,
                shapeDictionary: new Dictionary<string, int[]> { ["video"] = [1, 3, 75, 50, 100] }, gpuDeviceId: null, fallbackToCpu: false, recursionLimit: 100))
            .Append(ml.Transforms.CtcDecode("Text", "log_probs", new CtcDecodeOptions { InputsAreLogProbs = true, BeamWidth = 10, GridGrammar = true }));
        var fitted = pipeline.Fit(data);
        var texts = fitted.Transform(data).GetColumn<string>("Text").ToList();
        Assert.Equal(2, texts.Count);
        Assert.All(texts, t => Assert.True(Corpora.GridGrammar.IsValidSentence(t), t));

        ml.Model.Save(fitted, data.Schema, dir.File("pipeline.zip"));
        var ml2 = new MLContext().RegisterLipNet();
        var loaded = ml2.Model.Load(dir.File("pipeline.zip"), out _);
        Assert.Equal(texts, loaded.Transform(ml2.Data.LoadFromEnumerable(paths.Select(p => new VideoRow { VideoPath = p }))).GetColumn<string>("Text").ToList());
        var engine = ml2.Model.CreatePredictionEngine<VideoRow, TextRow>(loaded);
        Assert.Equal(texts[1], engine.Predict(new VideoRow { VideoPath = paths[1] }).Text);
    }

    [Fact]
    public void TheEmbeddedModelReadsInMLNetAsTheLipReaderDoesWithEveryOptionFromItsCard()
    {
        using var dir = new TempDir();
        var (modelPath, paths) = Float32DefaultAndBundledClips(dir);
        using var reader = Runtime.LipReader.Default(new Runtime.LipReaderOptions { BeamWidth = 0 });
        var card = reader.Model.Card;

        var texts = ReadWithMLNet(modelPath, card, paths);
        Assert.Equal(paths.Select(p => reader.Transcribe(p).Text), texts);
        // The bundled clips read right or nearly (greedy, no grammar): not another vocabulary's letters or normalisation.
        Assert.Equal("bin white with b zero please", texts[0]);
        Assert.True(Metrics.ErrorRates.Score("bin blue at f four please", texts[1]).Cer < 0.2, texts[1]);
        // With the README's decoder settings (beam 50, GRID grammar), as a LipReader so set reads them.
        using var beam = Runtime.LipReader.Default(new Runtime.LipReaderOptions { BeamWidth = 50, GridGrammar = true });
        var beamTexts = ReadWithMLNet(modelPath, card, paths, beamWidth: 50, gridGrammar: true);
        Assert.Equal(paths.Select(p => beam.Transcribe(p).Text), beamTexts);
        Assert.Equal("bin white with b zero please", beamTexts[0]);
    }

    [Fact]
    public void AShortClipReadsInMLNetAsTheLipReaderReadsIt()
    {
        // The bundled clips cut to 2 s (frames 10..59). CropMouthOptions.For(card) places a short clip's speech in the model
        // window as the LipReader does (one implementation: LipActivity.WindowInput), so the two paths read it alike.
        using var dir = new TempDir();
        var (modelPath, bundled) = Float32DefaultAndBundledClips(dir);
        using var reader = Runtime.LipReader.Default(new Runtime.LipReaderOptions { BeamWidth = 0 });
        var card = reader.Model.Card;
        var paths = bundled.Select(c =>
        {
            string cut = dir.File(Path.GetFileName(c));
            FrameRateTests.Ffmpeg("-i", c, "-vf", "select='between(n,10,59)',setpts=N/25/TB", "-an", "-r", "25", cut);
            return cut;
        }).ToList();

        var texts = ReadWithMLNet(modelPath, card, paths);
        Assert.Equal(paths.Select(p => reader.Transcribe(p).Text), texts);
        // The crop column holds a whole window for them (placed, its edges held), not the 50 frames cut.
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new VideoRow { VideoPath = p }));
        var crops = ml.Transforms.LoadVideo("Video", "VideoPath", LoadVideoOptions.For(card))
            .Append(ml.Transforms.CropMouth("Mouth", "Video", CropMouthOptions.For(card)));
        var shapes = crops.Fit(data).Transform(data).GetColumn<int[]>("Mouth.Shape").ToList();
        Assert.All(shapes, shape => Assert.Equal(card.Frames, shape[0]));
        // Without a window (CropMouthOptions' default) the crops stay as found.
        var asFound = ml.Transforms.LoadVideo("Video", "VideoPath", LoadVideoOptions.For(card))
            .Append(ml.Transforms.CropMouth("Mouth", "Video", CropMouthOptions.For(card) with { Window = 0 }));
        Assert.All(asFound.Fit(data).Transform(data).GetColumn<int[]>("Mouth.Shape"), shape => Assert.Equal(50, shape[0]));
    }

    /// <summary>
    /// The embedded model's float32 copy written to <paramref name="dir"/> (ML.NET's ONNX transformer takes no float16 tensors;
    /// same weights and card) and the bundled clips: two real GRID s1 clips and a synthetic one.
    /// </summary>
    private static (string ModelPath, string[] Clips) Float32DefaultAndBundledClips(TempDir dir)
    {
        string modelPath = dir.File("lipnet-default-fp32.onnx");
        File.WriteAllBytes(modelPath, Runtime.LipNetModel.Float32Copy(Runtime.LipNetModel.DefaultModelBytes()!));
        string samples = Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..", "samples", "data");
        return (modelPath, new[] { "grid/video/s1/bwwbzp.mp4", "grid/video/s1/bbaf4p.mp4", "synthetic/video/s1/sbwb8s.mp4" }
            .Select(c => Path.Combine(samples, c)).ToArray());
    }

    /// <summary>The README's card-driven ML.NET pipeline (load, crop, normalize, ONNX, greedy CTC) over <paramref name="paths"/>.</summary>
    internal static List<string> ReadWithMLNet(string modelPath, Onnx.ModelCard card, IEnumerable<string> paths, int beamWidth = 0,
        bool gridGrammar = false)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new VideoRow { VideoPath = p }));
        var pipeline = ml.Transforms.LoadVideo("Video", "VideoPath", LoadVideoOptions.For(card))
            .Append(ml.Transforms.CropMouth("Mouth", "Video", CropMouthOptions.For(card)))
            .Append(ml.Transforms.NormalizeFrames("video", "Mouth", card.NormalizeOptions(), card.Height, card.Width))
            .Append(ml.Transforms.ApplyOnnxModel(["log_probs"], ["video"], modelPath,
                shapeDictionary: new Dictionary<string, int[]> { ["video"] = [1, card.Channels, card.Frames, card.Height, card.Width] },
                gpuDeviceId: null, fallbackToCpu: false, recursionLimit: 100))
            .Append(ml.Transforms.CtcDecode("Text", "log_probs", CtcDecodeOptions.For(card, beamWidth: beamWidth, gridGrammar: gridGrammar), "video.Length"));
        return pipeline.Fit(data).Transform(data).GetColumn<string>("Text").ToList();
    }
}
