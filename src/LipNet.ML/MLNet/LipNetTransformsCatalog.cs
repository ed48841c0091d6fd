using LipNet.ML.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LipNet.ML;

/// <summary>
/// ML.NET transforms of the lipreading data path, in the style of <c>Microsoft.ML.ImageAnalytics</c>:
/// <c>mlContext.Transforms.LoadVideo(...).Append(mlContext.Transforms.CropMouth(...))
/// .Append(mlContext.Transforms.NormalizeFrames(...))</c>.
/// </summary>
/// <remarks>
/// Each transform is a chain of stock ML.NET transforms around a CustomMapping, with its options carried
/// in a constant column, so a fitted pipeline saves with <c>mlContext.Model.Save</c> and loads with
/// <c>mlContext.Model.Load</c> once <see cref="RegisterLipNet(MLContext)"/> has been called on the loading context.
/// Frame columns are byte vectors of T x H x W x 3 RGB pixels with two companions: <c>{name}.Shape</c>
/// (int[4] = T, H, W, 3) and <c>{name}.Fps</c>. <c>CropMouth</c> adds <c>{name}.Boxes</c> (x, y, w, h per
/// frame, source pixels); <c>NormalizeFrames</c> outputs a float vector with <c>{name}.Shape</c> (the tensor
/// shape) and <c>{name}.Length</c> (real frames before padding).
/// </remarks>
public static class LipNetTransformsCatalog
{
    /// <summary>Registers the LipNet mappings so saved pipelines that use them load.</summary>
    /// <remarks>
    /// Since ML.NET 1.5 a saved model also records the mapping's assembly and loading registers it; calling this
    /// keeps loading explicit and independent of that.
    /// </remarks>
    /// <param name="mlContext">The context that will load the model.</param>
    /// <returns><paramref name="mlContext"/>, for chaining.</returns>
    public static MLContext RegisterLipNet(this MLContext mlContext)
    {
        mlContext.ComponentCatalog.RegisterAssembly(typeof(LipNetTransformsCatalog).Assembly);
        return mlContext;
    }

    /// <summary>Decodes the video at the path in <paramref name="inputColumnName"/> into an RGB frame column.</summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">
    /// The frame column: bytes, T x H x W x 3 RGB, with <c>{name}.Shape</c> (int[4]) and <c>{name}.Fps</c> (float, frames per second).
    /// </param>
    /// <param name="inputColumnName">A text column of video paths; null = <paramref name="outputColumnName"/>.</param>
    /// <param name="options">Frame limit and resampling rate; null = every frame at the source's rate.</param>
    /// <returns>
    /// An estimator whose transformer decodes each row as it is read: a missing or corrupt video then fails with a
    /// <see cref="VideoDecodeException"/> (ML.NET may wrap it).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> is null.</exception>

    public static IEstimator<ITransformer> LoadVideo(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, MLNet.LoadVideoOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return Wrap(catalog, MLNet.OptionsCodec.Encode(options ?? new MLNet.LoadVideoOptions()), inputColumnName ?? outputColumnName,
            [(MLNet.TempColumns.In, inputColumnName ?? outputColumnName)],
            catalog.CustomMapping(new MLNet.LoadVideoMappingFactory().GetMapping(), MLNet.LoadVideoMappingFactory.ContractName),
            FrameOutputs(outputColumnName));
    }

    /// <summary>Locates the mouth in a frame column and crops it to a fixed size.</summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">
    /// The crop column: bytes, T x crop height x crop width x 3 RGB, with <c>{name}.Shape</c>, <c>{name}.Fps</c> and
    /// <c>{name}.Boxes</c> (float[4T]: x, y, width, height of each frame's box in source pixels). With
    /// <see cref="MLNet.CropMouthOptions.Window"/> (set by <see cref="MLNet.CropMouthOptions.For"/>) a clip shorter than the
    /// model window whose lips move holds a whole window of crops, placed as <see cref="Runtime.LipReader"/> reads it; its
    /// boxes stay one per source frame.
    /// </param>
    /// <param name="inputColumnName">
    /// A frame column (from <see cref="LoadVideo"/>) with its companions; null = <paramref name="outputColumnName"/>.
    /// </param>
    /// <param name="options">Locator and crop size; null = Haar cascades and LipNet's 100 x 50 crop.</param>
    /// <returns>
    /// An estimator; a clip in which the locator finds no mouth fails when its row is read, with a
    /// <see cref="MouthLocatorException"/> (ML.NET may wrap it).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> is null.</exception>
    /// <exception cref="MouthLocatorException">
    /// The locator cannot be built: a missing or invalid cascade file, an unknown crop profile, a fixed region outside the frame.
    /// </exception>
    /// <exception cref="TensorShapeException">A crop size outside 4..4096 pixels, or a window outside 0..4096 frames.</exception>
    /// <exception cref="Runtime.ModelLoadException">The landmark locator's front-end models cannot be loaded.</exception>
    public static IEstimator<ITransformer> CropMouth(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, MLNet.CropMouthOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        string input = inputColumnName ?? outputColumnName;
        var o = options ?? new MLNet.CropMouthOptions();
        MLNet.MappingCache.Cropper(MLNet.OptionsCodec.Encode(o)); // fail now, not mid-pipeline, on a missing cascade
        return Wrap(catalog, MLNet.OptionsCodec.Encode(o), input + ".Fps", FrameInputs(input),
            catalog.CustomMapping(new MLNet.CropMouthMappingFactory().GetMapping(), MLNet.CropMouthMappingFactory.ContractName),
            [.. FrameOutputs(outputColumnName), (outputColumnName + ".Boxes", MLNet.TempColumns.OutBoxes)]);
    }

    /// <summary>
    /// Turns a frame column into a float tensor column (scaling, standardization, padding to a frame count).
    /// For LipNet's standard shapes — 3x75x50x100 and 1x75x50x100 in CTHW from 100x50 crops
    /// (<paramref name="cropWidth"/> x <paramref name="cropHeight"/>) — the column has a known size and
    /// those dimensions, as ApplyOnnxModel needs; other shapes give a variable-size vector.
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">
    /// The tensor column (float), with <c>{name}.Shape</c> (int[4], the tensor shape in the options' layout) and
    /// <c>{name}.Length</c> (int, real frames before zero padding).
    /// </param>
    /// <param name="inputColumnName">
    /// A frame column (usually from <see cref="CropMouth"/>); null = <paramref name="outputColumnName"/>.
    /// </param>
    /// <param name="options">Frame count, layout, channels, standardization; null = <see cref="FrameNormalizeOptions.Default"/>.</param>
    /// <param name="cropHeight">Height of the incoming frames in pixels, for the column's declared shape (default 50).</param>
    /// <param name="cropWidth">Width of the incoming frames in pixels, for the column's declared shape (default 100).</param>
    /// <returns>
    /// An estimator; on a known-size column, frames of another size fail when their row is read with a
    /// <see cref="TensorShapeException"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> is null.</exception>
    /// <exception cref="TensorShapeException">
    /// A frame count under 1, or a mean or standard deviation without one (positive) value per channel.
    /// </exception>
    public static IEstimator<ITransformer> NormalizeFrames(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        FrameNormalizeOptions? options = null, int cropHeight = 50, int cropWidth = 100)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        string input = inputColumnName ?? outputColumnName;
        var o = options ?? FrameNormalizeOptions.Default;
        o.Validate();
        var shape = o.Layout == TensorLayout.CTHW ? o.ShapeFor(cropHeight, cropWidth) : [];
        // Known-size columns for the shapes the built-in profiles make (ApplyOnnxModel needs them); other shapes stay variable-size.
        IEstimator<ITransformer> mapping =
            shape.SequenceEqual(MLNet.NormalizeRgbClipMappingFactory.Shape) ? catalog.CustomMapping(new MLNet.NormalizeRgbClipMappingFactory().GetMapping(), MLNet.NormalizeRgbClipMappingFactory.ContractName)
            : shape.SequenceEqual(MLNet.NormalizeRgbClip128MappingFactory.Shape) ? catalog.CustomMapping(new MLNet.NormalizeRgbClip128MappingFactory().GetMapping(), MLNet.NormalizeRgbClip128MappingFactory.ContractName)
            : shape.SequenceEqual(MLNet.NormalizeGrayClipMappingFactory.Shape) ? catalog.CustomMapping(new MLNet.NormalizeGrayClipMappingFactory().GetMapping(), MLNet.NormalizeGrayClipMappingFactory.ContractName)
            : shape.SequenceEqual(MLNet.NormalizeGrayClip88MappingFactory.Shape) ? catalog.CustomMapping(new MLNet.NormalizeGrayClip88MappingFactory().GetMapping(), MLNet.NormalizeGrayClip88MappingFactory.ContractName)
            : catalog.CustomMapping(new MLNet.NormalizeFramesMappingFactory().GetMapping(), MLNet.NormalizeFramesMappingFactory.ContractName);
        return Wrap(catalog, MLNet.OptionsCodec.Encode(o), input + ".Fps", FrameInputs(input),
            mapping,
            [(outputColumnName, MLNet.TempColumns.Out), (outputColumnName + ".Shape", MLNet.TempColumns.OutShape), (outputColumnName + ".Length", MLNet.TempColumns.OutLength)]);
    }

    /// <summary>
    /// Decodes per-frame scores (a float vector of T x V, time-major: an ONNX LipNet output) into text with
    /// a greedy or beam-search CTC decoder, optionally constrained to the GRID grammar or a lexicon and
    /// scored with an n-gram language model. <paramref name="lengthColumnName"/> (int) limits each row to
    /// its real frames.
    /// </summary>
    /// <param name="catalog">The transforms catalog, <c>mlContext.Transforms</c>.</param>
    /// <param name="outputColumnName">The text column (string): the best hypothesis, e.g. <c>"bin blue at f two now"</c>.</param>
    /// <param name="inputColumnName">
    /// A float vector of T x V scores, time-major, V = the vocabulary with its blank (28 for GRID); logits or log-probabilities
    /// as <see cref="MLNet.CtcDecodeOptions.InputsAreLogProbs"/> says.
    /// </param>
    /// <param name="options">Vocabulary, decoder and constraints; null = GRID's vocabulary, blank last, beam width 100.</param>
    /// <param name="lengthColumnName">An int column of real frames per row (e.g. <c>Tensor.Length</c>); null = all frames.</param>
    /// <returns>
    /// An estimator. Fitting needs one scalar column besides the scores and checks a known-size score column against the
    /// vocabulary (<see cref="TensorShapeException"/>, <see cref="LipNetException"/>).
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> is null.</exception>
    /// <exception cref="TensorShapeException">
    /// An empty or repeated token; a lexicon word that is empty, holds a space or a character outside the vocabulary; the GRID
    /// grammar over a vocabulary without its letters or a space.
    /// </exception>
    /// <exception cref="CorpusFormatException">The language model file is missing or not in ARPA format.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A negative <see cref="MLNet.CtcDecodeOptions.TopK"/>, or a cutoff probability outside (0, 1].
    /// </exception>
    public static IEstimator<ITransformer> CtcDecode(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        MLNet.CtcDecodeOptions? options = null, string? lengthColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new MLNet.CtcDecodeEstimator(catalog, outputColumnName, inputColumnName, lengthColumnName, options ?? new MLNet.CtcDecodeOptions());
    }

    private static (string, string)[] FrameInputs(string input) =>
        [(MLNet.TempColumns.In, input), (MLNet.TempColumns.InShape, input + ".Shape"), (MLNet.TempColumns.InFps, input + ".Fps")];

    private static (string, string)[] FrameOutputs(string output) =>
        [(output, MLNet.TempColumns.Out), (output + ".Shape", MLNet.TempColumns.OutShape), (output + ".Fps", MLNet.TempColumns.OutFps)];

    /// <summary>
    /// options constant (an expression needs a scalar input column; its value is ignored) → copy inputs to fixed names → mapping → copy outputs to user names → drop temporaries.</summary>
    private static IEstimator<ITransformer> Wrap(TransformsCatalog catalog, string encodedOptions, string anyInputColumn,
        (string Temp, string User)[] inputs, IEstimator<ITransformer> mapping, (string User, string Temp)[] outputs)
    {
        var temps = new[] { MLNet.TempColumns.Options }.Concat(inputs.Select(i => i.Temp)).Concat(outputs.Select(o => o.Temp)).Distinct().ToArray();
        IEstimator<ITransformer> chain = catalog.Expression(MLNet.TempColumns.Options, $"x => \"{encodedOptions}\"", anyInputColumn);
        foreach (var (temp, user) in inputs)
            chain = chain.Append(catalog.CopyColumns(temp, user));
        chain = chain.Append(mapping);
        foreach (var (user, temp) in outputs)
            chain = chain.Append(catalog.CopyColumns(user, temp));
        return chain.Append(catalog.DropColumns(temps));
    }
}
