namespace LipNet.ML.Corpora;

/// <summary>
/// The GRID sentence grammar (command color preposition letter digit adverb), its 6-character file ids
/// and an ARPAbet pronunciation of each of its 51 words.
/// </summary>
/// <remarks>
/// GRID: Cooke, Barker, Cunningham and Shao, "An audio-visual corpus for speech perception and automatic speech
/// recognition", JASA 120(5), 2006. 4 × 4 × 4 × 25 × 10 × 4 = 64,000 possible sentences; word lists are lower case, in the
/// order of their id codes.
/// </remarks>
public static class GridGrammar
{
    /// <summary>Slot 1, the command: bin, lay, place, set (id codes b, l, p, s).</summary>
    public static IReadOnlyList<string> Commands { get; } = ["bin", "lay", "place", "set"];

    /// <summary>Slot 2, the colour: blue, green, red, white (id codes b, g, r, w).</summary>
    public static IReadOnlyList<string> Colors { get; } = ["blue", "green", "red", "white"];

    /// <summary>Slot 3, the preposition: at, by, in, with (id codes a, b, i, w).</summary>
    public static IReadOnlyList<string> Prepositions { get; } = ["at", "by", "in", "with"];

    /// <summary>a–z without w (GRID never uses it: "double-u" would break the one-syllable design).</summary>
    public static IReadOnlyList<string> Letters { get; } = "abcdefghijklmnopqrstuvxyz".Select(c => c.ToString()).ToArray();

    /// <summary>Slot 5, the digit: zero to nine, spelled out (id codes z, 1 ... 9).</summary>
    public static IReadOnlyList<string> Digits { get; } = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>Slot 6, the adverb: again, now, please, soon (id codes a, n, p, s).</summary>
    public static IReadOnlyList<string> Adverbs { get; } = ["again", "now", "please", "soon"];

    /// <summary>The six word slots in sentence order.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Slots { get; } = [Commands, Colors, Prepositions, Letters, Digits, Adverbs];

    /// <summary>ARPAbet phonemes (CMUdict, stress removed) of every GRID word.</summary>
    public static IReadOnlyDictionary<string, string[]> Pronunciations { get; } = new Dictionary<string, string[]>
    {
        ["bin"] = ["B", "IH", "N"], ["lay"] = ["L", "EY"], ["place"] = ["P", "L", "EY", "S"], ["set"] = ["S", "EH", "T"],
        ["blue"] = ["B", "L", "UW"], ["green"] = ["G", "R", "IY", "N"], ["red"] = ["R", "EH", "D"], ["white"] = ["W", "AY", "T"],
        ["at"] = ["AE", "T"], ["by"] = ["B", "AY"], ["in"] = ["IH", "N"], ["with"] = ["W", "IH", "DH"],
        ["a"] = ["EY"], ["b"] = ["B", "IY"], ["c"] = ["S", "IY"], ["d"] = ["D", "IY"], ["e"] = ["IY"], ["f"] = ["EH", "F"],
        ["g"] = ["JH", "IY"], ["h"] = ["EY", "CH"], ["i"] = ["AY"], ["j"] = ["JH", "EY"], ["k"] = ["K", "EY"], ["l"] = ["EH", "L"],
        ["m"] = ["EH", "M"], ["n"] = ["EH", "N"], ["o"] = ["OW"], ["p"] = ["P", "IY"], ["q"] = ["K", "Y", "UW"], ["r"] = ["AA", "R"],
        ["s"] = ["EH", "S"], ["t"] = ["T", "IY"], ["u"] = ["Y", "UW"], ["v"] = ["V", "IY"], ["x"] = ["EH", "K", "S"], ["y"] = ["W", "AY"],
        ["z"] = ["Z", "IY"],
        ["zero"] = ["Z", "IH", "R", "OW"], ["one"] = ["W", "AH", "N"], ["two"] = ["T", "UW"], ["three"] = ["TH", "R", "IY"],
        ["four"] = ["F", "AO", "R"], ["five"] = ["F", "AY", "V"], ["six"] = ["S", "IH", "K", "S"], ["seven"] = ["S", "EH", "V", "AH", "N"],
        ["eight"] = ["EY", "T"], ["nine"] = ["N", "AY", "N"],
        ["again"] = ["AH", "G", "EH", "N"], ["now"] = ["N", "AW"], ["please"] = ["P", "L", "IY", "Z"], ["soon"] = ["S", "UW", "N"],
    };

    private static readonly string[] CommandCodes = ["b", "l", "p", "s"];
    private static readonly string[] ColorCodes = ["b", "g", "r", "w"];
    private static readonly string[] PrepositionCodes = ["a", "b", "i", "w"];
    private static readonly string[] DigitCodes = ["z", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly string[] AdverbCodes = ["a", "n", "p", "s"];
    private static readonly string[][] SlotCodes = [CommandCodes, ColorCodes, PrepositionCodes, [.. Letters], DigitCodes, AdverbCodes];

    /// <summary>True when <paramref name="id"/> is a 6-character GRID id such as <c>bgbsza</c>.</summary>
    public static bool TryParseId(string id, out string sentence)
    {
        sentence = "";
        if (id is null || id.Length != 6)
            return false;
        var words = new string[6];
        for (int slot = 0; slot < 6; slot++)
        {
            int k = Array.IndexOf(SlotCodes[slot], char.ToLowerInvariant(id[slot]).ToString());
            if (k < 0)
                return false;
            words[slot] = Slots[slot][k];
        }
        sentence = string.Join(' ', words);
        return true;
    }

    /// <summary>The sentence a GRID file id stands for; a typed error when it is not one.</summary>
    public static string SentenceFromId(string id, string? path = null) =>
        TryParseId(id, out var s) ? s : throw new CorpusFormatException($"'{id}' is not a GRID sentence id (6 characters: command color preposition letter digit adverb)", path);

    /// <summary>The 6-character id of a GRID sentence (inverse of <see cref="SentenceFromId"/>).</summary>
    public static string IdFromSentence(string sentence)
    {
        var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 6)
            throw new CorpusFormatException($"'{sentence}' has {words.Length} words, a GRID sentence has 6");
        var id = new char[6];
        for (int slot = 0; slot < 6; slot++)
        {
            int k = IndexOf(Slots[slot], words[slot]);
            if (k < 0)
                throw new CorpusFormatException($"'{words[slot]}' is not a GRID word for slot {slot + 1}");
            id[slot] = SlotCodes[slot][k][0];
        }
        return new string(id);
    }

    /// <summary>True when the sentence follows the GRID grammar.</summary>
    public static bool IsValidSentence(string sentence)
    {
        var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 6 && Enumerable.Range(0, 6).All(i => IndexOf(Slots[i], words[i]) >= 0);
    }

    private static int IndexOf(IReadOnlyList<string> list, string word)
    {
        for (int i = 0; i < list.Count; i++)
            if (string.Equals(list[i], word, StringComparison.OrdinalIgnoreCase))
                return i;
        return -1;
    }
}
