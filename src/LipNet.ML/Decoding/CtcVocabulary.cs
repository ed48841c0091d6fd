using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LipNet.ML.Decoding;

/// <summary>Where the CTC blank sits in the model's output.</summary>
public enum BlankPosition
{
    /// <summary>Blank is id 0 (LipNet-PyTorch, torch's CTCLoss default).</summary>
    First,
    /// <summary>Blank is the last id (Keras LipNet, TensorFlow's ctc_loss).</summary>
    Last,
}

/// <summary>
/// The output alphabet of a CTC model: one token per non-blank output column plus the blank. Tokens are
/// single characters (GRID: space and a–z); large alphabets (Chinese-LiPS' ~3.5k characters) load from a
/// character list. <see cref="Tokenizer"/> exposes it as a Microsoft.ML.Tokenizers tokenizer.
/// </summary>
public sealed class CtcVocabulary
{
    private readonly string[] _tokens;        // by id; the blank's slot holds ""
    private readonly Dictionary<string, int> _ids;

    /// <summary>An alphabet of the given tokens in output-column order, with the CTC blank added before or after them.</summary>
    /// <param name="tokens">The non-blank tokens in the model's column order, usually one character each (" " for the space).</param>
    /// <param name="blank">Where the blank column sits (default <see cref="BlankPosition.Last"/>, Keras LipNet's layout).</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> is null.</exception>
    /// <exception cref="TensorShapeException">No tokens, an empty token, or a token listed twice.</exception>
    public CtcVocabulary(IEnumerable<string> tokens, BlankPosition blank = BlankPosition.Last)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var list = tokens.ToList();
        if (list.Count == 0)
            throw new TensorShapeException("a CTC vocabulary needs at least one token besides the blank");
        var duplicates = list.GroupBy(t => t).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            throw new TensorShapeException($"vocabulary has duplicate tokens: {string.Join(", ", duplicates.Select(d => $"'{d}'"))}");
        if (list.Any(string.IsNullOrEmpty))
            throw new TensorShapeException("vocabulary tokens must not be empty");
        Blank = blank;
        BlankId = blank == BlankPosition.First ? 0 : list.Count;
        _tokens = blank == BlankPosition.First ? ["", .. list] : [.. list, ""];
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++)
            if (i != BlankId)
                _ids[_tokens[i]] = i;
        SpaceId = _ids.TryGetValue(" ", out int space) ? space : -1;
        Tokenizer = new CtcTokenizer(this);
    }

    /// <summary>
    /// GRID's alphabet, space and a–z. With the blank first: blank, space, a..z (LipNet-PyTorch order);
    /// last: a..z, space, blank (Keras LipNet order). 28 outputs either way.
    /// </summary>
    public static CtcVocabulary Grid(BlankPosition blank = BlankPosition.Last)
    {
        var letters = Enumerable.Range('a', 26).Select(c => ((char)c).ToString());
        return blank == BlankPosition.First ? new([" ", .. letters], blank) : new([.. letters, " "], blank);
    }

    /// <summary>
    /// Loads a character list: a <c>tokenizer.json</c> (its <c>model.vocab</c> map, ordered by id), a JSON
    /// array of strings, or plain text with one token per line. The blank is added at <paramref name="blank"/>;
    /// entries named <c>&lt;blank&gt;</c>, <c>&lt;pad&gt;</c> or <c>_</c> in a JSON vocabulary are taken as it.
    /// A line holding only <c>&lt;space&gt;</c> stands for the space character.
    /// </summary>
    public static CtcVocabulary Load(string path, BlankPosition blank = BlankPosition.Last)
    {
        if (!File.Exists(path))
            throw new CorpusFormatException("vocabulary file not found", path);
        string text = File.ReadAllText(path, Encoding.UTF8);
        List<string> tokens;
        string trimmed = text.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Array)
                {
                    tokens = root.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new CorpusFormatException("vocabulary array must hold strings", path)).ToList();
                }
                else if (root.TryGetProperty("model", out var model) && model.TryGetProperty("vocab", out var vocab) && vocab.ValueKind == JsonValueKind.Object)
                {
                    tokens = vocab.EnumerateObject()
                        .Select(p => (Token: p.Name, Id: p.Value.TryGetInt32(out int id) ? id : throw new CorpusFormatException($"vocabulary id of '{p.Name}' is not an integer", path)))
                        .OrderBy(p => p.Id).Select(p => p.Token).ToList();
                }
                else
                {
                    throw new CorpusFormatException("JSON vocabulary must be an array of tokens or a tokenizer.json with model.vocab", path);
                }
            }
            catch (JsonException ex)
            {
                throw new CorpusFormatException($"invalid JSON ({ex.Message})", path, (int?)(ex.LineNumber + 1), ex);
            }
            tokens.RemoveAll(t => t is "<blank>" or "<pad>" or "_");
        }
        else
        {
            tokens = text.Replace("\r", "").Split('\n').Where(l => l.Length > 0).ToList();
        }
        tokens = tokens.Select(t => t is "<space>" or "|" ? " " : t).ToList();
        try
        {
            return new CtcVocabulary(tokens, blank);
        }
        catch (TensorShapeException ex)
        {
            throw new CorpusFormatException(ex.Reason, path, inner: ex);
        }
    }

    /// <summary>Where the blank sits: first (id 0) or last (id <see cref="Size"/> − 1).</summary>
    public BlankPosition Blank { get; }

    /// <summary>Id (output column) of the CTC blank: 0, or <see cref="Size"/> − 1 when the blank is last.</summary>
    public int BlankId { get; }

    /// <summary>Id of the space token, or -1 when the alphabet has none (then every output is one word).</summary>
    public int SpaceId { get; }

    /// <summary>Model output width: tokens plus the blank.</summary>
    public int Size => _tokens.Length;

    /// <summary>Non-blank tokens in id order.</summary>
    public IEnumerable<string> Tokens => _tokens.Where((_, i) => i != BlankId);

    /// <summary>The token of an id ("" for the blank).</summary>
    public string this[int id] => _tokens[id];

    /// <summary>
    /// This alphabet as a Microsoft.ML.Tokenizers <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>, for code written against that
    /// API: one token per character (text element), no normalizer or pre-tokenizer; decoding skips the blank. Encoding a
    /// character outside the alphabet throws <see cref="TensorShapeException"/>.
    /// </summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>Looks up the id of a non-blank token (ordinal, case-sensitive).</summary>
    /// <param name="token">A token as listed in <see cref="Tokens"/>, e.g. "a" or " ".</param>
    /// <param name="id">The token's id when found; 0 otherwise.</param>
    /// <returns>True when the alphabet has the token; false for unknown tokens and for "" (the blank has no text).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>Token ids of a text, one per character (text elements for surrogate pairs).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(text);
        while (e.MoveNext())
        {
            string element = e.GetTextElement();
            if (!_ids.TryGetValue(element, out int id))
                throw new TensorShapeException($"'{element}' (U+{char.ConvertToUtf32(element, 0):X4}) is not in the vocabulary of {Size - 1} tokens");
            ids.Add(id);
        }
        return ids.ToArray();
    }

    /// <summary>Text of a token sequence; blanks are skipped (no CTC collapsing: that is the decoders' job).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new TensorShapeException($"token id {id} outside the vocabulary 0..{_tokens.Length - 1}");
            if (id != BlankId)
                sb.Append(_tokens[id]);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The scoring normalization: lower case (invariant culture), whitespace runs collapsed to one space,
    /// no leading or trailing space. Applied to both reference and hypothesis before CER/WER/BLEU.
    /// </summary>
    public static string NormalizeForScoring(string text) =>
        string.Join(' ', (text ?? "").ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The vocabulary as a Microsoft.ML.Tokenizers tokenizer (one token per character; no normalizer).</summary>
    private sealed class CtcTokenizer(CtcVocabulary vocabulary) : Tokenizer
    {
        protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
        {
            string s = text ?? textSpan.ToString();
            var tokens = new List<EncodedToken>(s.Length);
            var e = System.Globalization.StringInfo.GetTextElementEnumerator(s);
            int max = settings.MaxTokenCount > 0 ? settings.MaxTokenCount : int.MaxValue;
            int consumed = 0;
            while (e.MoveNext() && tokens.Count < max)
            {
                string element = e.GetTextElement();
                if (!vocabulary._ids.TryGetValue(element, out int id))
                    throw new TensorShapeException($"'{element}' is not in the vocabulary");
                tokens.Add(new EncodedToken(id, element, new Range(e.ElementIndex, e.ElementIndex + element.Length)));
                consumed = e.ElementIndex + element.Length;
            }
            return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = consumed };
        }

        public override string Decode(IEnumerable<int> ids) => vocabulary.Decode(ids.ToArray());

        public override System.Buffers.OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
        {
            idsConsumed = 0;
            charsWritten = 0;
            foreach (int id in ids)
            {
                string token = vocabulary._tokens[id];
                if (charsWritten + token.Length > destination.Length)
                    return System.Buffers.OperationStatus.DestinationTooSmall;
                token.AsSpan().CopyTo(destination[charsWritten..]);
                charsWritten += token.Length;
                idsConsumed++;
            }
            return System.Buffers.OperationStatus.Done;
        }
    }
}
