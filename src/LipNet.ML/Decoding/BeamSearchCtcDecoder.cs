namespace LipNet.ML.Decoding;

/// <summary>Settings of <see cref="BeamSearchCtcDecoder"/>.</summary>
public sealed record BeamSearchOptions
{
    /// <summary>Prefixes kept after each frame.</summary>
    public int BeamWidth { get; init; } = 100;

    /// <summary>Hypotheses returned.</summary>
    public int NBest { get; init; } = 1;

    /// <summary>Per frame, extend only with the K most likely tokens (0 = all). The blank is always considered.</summary>
    public int TopK { get; init; }

    /// <summary>Per frame, extend only with the most likely tokens whose probabilities add up to this (1 = all).</summary>
    public float CutoffProbability { get; init; } = 1f;

    /// <summary>Only text this constraint accepts is produced (lexicon or grammar); null = any text.</summary>
    public SpellingConstraint? Constraint { get; init; }

    /// <summary>An n-gram model over words or characters; null = none.</summary>
    public NGramLanguageModel? LanguageModel { get; init; }

    /// <summary>Weight of the language model's log probability.</summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>Bonus added per word (counters the language model's preference for short output).</summary>
    public float Beta { get; init; }

    /// <summary>
    /// The defaults: beam 100, 1-best, no pruning, no constraint, no language model (α 0.5 and β 0 then only matter
    /// once a model is set). One shared immutable instance; derive variants with <c>with</c>.
    /// </summary>
    public static BeamSearchOptions Default { get; } = new();
}

/// <summary>
/// CTC prefix beam search in log space. Each prefix carries the probability of paths ending in a blank
/// and in a non-blank, so alignments of the same text are summed, not competed. Optional spelling
/// constraint (lexicon / grammar automaton), word or character n-gram language model with weight α and
/// word bonus β, per-frame top-k and cumulative-probability pruning, n-best output with the frame where
/// each token starts. Prefixes live in a per-thread trie that is reused, so decoding does not allocate in
/// its inner loop.
/// </summary>
public sealed class BeamSearchCtcDecoder : CtcDecoder
{
    private readonly ThreadLocal<Workspace> _workspace;
    private readonly int[]? _charLmIds;                 // token id → LM id, character models
    private readonly Dictionary<ulong, int>? _wordLmIds; // word hash → LM id, word models

    /// <summary>
    /// A prefix beam search decoder (Graves et al. 2006's CTC; prefix search with α-weighted language model and β word
    /// bonus as in Hannun et al. 2014) over <paramref name="vocabulary"/>. A word model's words are mapped to token
    /// sequences here, once: model words the vocabulary cannot spell are ignored, and a spelled word the model lacks scores
    /// <see cref="NGramLanguageModel.UnknownLogProb"/>.
    /// </summary>
    /// <param name="vocabulary">The model's output alphabet; it fixes the width V of each [T, V] score row.</param>
    /// <param name="options">Beam settings; null = <see cref="BeamSearchOptions.Default"/>. A constraint must be built for the
    /// same vocabulary.</param>
    /// <param name="inputsAreLogProbs">True when the scores passed to Decode are already natural-log probabilities
    /// (log-softmax output); false (default) for raw logits, which are log-softmaxed per frame first.</param>
    /// <exception cref="ArgumentNullException"><paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">BeamWidth or NBest below 1, TopK below 0, CutoffProbability not in (0, 1].</exception>
    public BeamSearchCtcDecoder(CtcVocabulary vocabulary, BeamSearchOptions? options = null, bool inputsAreLogProbs = false)
        : base(vocabulary, inputsAreLogProbs)
    {
        Options = options ?? BeamSearchOptions.Default;
        if (Options.BeamWidth < 1 || Options.NBest < 1 || Options.TopK < 0 || Options.CutoffProbability is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"invalid beam options {Options}");
        if (Options.LanguageModel is { } lm)
        {
            if (lm.Unit == LanguageModelUnit.Character)
            {
                _charLmIds = new int[vocabulary.Size];
                for (int id = 0; id < vocabulary.Size; id++)
                    _charLmIds[id] = id == vocabulary.BlankId ? 0 : lm.Id(vocabulary[id] == " " ? NGramLanguageModel.Space : vocabulary[id]);
            }
            else
            {
                _wordLmIds = [];
                foreach (var token in LanguageModelWords(lm))
                {
                    ulong hash = 0;
                    bool spellable = true;
                    foreach (var ch in Elements(System.Globalization.StringInfo.GetTextElementEnumerator(token)))
                    {
                        if (!vocabulary.TryGetId(ch, out int id)) { spellable = false; break; }
                        hash = HashStep(hash, id);
                    }
                    if (spellable)
                        _wordLmIds[hash] = lm.Id(token);
                }
            }
        }
        _workspace = new ThreadLocal<Workspace>(() => new Workspace());
    }

    /// <summary>The settings in use (<see cref="BeamSearchOptions.Default"/> when none were given).</summary>
    public BeamSearchOptions Options { get; }

    private static IEnumerable<string> Elements(System.Globalization.TextElementEnumerator e)
    {
        while (e.MoveNext())
            yield return e.GetTextElement();
    }

    private static IEnumerable<string> LanguageModelWords(NGramLanguageModel lm) =>
        lm.Vocabulary.Where(w => w is not (NGramLanguageModel.SentenceStart or NGramLanguageModel.SentenceEnd or NGramLanguageModel.Unknown));

    private static ulong HashStep(ulong hash, int token) => (hash ^ (ulong)(token + 1)) * 0x100000001B3UL + 0x9E3779B97F4A7C15UL;

    /// <summary>Numerically stable ln(e^a + e^b).</summary>
    private static float LogAdd(float a, float b)
    {
        if (a == float.NegativeInfinity) return b;
        if (b == float.NegativeInfinity) return a;
        return a > b ? a + MathF.Log(1 + MathF.Exp(b - a)) : b + MathF.Log(1 + MathF.Exp(a - b));
    }

    /// <summary>Per-thread scratch: the prefix trie and the beams, grown as needed and reused.</summary>
    private sealed class Workspace
    {
        public int Count;
        public int[] Parent = new int[1024], Token = new int[1024], State = new int[1024], Frame = new int[1024], Stamp = new int[1024];
        public ulong[] History = new ulong[1024], WordHash = new ulong[1024];
        public float[] Lm = new float[1024], NextBlank = new float[1024], NextNonBlank = new float[1024];
        public readonly Dictionary<long, int> Children = [];
        public int[] Beam = new int[128], Touched = new int[1024];
        public float[] BeamBlank = new float[128], BeamNonBlank = new float[128], TouchedScore = new float[1024], Select = new float[1024];
        public int[] Candidates = new int[64];

        public void Reset(int width)
        {
            Count = 0;
            Children.Clear();
            if (Candidates.Length < width)
                Candidates = new int[width];
        }

        public int Add(int parent, int token, int state, ulong history, ulong wordHash, float lm, int frame)
        {
            if (Count == Parent.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Parent, n); Array.Resize(ref Token, n); Array.Resize(ref State, n); Array.Resize(ref Frame, n);
                Array.Resize(ref Stamp, n); Array.Resize(ref History, n); Array.Resize(ref WordHash, n); Array.Resize(ref Lm, n);
                Array.Resize(ref NextBlank, n); Array.Resize(ref NextNonBlank, n);
            }
            int id = Count++;
            Parent[id] = parent; Token[id] = token; State[id] = state; History[id] = history; WordHash[id] = wordHash;
            Lm[id] = lm; Frame[id] = frame; Stamp[id] = -1;
            return id;
        }

        public void EnsureBeam(int n)
        {
            if (Beam.Length < n)
            {
                Array.Resize(ref Beam, n); Array.Resize(ref BeamBlank, n); Array.Resize(ref BeamNonBlank, n);
            }
        }

        public void EnsureTouched(int n)
        {
            if (Touched.Length < n)
            {
                Array.Resize(ref Touched, n); Array.Resize(ref TouchedScore, n); Array.Resize(ref Select, n);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Alignments of the same prefix are summed in log space; the beam keeps the <see cref="BeamSearchOptions.BeamWidth"/>
    /// prefixes with the best acoustic + α·LM + β·words score after each frame, and the final ranking adds the last word's
    /// language score and bonus and the end-of-sentence probability. Under a constraint, incomplete prefixes are returned
    /// only when no complete one survived (with <see cref="CtcHypothesis.Complete"/> false).
    /// </remarks>
    protected override CtcDecodeResult DecodeLogProbs(ReadOnlySpan<float> logProbs, int frames)
    {
        var w = _workspace.Value!;
        int width = Vocabulary.Size, blank = Vocabulary.BlankId, space = Vocabulary.SpaceId;
        var lm = Options.LanguageModel;
        var constraint = Options.Constraint;
        w.Reset(width);
        int root = w.Add(-1, -1, constraint?.Start ?? 0, lm?.StartHistory ?? 0, 0, 0, 0);
        int beamCount = 1;
        w.EnsureBeam(Math.Max(Options.BeamWidth, 1) + 1);
        w.Beam[0] = root;
        w.BeamBlank[0] = 0;
        w.BeamNonBlank[0] = float.NegativeInfinity;

        for (int t = 0; t < frames; t++)
        {
            var row = logProbs.Slice(t * width, width);
            int candidateCount = SelectCandidates(row, blank, w.Candidates);
            w.EnsureTouched(beamCount * (candidateCount + 2) + 1);
            int touched = 0;

            void Accumulate(int node, float blankScore, float nonBlankScore, int t)
            {
                if (w.Stamp[node] != t)
                {
                    w.Stamp[node] = t;
                    w.NextBlank[node] = float.NegativeInfinity;
                    w.NextNonBlank[node] = float.NegativeInfinity;
                    w.Touched[touched++] = node;
                }
                if (blankScore != float.NegativeInfinity)
                    w.NextBlank[node] = LogAdd(w.NextBlank[node], blankScore);
                if (nonBlankScore != float.NegativeInfinity)
                    w.NextNonBlank[node] = LogAdd(w.NextNonBlank[node], nonBlankScore);
            }

            for (int b = 0; b < beamCount; b++)
            {
                int node = w.Beam[b];
                float pb = w.BeamBlank[b], pnb = w.BeamNonBlank[b], total = LogAdd(pb, pnb);
                Accumulate(node, total + row[blank], float.NegativeInfinity, t);
                int last = w.Token[node];
                for (int k = 0; k < candidateCount; k++)
                {
                    int c = w.Candidates[k];
                    float p = row[c];
                    if (c == last)
                    {
                        // Repeat without a blank between stays the same prefix; after a blank it is a new token.
                        Accumulate(node, float.NegativeInfinity, pnb + p, t);
                        if (pb != float.NegativeInfinity)
                        {
                            int child = Child(w, node, c, t, lm, space);
                            if (child >= 0)
                                Accumulate(child, float.NegativeInfinity, pb + p, t);
                        }
                    }
                    else
                    {
                        int child = Child(w, node, c, t, lm, space);
                        if (child >= 0)
                            Accumulate(child, float.NegativeInfinity, total + p, t);
                    }
                }
            }

            // Keep the best BeamWidth prefixes by acoustic + language score.
            for (int i = 0; i < touched; i++)
            {
                int node = w.Touched[i];
                w.TouchedScore[i] = LogAdd(w.NextBlank[node], w.NextNonBlank[node]) + w.Lm[node];
            }
            float threshold = touched > Options.BeamWidth ? KthLargest(w.TouchedScore, w.Select, touched, Options.BeamWidth) : float.NegativeInfinity;
            beamCount = 0;
            for (int i = 0; i < touched && beamCount < Options.BeamWidth; i++)
            {
                if (w.TouchedScore[i] < threshold || w.TouchedScore[i] == float.NegativeInfinity)
                    continue;
                int node = w.Touched[i];
                w.Beam[beamCount] = node;
                w.BeamBlank[beamCount] = w.NextBlank[node];
                w.BeamNonBlank[beamCount] = w.NextNonBlank[node];
                beamCount++;
            }
        }
        return Finish(w, beamCount, logProbs, frames, lm, space);
    }

    /// <summary>Candidate tokens of a frame (never the blank), most likely first, after top-k and cutoff pruning.</summary>
    private int SelectCandidates(ReadOnlySpan<float> row, int blank, int[] candidates)
    {
        int n = 0;
        for (int c = 0; c < row.Length; c++)
            if (c != blank && row[c] != float.NegativeInfinity)
                candidates[n++] = c;
        if (Options.TopK == 0 && Options.CutoffProbability >= 1f)
            return n;
        // Insertion sort by probability: vocabularies here are small, and only pruned decodes get here.
        for (int i = 1; i < n; i++)
        {
            int c = candidates[i];
            int j = i - 1;
            while (j >= 0 && row[candidates[j]] < row[c])
            {
                candidates[j + 1] = candidates[j];
                j--;
            }
            candidates[j + 1] = c;
        }
        int keep = Options.TopK > 0 ? Math.Min(n, Options.TopK) : n;
        if (Options.CutoffProbability < 1f)
        {
            float mass = MathF.Exp(row[blank]);
            int k = 0;
            while (k < keep && mass < Options.CutoffProbability)
                mass += MathF.Exp(row[candidates[k++]]);
            keep = Math.Max(1, k);
        }
        return keep;
    }

    /// <summary>The child prefix for token c, created on first use; -1 where the constraint forbids it.</summary>
    private int Child(Workspace w, int node, int c, int frame, NGramLanguageModel? lm, int space)
    {
        long key = (long)node << 20 | (uint)c;
        if (w.Children.TryGetValue(key, out int child))
            return child;
        int state = 0;
        if (Options.Constraint is { } constraint)
        {
            state = constraint.Next(w.State[node], c);
            if (state < 0)
            {
                w.Children[key] = -1;
                return -1;
            }
        }
        ulong history = w.History[node], wordHash = w.WordHash[node];
        float score = w.Lm[node];
        if (lm is not null && _charLmIds is not null)
        {
            int id = _charLmIds[c];
            score += Options.Alpha * lm.LogProb(history, id);
            history = lm.Push(history, id);
            if (c == space)
                score += Options.Beta;
        }
        else if (c == space)
        {
            if (lm is not null && wordHash != 0)
            {
                int id = _wordLmIds!.GetValueOrDefault(wordHash);
                score += Options.Alpha * lm.LogProb(history, id);
                history = lm.Push(history, id);
            }
            score += Options.Beta;
            wordHash = 0;
        }
        else
        {
            wordHash = HashStep(wordHash, c);
        }
        child = w.Add(node, c, state, history, wordHash, score, frame);
        w.Children[key] = child;
        return child;
    }

    /// <summary>Value of the k-th largest of the first n scores (quickselect on a copy).</summary>
    private static float KthLargest(float[] scores, float[] scratch, int n, int k)
    {
        Array.Copy(scores, scratch, n);
        int lo = 0, hi = n - 1, target = k - 1;
        while (lo < hi)
        {
            float pivot = scratch[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (scratch[i] > pivot) i++;
                while (scratch[j] < pivot) j--;
                if (i <= j)
                {
                    (scratch[i], scratch[j]) = (scratch[j], scratch[i]);
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else break;
        }
        return scratch[target];
    }

    private CtcDecodeResult Finish(Workspace w, int beamCount, ReadOnlySpan<float> logProbs, int frames, NGramLanguageModel? lm, int space)
    {
        var finals = new List<(int Node, float Score, float Acoustic, bool Complete)>(beamCount);
        bool anyComplete = false;
        for (int b = 0; b < beamCount; b++)
        {
            int node = w.Beam[b];
            bool complete = Options.Constraint?.IsFinal(w.State[node]) ?? true;
            anyComplete |= complete;
            float acoustic = LogAdd(w.BeamBlank[b], w.BeamNonBlank[b]);
            float score = acoustic + w.Lm[node];
            // Close the sentence: the last word's language score and bonus, then </s>.
            bool endsInWord = w.Token[node] >= 0 && w.Token[node] != space;
            if (lm is not null)
            {
                ulong history = w.History[node];
                if (_wordLmIds is not null && endsInWord)
                {
                    int id = _wordLmIds.GetValueOrDefault(w.WordHash[node]);
                    score += Options.Alpha * lm.LogProb(history, id);
                    history = lm.Push(history, id);
                }
                score += Options.Alpha * lm.LogProb(history, lm.EndId);
            }
            if (endsInWord)
                score += Options.Beta;
            finals.Add((node, score, acoustic, complete));
        }
        if (anyComplete)
            finals.RemoveAll(f => !f.Complete);
        finals.Sort((a, b) => b.Score.CompareTo(a.Score));
        var nbest = new List<CtcHypothesis>();
        foreach (var (node, score, acoustic, complete) in finals.Take(Options.NBest))
        {
            var tokens = new List<int>();
            var starts = new List<int>();
            for (int n = node; w.Parent[n] >= 0; n = w.Parent[n])
            {
                tokens.Add(w.Token[n]);
                starts.Add(w.Frame[n]);
            }
            tokens.Reverse();
            starts.Reverse();
            var ids = tokens.ToArray();
            // The frames each token was emitted at (Viterbi): the search's own are where a prefix was first extended.
            var aligned = CtcAlignment.Align(logProbs, frames, Vocabulary.Size, Vocabulary.BlankId, ids);
            var frameOf = aligned is null ? starts.ToArray() : aligned.Select(a => a.Start).ToArray();
            nbest.Add(new CtcHypothesis(Vocabulary.Decode(ids), ids, frameOf, score, acoustic, complete));
        }
        if (nbest.Count == 0)
            nbest.Add(new CtcHypothesis("", [], [], float.NegativeInfinity, float.NegativeInfinity, Options.Constraint is null));
        return new CtcDecodeResult(nbest, frames);
    }
}
