namespace LipNet.ML.Decoding;

/// <summary>
/// What a constrained decoder may spell, as a deterministic automaton over token ids: a lexicon (any
/// sequence of listed words separated by single spaces) or a grammar of word slots (one word from each
/// slot, in order: GRID's command color preposition letter digit adverb). Only text that ends in a final
/// state is a complete hypothesis.
/// </summary>
public sealed class SpellingConstraint
{
    private readonly int _width;
    private readonly List<int> _next = [];     // state * width + token → next state, -1 = not allowed
    private readonly List<bool> _final = [];

    private SpellingConstraint(int width)
    {
        _width = width;
        AddState();
    }

    /// <summary>The start state.</summary>
    public int Start => 0;

    /// <summary>Number of automaton states, valid states being 0..StateCount − 1; it grows with the letters of the lexicon.</summary>
    public int StateCount => _final.Count;

    /// <summary>The state after <paramref name="token"/>, or -1 when the token is not allowed there.</summary>
    public int Next(int state, int token) => _next[state * _width + token];

    /// <summary>
    /// True when text that has reached <paramref name="state"/> is complete: it ends a lexicon word, or the last slot's word of a
    /// grammar. The beam search prefers hypotheses ending in a final state.
    /// </summary>
    /// <param name="state">A state from <see cref="Start"/> or <see cref="Next"/>, 0..<see cref="StateCount"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="state"/> is not a state (e.g. -1, "not allowed").</exception>
    public bool IsFinal(int state) => _final[state];

    private int AddState()
    {
        for (int i = 0; i < _width; i++)
            _next.Add(-1);
        _final.Add(false);
        return _final.Count - 1;
    }

    /// <summary>Adds a word below <paramref name="root"/>; returns the state after its last token.</summary>
    private int AddWord(int root, string word, CtcVocabulary vocabulary)
    {
        if (word.Length == 0 || word.Contains(' '))
            throw new TensorShapeException($"lexicon word '{word}' must be non-empty and contain no space");
        int state = root;
        foreach (int token in vocabulary.Encode(word))
        {
            int next = _next[state * _width + token];
            if (next < 0)
            {
                next = AddState();
                _next[state * _width + token] = next;
            }
            state = next;
        }
        return state;
    }

    /// <summary>Any sequence of one or more of <paramref name="words"/>, separated by single spaces.</summary>
    public static SpellingConstraint Lexicon(IEnumerable<string> words, CtcVocabulary vocabulary)
    {
        var c = new SpellingConstraint(vocabulary.Size);
        bool any = false;
        foreach (var word in words.Distinct())
        {
            int end = c.AddWord(c.Start, word, vocabulary);
            c._final[end] = true;
            if (vocabulary.SpaceId >= 0)
                c._next[end * c._width + vocabulary.SpaceId] = c.Start;
            any = true;
        }
        if (!any)
            throw new TensorShapeException("lexicon is empty");
        return c;
    }

    /// <summary>Exactly one word of each slot, in order, separated by single spaces.</summary>
    public static SpellingConstraint Grammar(IReadOnlyList<IReadOnlyList<string>> slots, CtcVocabulary vocabulary)
    {
        if (slots.Count == 0 || slots.Any(s => s.Count == 0))
            throw new TensorShapeException("a grammar needs at least one slot and a word in every slot");
        if (slots.Count > 1 && vocabulary.SpaceId < 0)
            throw new TensorShapeException("a grammar of several slots needs a space token in the vocabulary");
        var c = new SpellingConstraint(vocabulary.Size);
        int root = c.Start;
        for (int i = 0; i < slots.Count; i++)
        {
            int nextRoot = i + 1 < slots.Count ? c.AddState() : -1;
            foreach (var word in slots[i].Distinct())
            {
                int end = c.AddWord(root, word, vocabulary);
                if (nextRoot >= 0)
                    c._next[end * c._width + vocabulary.SpaceId] = nextRoot;
                else
                    c._final[end] = true;
            }
            root = nextRoot;
        }
        return c;
    }

    /// <summary>The GRID sentence grammar.</summary>
    public static SpellingConstraint Grid(CtcVocabulary vocabulary) => Grammar(Corpora.GridGrammar.Slots, vocabulary);

    /// <summary>True when the whole text is accepted.</summary>
    public bool Accepts(string text, CtcVocabulary vocabulary)
    {
        int state = Start;
        foreach (int token in vocabulary.Encode(text))
        {
            state = Next(state, token);
            if (state < 0)
                return false;
        }
        return IsFinal(state);
    }
}
