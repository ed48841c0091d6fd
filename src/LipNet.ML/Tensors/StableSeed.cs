namespace LipNet.ML;

/// <summary>
/// Seed mixing that gives the same value in every process (unlike <see cref="HashCode"/>, which is
/// randomized per process), so seeded corpora, splits and shuffles reproduce across runs.
/// </summary>
public static class StableSeed
{
    /// <summary>Mixes <paramref name="values"/> in order with splitmix64's finalizer steps into one 32-bit seed.</summary>
    /// <param name="values">The values to mix (e.g. a base seed, a speaker index, a clip index); order matters.</param>
    /// <returns>A seed, any <see cref="int"/> value, the same for the same values in every process and on every platform.</returns>
    public static int Combine(params ReadOnlySpan<int> values)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (int v in values)
        {
            h ^= (uint)v;
            h *= 0xBF58476D1CE4E5B9UL; // splitmix64 finalizer steps
            h ^= h >> 31;
            h *= 0x94D049BB133111EBUL;
            h ^= h >> 29;
        }
        return (int)(h ^ (h >> 32));
    }

    /// <summary>A stable seed from a text (e.g. a clip id), its UTF-16 code units mixed in order by <see cref="Combine"/>.</summary>
    /// <param name="text">Any text, not null; the empty string gives a fixed value.</param>
    /// <returns>A seed, the same for the same text in every process.</returns>
    public static int Of(string text)
    {
        int h = 17;
        foreach (char c in text)
            h = Combine(h, c);
        return h;
    }
}
