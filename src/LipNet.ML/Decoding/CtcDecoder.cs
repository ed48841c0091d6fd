using System.Numerics.Tensors;

namespace LipNet.ML.Decoding;

/// <summary>A word of a hypothesis and the frames it spans (end exclusive).</summary>
public sealed record WordSpan(string Word, int StartFrame, int EndFrame);

/// <summary>One decoded hypothesis.</summary>
/// <param name="Text">The text (tokens concatenated).</param>
/// <param name="Tokens">Token ids, blanks and repeats removed.</param>
/// <param name="TokenFrames">For each token, the frame where it starts.</param>
/// <param name="Score">Total log score used for ranking: acoustic + language model + insertion bonus.</param>
/// <param name="AcousticScore">ln P(text | frames) summed over alignments (beam) or of the best path (greedy).</param>
/// <param name="Complete">False only when a constrained search found no complete sentence and fell back to the best partial one.</param>
public sealed record CtcHypothesis(string Text, int[] Tokens, int[] TokenFrames, float Score, float AcousticScore, bool Complete = true)
{
    /// <summary>Words with their frame spans (a word ends where the next token after it starts, or at the last frame).</summary>
    public IReadOnlyList<WordSpan> Words(CtcVocabulary vocabulary, int frames)
    {
        var words = new List<WordSpan>();
        int start = -1;
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i <= Tokens.Length; i++)
        {
            bool boundary = i == Tokens.Length || Tokens[i] == vocabulary.SpaceId;
            if (boundary)
            {
                if (sb.Length > 0)
                    words.Add(new WordSpan(sb.ToString(), start, i < Tokens.Length ? TokenFrames[i] : frames));
                sb.Clear();
                start = -1;
                continue;
            }
            if (start < 0)
                start = TokenFrames[i];
            sb.Append(vocabulary[Tokens[i]]);
        }
        return words;
    }

    /// <summary>Per-frame geometric-mean probability of the acoustic score: a 0..1 confidence.</summary>
    public float Confidence(int frames) => frames > 0 ? MathF.Exp(AcousticScore / frames) : 0;
}

/// <summary>The n best hypotheses of one sequence, best first.</summary>
public sealed record CtcDecodeResult(IReadOnlyList<CtcHypothesis> NBest, int Frames)
{
    /// <summary>The highest-scoring hypothesis. Never null: every decoder returns at least one (possibly empty) hypothesis.</summary>
    public CtcHypothesis Best => NBest[0];

    /// <summary>The best hypothesis's text (<see cref="CtcHypothesis.Text"/> of <see cref="Best"/>).</summary>
    public string Text => Best.Text;
}

/// <summary>
/// Base of the CTC decoders: input checks, log-softmax of logits, and batch decoding in parallel.
/// Decoders are immutable and thread-safe; scratch memory is per thread and reused.
/// </summary>
public abstract class CtcDecoder(CtcVocabulary vocabulary, bool inputsAreLogProbs)
{
    /// <summary>The output alphabet; its <see cref="CtcVocabulary.Size"/> is the width V of each score row, blank included.</summary>
    public CtcVocabulary Vocabulary { get; } = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));

    /// <summary>True when inputs are already log-probabilities; false to apply log-softmax to logits first.</summary>
    public bool InputsAreLogProbs { get; } = inputsAreLogProbs;

    [ThreadStatic] private static float[]? _logProbs;

    /// <summary>Decodes one T x V matrix (row per frame), logits or log-probabilities.</summary>
    public CtcDecodeResult Decode(ReadOnlySpan<float> scores)
    {
        int frames = CtcScores.Frames(scores.Length, Vocabulary.Size, Vocabulary);
        if (InputsAreLogProbs)
        {
            foreach (float v in scores)
                if (float.IsNaN(v) || v > 1e-3f)
                    throw new TensorShapeException($"log-probabilities must be finite or -inf and at most 0, found {v} (pass inputsAreLogProbs: false for logits)");
            return DecodeLogProbs(scores, frames);
        }
        var buffer = _logProbs is { } b && b.Length >= scores.Length ? b : (_logProbs = new float[Math.Max(scores.Length, 4096)]);
        var logProbs = buffer.AsSpan(0, scores.Length);
        CtcScores.LogSoftmax(scores, Vocabulary.Size, logProbs);
        return DecodeLogProbs(logProbs, frames);
    }

    /// <summary>Decodes a T x V tensor span (rank 2).</summary>
    public CtcDecodeResult Decode(ReadOnlyTensorSpan<float> scores)
    {
        if (scores.Rank != 2 || scores.Lengths[1] != Vocabulary.Size)
            throw new TensorShapeException($"expected a [T, {Vocabulary.Size}] tensor, got [{string.Join(", ", scores.Lengths.ToArray())}]");
        var dense = new float[scores.FlattenedLength];
        scores.FlattenTo(dense);
        return Decode(dense);
    }

    /// <summary>
    /// Decodes a batch in parallel. <paramref name="lengths"/> gives each item's real frame count
    /// (null: all <paramref name="maxFrames"/>).
    /// </summary>
    public CtcDecodeResult[] DecodeBatch(ReadOnlyMemory<float> batch, BatchLayout layout, int batchSize, int maxFrames, int[]? lengths = null, int maxDegreeOfParallelism = -1)
    {
        if (batchSize < 0 || maxFrames < 0)
            throw new TensorShapeException($"batch size {batchSize} and frame count {maxFrames} must not be negative");
        if (lengths is not null && lengths.Length != batchSize)
            throw new TensorShapeException($"{lengths.Length} lengths given for a batch of {batchSize}");
        int width = Vocabulary.Size;
        if (batch.Length != (long)batchSize * maxFrames * width)
            throw new TensorShapeException($"batch holds {batch.Length} scores, {batchSize} x {maxFrames} x {width} = {(long)batchSize * maxFrames * width} expected (vocabulary of {width})");
        var results = new CtcDecodeResult[batchSize];
        Parallel.For(0, batchSize, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
        {
            int frames = lengths?[i] ?? maxFrames;
            var item = new float[frames * width];
            CtcScores.Slice(batch.Span, layout, batchSize, maxFrames, width, i, frames, item);
            results[i] = Decode(item);
        });
        return results;
    }

    /// <summary>Decodes validated log-probabilities (T x V).</summary>
    protected abstract CtcDecodeResult DecodeLogProbs(ReadOnlySpan<float> logProbs, int frames);
}

/// <summary>Best-path decoding: the most likely token per frame, repeats merged, blanks dropped.</summary>
public sealed class GreedyCtcDecoder(CtcVocabulary vocabulary, bool inputsAreLogProbs = false) : CtcDecoder(vocabulary, inputsAreLogProbs)
{
    /// <inheritdoc/>
    /// <remarks>
    /// Best-path decoding (Graves et al. 2006): the arg-max token of each frame, repeats merged, blanks removed. Returns one
    /// hypothesis whose <see cref="CtcHypothesis.Score"/> and <see cref="CtcHypothesis.AcousticScore"/> are both the log
    /// probability of that single path, not of the text summed over alignments.
    /// </remarks>
    protected override CtcDecodeResult DecodeLogProbs(ReadOnlySpan<float> logProbs, int frames)
    {
        int width = Vocabulary.Size, blank = Vocabulary.BlankId, previous = -1;
        var tokens = new List<int>();
        var starts = new List<int>();
        float score = 0;
        for (int t = 0; t < frames; t++)
        {
            var row = logProbs.Slice(t * width, width);
            int best = TensorPrimitives.IndexOfMax(row);
            score += row[best];
            if (best != blank && best != previous)
            {
                tokens.Add(best);
                starts.Add(t);
            }
            previous = best;
        }
        var ids = tokens.ToArray();
        return new CtcDecodeResult([new CtcHypothesis(Vocabulary.Decode(ids), ids, starts.ToArray(), score, score)], frames);
    }
}
