namespace LipNet.ML.Decoding;

/// <summary>
/// CTC forced alignment: the most likely frame-by-frame path (Viterbi) that spells a given token sequence, over the
/// extended sequence blank, l1, blank, l2, …, blank of Graves et al. (2006), as torchaudio's <c>forced_align</c> computes it.
/// Gives each token the frames the model emitted it at, which a prefix beam search does not: it records the frame a
/// prefix was first extended, often long before the token's emission peaks.
/// </summary>
public static class CtcAlignment
{
    /// <summary>The first and last frame of each token's emission on the best path that spells <paramref name="tokens"/>.</summary>
    /// <param name="logProbs">[T, V] log-probabilities, row-major.</param>
    /// <param name="frames">T, the frames to align over (at most the rows of <paramref name="logProbs"/>).</param>
    /// <param name="width">V, the row width (the vocabulary size, blank included).</param>
    /// <param name="blank">The blank's index.</param>
    /// <param name="tokens">The token sequence (no blanks), e.g. a decoded hypothesis.</param>
    /// <returns>Per token (Start, End) frames, inclusive; null when no path of <paramref name="frames"/> frames spells the
    /// sequence (too many tokens, counting a blank between repeats) or every such path has zero probability.</returns>
    /// <exception cref="ArgumentException">A size does not fit <paramref name="logProbs"/>, or a token is the blank or out of range.</exception>
    public static (int Start, int End)[]? Align(ReadOnlySpan<float> logProbs, int frames, int width, int blank, ReadOnlySpan<int> tokens)
    {
        if (width <= 0 || frames < 0 || (long)frames * width > logProbs.Length || blank < 0 || blank >= width)
            throw new ArgumentException($"{frames} frames of width {width} (blank {blank}) do not fit {logProbs.Length} scores");
        foreach (int token in tokens)
            if (token < 0 || token >= width || token == blank)
                throw new ArgumentException($"token {token} is the blank or outside 0..{width - 1}");
        if (tokens.Length == 0)
            return [];
        int states = 2 * tokens.Length + 1;
        int needed = tokens.Length;
        for (int i = 1; i < tokens.Length; i++)
            if (tokens[i] == tokens[i - 1])
                needed++;
        if (frames < needed)
            return null;
        // score[s]: best log-probability of a path ending in state s at the current frame; from[t, s]: the state it came from.
        var score = new float[states];
        var next = new float[states];
        var from = new int[frames * states];
        score.AsSpan().Fill(float.NegativeInfinity);
        score[0] = logProbs[blank];
        score[1] = logProbs[tokens[0]];
        for (int t = 1; t < frames; t++)
        {
            var row = logProbs.Slice(t * width, width);
            for (int s = 0; s < states; s++)
            {
                float best = score[s];
                int arg = s;
                if (s > 0 && score[s - 1] > best)
                {
                    best = score[s - 1];
                    arg = s - 1;
                }
                // Skip the blank between two different tokens.
                if (s > 1 && (s & 1) == 1 && tokens[s >> 1] != tokens[(s >> 1) - 1] && score[s - 2] > best)
                {
                    best = score[s - 2];
                    arg = s - 2;
                }
                next[s] = best + row[(s & 1) == 0 ? blank : tokens[s >> 1]];
                from[t * states + s] = arg;
            }
            (score, next) = (next, score);
        }
        int state = score[states - 1] >= score[states - 2] ? states - 1 : states - 2;
        if (float.IsNegativeInfinity(score[state]))
            return null;
        var spans = new (int Start, int End)[tokens.Length];
        spans.AsSpan().Fill((-1, -1));
        for (int t = frames - 1; t >= 0; t--)
        {
            if ((state & 1) == 1)
            {
                int k = state >> 1;
                spans[k] = (t, spans[k].End < 0 ? t : spans[k].End);
            }
            if (t > 0)
                state = from[t * states + state];
        }
        return spans;
    }
}
