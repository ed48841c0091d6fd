namespace LipNet.ML.Synthesis;

/// <summary>
/// How one synthetic speaker looks and talks, drawn from a seed: face placement and size, skin, lips,
/// mouth width, hair, background, speaking rate and articulation strength.
/// </summary>
public sealed record SpeakerIdentity
{
    /// <summary>Speaker id, e.g. <c>s1</c> as GRID names its folders; with the corpus seed it fixes every other property.</summary>
    public required string Name { get; init; }
    /// <summary>Face centre as a fraction of the frame.</summary>
    public required float CenterX { get; init; }
    /// <summary>Face centre's height as a fraction of the frame height (0 = top); <see cref="Create"/> picks 0.44..0.54.</summary>
    public required float CenterY { get; init; }
    /// <summary>Face height as a fraction of the frame height.</summary>
    public required float FaceScale { get; init; }
    /// <summary>Width / height of the face ellipse.</summary>
    public required float FaceAspect { get; init; }
    /// <summary>BGR colours.</summary>
    public required (byte B, byte G, byte R) Skin { get; init; }
    /// <summary>Lip colour, BGR 0..255; <see cref="Create"/> derives it from <see cref="Skin"/> (darker, redder).</summary>
    public required (byte B, byte G, byte R) Lips { get; init; }
    /// <summary>Hair, brow and moustache colour, BGR 0..255.</summary>
    public required (byte B, byte G, byte R) Hair { get; init; }
    /// <summary>Base background colour, BGR 0..255; drawn as a vertical gradient from 0.8× at the top to 1.15× at the bottom.</summary>
    public required (byte B, byte G, byte R) Background { get; init; }
    /// <summary>Shirt (shoulders) colour, BGR 0..255.</summary>
    public required (byte B, byte G, byte R) Shirt { get; init; }
    /// <summary>Lip thickness relative to mouth width.</summary>
    public required float LipThickness { get; init; }
    /// <summary>Mouth width relative to face width.</summary>
    public required float MouthWidth { get; init; }
    /// <summary>Phoneme duration multiplier (above 1 = slower).</summary>
    public required float Rate { get; init; }
    /// <summary>How far the mouth moves towards each target (0.6 = mumbles, 1.2 = exaggerates).</summary>
    public required float Articulation { get; init; }
    /// <summary>
    /// Whether a moustache is drawn above the upper lip (it moves with the mouth opening); <see cref="Create"/> gives one to
    /// about 25% of speakers.
    /// </summary>
    public required bool Moustache { get; init; }

    /// <summary>A deterministic identity for a speaker name and corpus seed.</summary>
    public static SpeakerIdentity Create(string name, int seed)
    {
        var r = new Random(StableSeed.Combine(seed, StableSeed.Of(name)));
        float U(float lo, float hi) => lo + (float)r.NextDouble() * (hi - lo);
        byte B(double v) => (byte)Math.Clamp(v, 0, 255);
        // Skin from dark to light along a natural brown axis, with a small hue jitter.
        double tone = r.NextDouble();
        var skin = (B(45 + 150 * tone + r.Next(-10, 10)), B(70 + 140 * tone + r.Next(-10, 10)), B(110 + 120 * tone + r.Next(-10, 10)));
        double lipShade = U(0.55f, 0.85f);
        var lips = (B(skin.Item1 * lipShade * 0.8), B(skin.Item2 * lipShade * 0.7), B(Math.Min(255, skin.Item3 * U(0.85f, 1.05f))));
        double hairTone = r.NextDouble();
        var hair = hairTone < 0.6 ? (B(20 + 30 * hairTone), B(25 + 35 * hairTone), B(30 + 50 * hairTone)) : (B(40 + 60 * hairTone), B(80 + 70 * hairTone), B(120 + 90 * hairTone));
        return new SpeakerIdentity
        {
            Name = name,
            CenterX = U(0.40f, 0.60f),
            CenterY = U(0.44f, 0.54f),
            FaceScale = U(0.50f, 0.64f),
            FaceAspect = U(0.70f, 0.82f),
            Skin = skin,
            Lips = lips,
            Hair = hair,
            Background = (B(r.Next(60, 240)), B(r.Next(60, 240)), B(r.Next(40, 200))),
            Shirt = (B(r.Next(30, 220)), B(r.Next(30, 220)), B(r.Next(30, 220))),
            LipThickness = U(0.11f, 0.18f),
            MouthWidth = U(0.36f, 0.46f),
            Rate = U(0.85f, 1.2f),
            Articulation = U(0.75f, 1.15f),
            Moustache = r.NextDouble() < 0.25,
        };
    }
}
