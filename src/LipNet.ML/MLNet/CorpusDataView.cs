using LipNet.ML.Corpora;
using LipNet.ML.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML.MLNet;

/// <summary>A corpus row: labels, and the clip tensor when the view was made with a preprocessor.</summary>
public sealed class CorpusRow
{
    public string Id { get; set; } = "";
    public string VideoPath { get; set; } = "";
    public string Speaker { get; set; } = "";
    public string Sentence { get; set; } = "";

    /// <summary>The clip tensor (empty when the view has no preprocessor).</summary>
    public float[] Tensor { get; set; } = [];

    /// <summary>Real frames in <see cref="Tensor"/> before padding (CTC needs it).</summary>
    public int Length { get; set; }
}

/// <summary>Corpora as lazy ML.NET <see cref="IDataView"/>s.</summary>
public static class CorpusDataView
{
    /// <summary>
    /// A view over <paramref name="items"/>. With a <paramref name="preprocessor"/>, the <c>Tensor</c>
    /// column (typed with its full shape, e.g. 3 x 75 x 50 x 100) is computed as each row is read, so
    /// memory holds one clip per cursor, never the corpus.
    /// </summary>
    public static IDataView Create(MLContext mlContext, IEnumerable<CorpusItem> items, ClipPreprocessor? preprocessor = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(items);
        var schema = SchemaDefinition.Create(typeof(CorpusRow));
        if (preprocessor is not null)
        {
            var crop = preprocessor.Cropper.Options;
            var shape = preprocessor.Normalizer.Options.ShapeFor(crop.Height, crop.Width);
            schema[nameof(CorpusRow.Tensor)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, shape);
        }
        else
        {
            schema[nameof(CorpusRow.Tensor)].ColumnType = new VectorDataViewType(NumberDataViewType.Single);
        }
        var rows = items.Select(item =>
        {
            var row = new CorpusRow { Id = item.Id, VideoPath = item.VideoPath, Speaker = item.Speaker, Sentence = item.Sentence };
            if (preprocessor is not null)
            {
                var clip = preprocessor.Process(item.VideoPath);
                row.Tensor = clip.Tensor.Data;
                row.Length = clip.Tensor.Length;
            }
            return row;
        });
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }
}
