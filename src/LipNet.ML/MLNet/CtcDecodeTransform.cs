using System.Collections.Concurrent;
using LipNet.ML.Decoding;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace LipNet.ML.MLNet;

/// <summary>Options of <c>CtcDecode</c>: vocabulary, decoder and constraints. Serialized into saved models.</summary>
public sealed record CtcDecodeOptions
{
    /// <summary>Non-blank tokens in output order (default: GRID's a–z then space, Keras order).</summary>
    public string[] Tokens { get; init; } = [.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString()), " "];

    /// <summary>
    /// Where the CTC blank sits among the V = <see cref="Tokens"/>.Length + 1 outputs per frame: <see cref="BlankPosition.Last"/>
    /// (default; Keras LipNet) or <see cref="BlankPosition.First"/> (LipNet-PyTorch).
    /// </summary>
    public BlankPosition Blank { get; init; } = BlankPosition.Last;

    /// <summary>
    /// Decoding of <paramref name="card"/>'s model output: its vocabulary order and blank position, and whether it outputs
    /// log-probabilities — so the text is the model's, not another vocabulary's.
    /// </summary>
    /// <param name="card">The model card (vocabulary, blank position, whether the output is log-probabilities).</param>
    /// <param name="beamWidth">Prefixes kept per frame; 0 = greedy decoding.</param>
    /// <param name="gridGrammar">Constrain the text to the GRID sentence grammar.</param>
    /// <returns>Options with the card's vocabulary and the given decoder; the other settings at their defaults.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="card"/> is null.</exception>
    public static CtcDecodeOptions For(Onnx.ModelCard card, int beamWidth = 100, bool gridGrammar = false)
    {
        ArgumentNullException.ThrowIfNull(card);
        return new() { Tokens = card.Vocabulary, Blank = card.Blank, InputsAreLogProbs = card.OutputIsLogProbs, BeamWidth = beamWidth, GridGrammar = gridGrammar };
    }

    /// <summary>Beam width: prefixes kept after each frame (default 100); 0 or less = greedy (best path) decoding.</summary>
    public int BeamWidth { get; init; } = 100;

    /// <summary>
    /// Beam search only: per frame, extend prefixes with at most the K most likely tokens (0 = all, the default); the blank is
    /// always considered.
    /// </summary>
    public int TopK { get; init; }

    /// <summary>
    /// Beam search only: per frame, extend prefixes only with the most likely tokens whose probabilities, with the blank's, add
    /// up to this; in (0, 1], 1 = no pruning (default).
    /// </summary>
    public float CutoffProbability { get; init; } = 1f;

    /// <summary>Constrain output to the GRID sentence grammar (beam search only; needs a space token).</summary>
    public bool GridGrammar { get; init; }

    /// <summary>Constrain output to these words (beam search only; ignored when <see cref="GridGrammar"/> is set).</summary>
    public string[]? Lexicon { get; init; }

    /// <summary>ARPA language model file (beam search only), read when the pipeline is built or loaded; null = none.</summary>
    public string? LanguageModelPath { get; init; }

    /// <summary>Whether the ARPA model at <see cref="LanguageModelPath"/> is over words (default) or characters.</summary>
    public LanguageModelUnit LanguageModelUnit { get; init; } = LanguageModelUnit.Word;

    /// <summary>
    /// Weight of the language model's natural-log probability in a beam's score (default 0.5; 0 ignores the model). Used only
    /// with <see cref="LanguageModelPath"/> and beam search.
    /// </summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>
    /// Score added per word, in natural-log units (default 0): positive values counter the language model's preference for
    /// short output. Beam search only.
    /// </summary>
    public float Beta { get; init; }

    /// <summary>True when the column holds log-probabilities (e.g. after LogSoftmax); false for logits.</summary>
    public bool InputsAreLogProbs { get; init; }

    internal CtcDecoder Build()
    {
        var vocabulary = new CtcVocabulary(Tokens, Blank);
        if (BeamWidth <= 0)
            return new GreedyCtcDecoder(vocabulary, InputsAreLogProbs);
        var constraint = GridGrammar ? SpellingConstraint.Grid(vocabulary) : Lexicon is { Length: > 0 } words ? SpellingConstraint.Lexicon(words, vocabulary) : null;
        var lm = LanguageModelPath is { } path ? NGramLanguageModel.LoadArpa(path, LanguageModelUnit) : null;
        return new BeamSearchCtcDecoder(vocabulary, new BeamSearchOptions
        {
            BeamWidth = BeamWidth, TopK = TopK, CutoffProbability = CutoffProbability, Constraint = constraint, LanguageModel = lm, Alpha = Alpha, Beta = Beta,
        }, InputsAreLogProbs);
    }
}

internal sealed class LogitsInput
{
    [ColumnName(TempColumns.In), VectorType] public float[] Scores { get; set; } = [];
    [ColumnName(TempColumns.Options)] public string Options { get; set; } = "";
}

internal sealed class LogitsWithLengthInput
{
    [ColumnName(TempColumns.In), VectorType] public float[] Scores { get; set; } = [];
    [ColumnName(TempColumns.InShape)] public int Length { get; set; }
    [ColumnName(TempColumns.Options)] public string Options { get; set; } = "";
}

internal sealed class TextOutput
{
    [ColumnName(TempColumns.Out)] public string Text { get; set; } = "";
}

internal static class DecoderCache
{
    private static readonly ConcurrentDictionary<string, Lazy<CtcDecoder>> Decoders = new();

    public static CtcDecoder Get(string encoded) =>
        Decoders.GetOrAdd(encoded, key => new Lazy<CtcDecoder>(() => OptionsCodec.Decode<CtcDecodeOptions>(key).Build())).Value;

    public static string Decode(float[] scores, int length, string options)
    {
        var decoder = Get(options);
        if (length < 0)
            return decoder.Decode(scores).Text; // checks the row is whole frames of the vocabulary's width
        int width = decoder.Vocabulary.Size, frames = length;
        if ((long)frames * width > scores.Length)
            throw new TensorShapeException($"length {frames} frames x {width} exceeds the {scores.Length} scores of the row");
        return decoder.Decode(scores.AsSpan(0, frames * width)).Text;
    }
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class CtcDecodeMappingFactory : CustomMappingFactory<LogitsInput, TextOutput>
{
    public const string ContractName = "LipNet.CtcDecode.v1";
    public override Action<LogitsInput, TextOutput> GetMapping() => (input, output) => output.Text = DecoderCache.Decode(input.Scores, -1, input.Options);
}

[CustomMappingFactoryAttribute(ContractName)]
internal sealed class CtcDecodeWithLengthMappingFactory : CustomMappingFactory<LogitsWithLengthInput, TextOutput>
{
    public const string ContractName = "LipNet.CtcDecodeWithLength.v1";
    public override Action<LogitsWithLengthInput, TextOutput> GetMapping() => (input, output) => output.Text = DecoderCache.Decode(input.Scores, input.Length, input.Options);
}

/// <summary>
/// Decodes a column of per-frame scores (T x V, flattened, time-major) into text. Builds, when it sees the
/// input schema, the same kind of stock-transform chain as the other LipNet transforms; the options
/// constant rides on the first scalar column of the input.
/// </summary>
internal sealed class CtcDecodeEstimator : IEstimator<ITransformer>
{
    private readonly TransformsCatalog _catalog;
    private readonly string _output, _input;
    private readonly string? _length;
    private readonly string _options;

    internal CtcDecodeEstimator(TransformsCatalog catalog, string output, string input, string? length, CtcDecodeOptions options)
    {
        _catalog = catalog;
        _output = output;
        _input = input;
        _length = length;
        ArgumentNullException.ThrowIfNull(options);
        // Non-finite weights cannot be saved with the model (JSON) and make beam scores meaningless.
        if (!float.IsFinite(options.Alpha) || !float.IsFinite(options.Beta) || !float.IsFinite(options.CutoffProbability))
            throw new ArgumentOutOfRangeException(nameof(options),
                $"Alpha ({options.Alpha}), Beta ({options.Beta}) and CutoffProbability ({options.CutoffProbability}) must be finite");
        _options = OptionsCodec.Encode(options);
        DecoderCache.Get(_options); // a bad vocabulary or missing LM file fails here, not mid-pipeline
    }

    private IEstimator<ITransformer> Chain(IEnumerable<(string Name, bool Scalar)> columns)
    {
        var anchor = columns.FirstOrDefault(c => c.Scalar).Name
            ?? throw new LipNetException("CtcDecode needs at least one scalar column in its input (an id, a path, a length ...)");
        IEstimator<ITransformer> chain = _catalog.Expression(TempColumns.Options, $"x => \"{_options}\"", anchor)
            .Append(_catalog.CopyColumns(TempColumns.In, _input));
        if (_length is not null)
            chain = chain.Append(_catalog.CopyColumns(TempColumns.InShape, _length))
                .Append(_catalog.CustomMapping(new CtcDecodeWithLengthMappingFactory().GetMapping(), CtcDecodeWithLengthMappingFactory.ContractName));
        else
            chain = chain.Append(_catalog.CustomMapping(new CtcDecodeMappingFactory().GetMapping(), CtcDecodeMappingFactory.ContractName));
        string[] temporaries = _length is null
            ? [TempColumns.Options, TempColumns.In, TempColumns.Out]
            : [TempColumns.Options, TempColumns.In, TempColumns.InShape, TempColumns.Out];
        return chain.Append(_catalog.CopyColumns(_output, TempColumns.Out)).Append(_catalog.DropColumns(temporaries));
    }

    private static bool Anchorable(DataViewType type) =>
        type is TextDataViewType or BooleanDataViewType || type == NumberDataViewType.Single || type == NumberDataViewType.Double || type == NumberDataViewType.Int32 || type == NumberDataViewType.Int64;

    /// <summary>Checks the score column against the vocabulary and fits the chain of stock transforms around the decoder.</summary>
    /// <param name="input">Data with the score column and at least one scalar column (an id, a path, a length ...).</param>
    /// <returns>A transformer that adds the text column; it saves with <c>mlContext.Model.Save</c>.</returns>
    /// <exception cref="TensorShapeException">
    /// A known-size score column that is not a whole number of frames of V outputs, or is [T, V'] (or [N, T, V']) with V' other
    /// than V.
    /// </exception>
    /// <exception cref="LipNetException">The input has no scalar column to carry the options.</exception>
    public ITransformer Fit(IDataView input)
    {
        if (input.Schema.GetColumnOrNull(_input) is { Type: VectorDataViewType { IsKnownSize: true } vector })
        {
            int width = DecoderCache.Get(_options).Vocabulary.Size;
            // [T, V] or [N, T, V] (an ONNX output with its batch axis): the last axis is the vocabulary's.
            if (vector.Dimensions.Length >= 2 && vector.Dimensions[^1] != width)
                throw new TensorShapeException(
                    $"column '{_input}' is [{string.Join(", ", vector.Dimensions)}] but the vocabulary has {width} outputs (blank included)");
            if (vector.Size % width != 0)
                throw new TensorShapeException($"column '{_input}' holds {vector.Size} scores, not a whole number of frames of the vocabulary's {width} outputs");
        }
        return Chain(input.Schema.Where(c => !c.IsHidden).Select(c => (c.Name, Anchorable(c.Type)))).Fit(input);
    }

    /// <summary>The input's columns plus the text column (a string scalar named as the output).</summary>
    /// <param name="inputSchema">The shape of the input: it needs the score column and one scalar column.</param>
    /// <returns>The schema shape after decoding.</returns>
    /// <exception cref="LipNetException">The input has no scalar column to carry the options.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        Chain(inputSchema.Select(c => (c.Name, c.Kind == SchemaShape.Column.VectorKind.Scalar && !c.IsKey &&
            (c.ItemType is TextDataViewType or BooleanDataViewType || c.ItemType == NumberDataViewType.Single || c.ItemType == NumberDataViewType.Double || c.ItemType == NumberDataViewType.Int32 || c.ItemType == NumberDataViewType.Int64))))
            .GetOutputSchema(inputSchema);
}
