namespace LipNet.ML;

/// <summary>
/// Seed mixing that gives the same value in every process (unlike <see cref="HashCode"/>, which is
/// randomized per process), so seeded corpora, splits and shuffles reproduce across runs.
/// </summary>
public static class StableSeed
{
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

    public static int Of(string text)
    {
        int h = 17;
        foreach (char c in text)
            h = Combine(h, c);
        return h;
    }
}
