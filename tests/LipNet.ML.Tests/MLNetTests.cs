using LipNet.ML.Corpora;
using LipNet.ML.MLNet;
using LipNet.ML.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML.Tests;

public class MLNetTests
{
    private sealed class PathRow
    {
        public string VideoPath { get; set; } = "";
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml) =>
        ml.Transforms.LoadVideo("Video", "VideoPath")
            .Append(ml.Transforms.CropMouth("Mouth", "Video", new CropMouthOptions { Locator = MouthLocatorKind.FixedRegion, Region = [0.5f, 0.66f, 0.4f] }))
            .Append(ml.Transforms.NormalizeFrames("Tensor", "Mouth", new FrameNormalizeOptions { FrameCount = 16 }));

    [Fact]
    public void PipelineFitsTransformsSavesAndLoads()
    {
        using var dir = new TempDir();
        var paths = new[] { TestVideos.Write(dir.File("a.avi"), frames: 10), TestVideos.Write(dir.File("b.avi"), frames: 20) };
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { VideoPath = p }));
        var model = Pipeline(ml).Fit(data);
        var output = model.Transform(data);

        var tensors = output.GetColumn<float[]>("Tensor").ToList();
        var lengths = output.GetColumn<int>("Tensor.Length").ToList();
        var shapes = output.GetColumn<int[]>("Tensor.Shape").ToList();
        var boxes = output.GetColumn<float[]>("Mouth.Boxes").ToList();
        Assert.Equal([10, 16], lengths);
        Assert.Equal([3, 16, 50, 100], shapes[0]);
        Assert.Equal(3 * 16 * 50 * 100, tensors[0].Length);
        Assert.Equal(10 * 4, boxes[0].Length);
        Assert.DoesNotContain(output.Schema, c => c.Name.StartsWith("__lipnet"));

        // The mouth rectangle (yellow-orange in BGR 20,200,250) fills the crop centre.
        int centre = 25 * 100 + 50;
        Assert.True(tensors[0][centre] > 0.9f, "red channel high in the centre");

        var modelPath = dir.File("model.zip");
        ml.Model.Save(model, data.Schema, modelPath);
        var loadContext = new MLContext().RegisterLipNet();
        var loaded = loadContext.Model.Load(modelPath, out _);
        var again = loaded.Transform(loadContext.Data.LoadFromEnumerable(paths.Select(p => new PathRow { VideoPath = p })));
        Assert.Equal(tensors[1], again.GetColumn<float[]>("Tensor").ToList()[1]);
        Assert.Equal(lengths, again.GetColumn<int>("Tensor.Length").ToList());
    }

    [Theory]
    [InlineData(false, 50, 100)]
    [InlineData(true, 50, 100)]
    [InlineData(false, 64, 128)] // LipNet-PyTorch's input (face-aligned)
    [InlineData(true, 88, 88)] // mean-face
    public void KnownSizeClipColumnsSurviveSaveAndLoad(bool grayscale, int height, int width)
    {
        // The standard shapes go through their own (internal) mapping factories: each must be found again on load.
        using var dir = new TempDir();
        var paths = new[] { TestVideos.Write(dir.File("a.avi"), frames: 6) };
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { VideoPath = p }));
        var pipeline = ml.Transforms.LoadVideo("Video", "VideoPath")
            .Append(ml.Transforms.CropMouth("Mouth", "Video", new CropMouthOptions { Locator = MouthLocatorKind.FixedRegion, Width = width, Height = height }))
            .Append(ml.Transforms.NormalizeFrames("Tensor", "Mouth", new FrameNormalizeOptions { Grayscale = grayscale }, height, width));
        var model = pipeline.Fit(data);
        var output = model.Transform(data);
        int channels = grayscale ? 1 : 3;
        var type = Assert.IsType<VectorDataViewType>(output.Schema["Tensor"].Type);
        Assert.Equal([channels, 75, height, width], type.Dimensions.ToArray());
        var tensor = output.GetColumn<float[]>("Tensor").Single();

        ml.Model.Save(model, data.Schema, dir.File("model.zip"));
        var loadContext = new MLContext().RegisterLipNet();
        var loaded = loadContext.Model.Load(dir.File("model.zip"), out _);
        var again = loaded.Transform(loadContext.Data.LoadFromEnumerable(paths.Select(p => new PathRow { VideoPath = p })));
        Assert.Equal([channels, 75, height, width], Assert.IsType<VectorDataViewType>(again.Schema["Tensor"].Type).Dimensions.ToArray());
        Assert.Equal(tensor, again.GetColumn<float[]>("Tensor").Single());
        Assert.Equal([6], again.GetColumn<int>("Tensor.Length").ToList());
    }

    private sealed class TensorPrediction
    {
        [ColumnName("Tensor.Length")] public int Length { get; set; }
        [ColumnName("Tensor")] public float[] Tensor { get; set; } = [];
    }

    [Fact]
    public void PredictionEngineWorksOnTheFittedPipeline()
    {
        using var dir = new TempDir();
        var path = TestVideos.Write(dir.File("a.avi"), frames: 8);
        var ml = new MLContext(seed: 1);
        var model = Pipeline(ml).Fit(ml.Data.LoadFromEnumerable(new[] { new PathRow { VideoPath = path } }));
        var engine = ml.Model.CreatePredictionEngine<PathRow, TensorPrediction>(model);
        var prediction = engine.Predict(new PathRow { VideoPath = path });
        Assert.Equal(8, prediction.Length);
        Assert.Equal(3 * 16 * 50 * 100, prediction.Tensor.Length);
    }

    [Fact]
    public void BadVideoInAPipelineSurfacesTheTypedError()
    {
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new PathRow { VideoPath = "/no/such.mpg" } });
        var output = Pipeline(ml).Fit(data).Transform(data);
        var ex = Record.Exception(() => output.GetColumn<float[]>("Tensor").ToList());
        Assert.NotNull(ex);
        var inner = ex;
        while (inner is not null and not LipNetException)
            inner = inner.InnerException;
        Assert.IsType<VideoDecodeException>(inner);
    }

    [Fact]
    public void CorpusDataViewIsLazyAndShapeAnnotated()
    {
        using var dir = new TempDir();
        TestVideos.Write(dir.File("video/s1/bgbsza.avi"), frames: 6);
        TestVideos.Write(dir.File("video/s2/lbbo3n.avi"), frames: 6);
        var ml = new MLContext();
        using var pre = new ClipPreprocessor(new Mouth.FixedRegionMouthLocator(), normalize: new FrameNormalizeOptions { FrameCount = 8 });
        var view = CorpusDataView.Create(ml, new GridCorpus(dir.Path).Read(), pre);
        var type = Assert.IsType<VectorDataViewType>(view.Schema["Tensor"].Type);
        Assert.Equal([3, 8, 50, 100], type.Dimensions.ToArray());
        var sentences = view.GetColumn<string>("Sentence").ToList();
        Assert.Equal(["bin green by s zero again", "lay blue by o three now"], sentences);
        Assert.Equal([6, 6], view.GetColumn<int>("Length").ToList());
    }

    [Fact]
    public void AWindowOutsideItsRangeIsATypedErrorWhenThePipelineIsBuilt()
    {
        var ml = new MLContext(seed: 1);
        foreach (int window in new[] { -1, 4097 })
            Assert.Throws<TensorShapeException>(() => ml.Transforms.CropMouth("Mouth", "Video",
                new CropMouthOptions { Locator = MouthLocatorKind.FixedRegion, Window = window }));
    }
}
