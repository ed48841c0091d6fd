using LipNet.ML.Corpora;
using LipNet.ML.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML.MLNet;

/// <summary>A corpus row: labels, and the clip tensor when the view was made with a preprocessor.</summary>
public sealed class CorpusRow
{
    /// <summary>Clip id, unique within the corpus (<see cref="CorpusItem.Id"/>).</summary>
    public string Id { get; set; } = "";

    /// <summary>Path of the clip's video file.</summary>
    public string VideoPath { get; set; } = "";

    /// <summary>Speaker id, for speaker-wise splits and reports.</summary>
    public string Speaker { get; set; } = "";

    /// <summary>Transcript: words separated by single spaces (lower case for GRID); the CTC target.</summary>
    public string Sentence { get; set; } = "";

    /// <summary>
    /// The clip tensor, flattened in the preprocessor's layout (e.g. [3, 75, 50, 100] CTHW = 1,125,000 floats); empty when
    /// the view has no preprocessor.
    /// </summary>
    public float[] Tensor { get; set; } = [];

    /// <summary>Real frames in <see cref="Tensor"/> before zero padding (CTC needs it); 0 when the view has no preprocessor.</summary>
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
    /// <param name="mlContext">The ML.NET context whose data catalog makes the view.</param>
    /// <param name="items">The clips, e.g. from a corpus reader; enumerated again by every cursor.</param>
    /// <param name="preprocessor">Decodes, crops and normalizes each clip as it is read; null = labels only, empty tensors.</param>
    /// <returns>
    /// A view with the columns of <see cref="CorpusRow"/>. Decoding errors (<see cref="VideoDecodeException"/>,
    /// <see cref="MouthLocatorException"/>) surface when a row is read, not here.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="mlContext"/> or <paramref name="items"/> is null.</exception>
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
