namespace LipNet.ML.Synthesis;

/// <summary>
/// Mouth shape parameters, each 0..1: jaw opening, lip spreading (width), rounding/protrusion, and how
/// much of the teeth and tongue show. A phoneme maps to one target; speech moves between targets.
/// </summary>
public readonly record struct MouthShape(float Open, float Spread, float Round, float Teeth, float Tongue)
{
    /// <summary>
    /// The relaxed, nearly closed mouth of a silent speaker (open 0.03, spread 0.45, round 0.15, no teeth or tongue): the
    /// target of <see cref="Viseme.Silence"/> and the shape a <see cref="SpeechTimeline.MouthTrack"/> starts and ends in.
    /// </summary>
    public static readonly MouthShape Rest = new(0.03f, 0.45f, 0.15f, 0f, 0f);

    /// <summary>Component-wise linear interpolation between two shapes, used to move between keyframes.</summary>
    /// <param name="a">The shape at <paramref name="t"/> = 0.</param>
    /// <param name="b">The shape at <paramref name="t"/> = 1.</param>
    /// <param name="t">Blend factor, normally 0..1; not clamped, so values outside it extrapolate beyond a or b.</param>
    /// <returns>a + (b − a)·t for each of the five parameters.</returns>
    public static MouthShape Lerp(MouthShape a, MouthShape b, float t) => new(
        a.Open + (b.Open - a.Open) * t, a.Spread + (b.Spread - a.Spread) * t, a.Round + (b.Round - a.Round) * t,
        a.Teeth + (b.Teeth - a.Teeth) * t, a.Tongue + (b.Tongue - a.Tongue) * t);
}

/// <summary>Visually distinct classes of phonemes (phonemes of one class look the same on the lips).</summary>
/// <remarks>
/// The classes are this library's own grouping of the 39 CMUdict ARPAbet phonemes by place of articulation (consonants)
/// and lip posture (vowels); they resemble, but do not reproduce, published viseme sets such as MPEG-4's. The vowel
/// classes come last, so <see cref="Visemes.IsVowel"/> is an ordinal comparison: do not reorder the members.
/// </remarks>
public enum Viseme
{
    /// <summary>No speech: the mouth at <see cref="MouthShape.Rest"/>. No phoneme maps here; it stands for pauses.</summary>
    Silence,
    /// <summary>Lips pressed together: P, B, M.</summary>
    Bilabial,
    /// <summary>Upper teeth on the lower lip: F, V.</summary>
    Labiodental,
    /// <summary>Tongue tip between the teeth: TH, DH.</summary>
    Dental,
    /// <summary>Tongue on the ridge behind the upper teeth, teeth showing: T, D, N, L, S, Z.</summary>
    Alveolar,
    /// <summary>Protruded lips with teeth showing: CH, JH, SH, ZH.</summary>
    PostAlveolar,
    /// <summary>Back of the tongue on the soft palate, mouth slightly open: K, G, NG.</summary>
    Velar,
    /// <summary>Open mouth with no lip gesture: HH.</summary>
    Glottal,
    /// <summary>Rounded, slightly protruded lips: R.</summary>
    R,
    /// <summary>Small, tightly rounded opening: W.</summary>
    W,
    /// <summary>Lips spread wide: Y.</summary>
    Y,
    /// <summary>Jaw wide open: AA, AE, AY, AW.</summary>
    OpenVowel,
    /// <summary>Jaw half open, lips neutral: AH, EH, ER.</summary>
    MidVowel,
    /// <summary>Lips spread, teeth showing, jaw nearly closed: IH, IY, EY.</summary>
    SpreadVowel,
    /// <summary>Jaw half open, lips rounded: AO, OW, OY.</summary>
    RoundVowel,
    /// <summary>Small, very round opening ("oo"): UH, UW.</summary>
    CloseRoundVowel,
}

/// <summary>ARPAbet phoneme → viseme class → mouth-shape target, and typical phoneme durations.</summary>
public static class Visemes
{
    private static readonly Dictionary<string, Viseme> Classes = new()
    {
        ["P"] = Viseme.Bilabial, ["B"] = Viseme.Bilabial, ["M"] = Viseme.Bilabial,
        ["F"] = Viseme.Labiodental, ["V"] = Viseme.Labiodental,
        ["TH"] = Viseme.Dental, ["DH"] = Viseme.Dental,
        ["T"] = Viseme.Alveolar, ["D"] = Viseme.Alveolar, ["N"] = Viseme.Alveolar, ["L"] = Viseme.Alveolar, ["S"] = Viseme.Alveolar, ["Z"] = Viseme.Alveolar,
        ["CH"] = Viseme.PostAlveolar, ["JH"] = Viseme.PostAlveolar, ["SH"] = Viseme.PostAlveolar, ["ZH"] = Viseme.PostAlveolar,
        ["K"] = Viseme.Velar, ["G"] = Viseme.Velar, ["NG"] = Viseme.Velar,
        ["HH"] = Viseme.Glottal, ["R"] = Viseme.R, ["W"] = Viseme.W, ["Y"] = Viseme.Y,
        ["AA"] = Viseme.OpenVowel, ["AE"] = Viseme.OpenVowel, ["AY"] = Viseme.OpenVowel, ["AW"] = Viseme.OpenVowel,
        ["AH"] = Viseme.MidVowel, ["EH"] = Viseme.MidVowel, ["ER"] = Viseme.MidVowel,
        ["IH"] = Viseme.SpreadVowel, ["IY"] = Viseme.SpreadVowel, ["EY"] = Viseme.SpreadVowel,
        ["AO"] = Viseme.RoundVowel, ["OW"] = Viseme.RoundVowel, ["OY"] = Viseme.RoundVowel,
        ["UH"] = Viseme.CloseRoundVowel, ["UW"] = Viseme.CloseRoundVowel,
    };

    /// <summary>The viseme class of an ARPAbet phoneme, as listed on each <see cref="Viseme"/> member.</summary>
    /// <param name="phoneme">One of the 39 CMUdict ARPAbet phonemes without stress digits (<c>AH</c>, not <c>AH0</c>); any case.</param>
    /// <returns>The class; never <see cref="Viseme.Silence"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="phoneme"/> is not an ARPAbet phoneme of that set.</exception>
    public static Viseme Of(string phoneme) =>
        Classes.TryGetValue(phoneme.ToUpperInvariant(), out var v) ? v : throw new ArgumentException($"unknown ARPAbet phoneme '{phoneme}'", nameof(phoneme));

    /// <summary>True for the vowel classes (<see cref="Viseme.OpenVowel"/> to <see cref="Viseme.CloseRoundVowel"/>, diphthongs included).</summary>
    /// <remarks>Vowels last longer in <see cref="BaseDuration"/> than consonants.</remarks>
    public static bool IsVowel(Viseme v) => v >= Viseme.OpenVowel;

    /// <summary>The mouth shape a viseme aims at (before a speaker's articulation strength scales it).</summary>
    public static MouthShape Target(Viseme v) => v switch
    {
        Viseme.Silence => MouthShape.Rest,
        Viseme.Bilabial => new(0.00f, 0.45f, 0.20f, 0.0f, 0.0f),      // lips pressed together
        Viseme.Labiodental => new(0.10f, 0.50f, 0.05f, 1.0f, 0.0f),   // upper teeth on the lower lip
        Viseme.Dental => new(0.22f, 0.55f, 0.05f, 0.7f, 1.0f),        // tongue between the teeth
        Viseme.Alveolar => new(0.20f, 0.60f, 0.10f, 0.8f, 0.3f),
        Viseme.PostAlveolar => new(0.22f, 0.30f, 0.70f, 0.6f, 0.0f),  // protruded lips, teeth showing
        Viseme.Velar => new(0.30f, 0.50f, 0.15f, 0.3f, 0.0f),
        Viseme.Glottal => new(0.40f, 0.50f, 0.15f, 0.3f, 0.0f),
        Viseme.R => new(0.20f, 0.30f, 0.60f, 0.2f, 0.0f),
        Viseme.W => new(0.08f, 0.05f, 1.00f, 0.0f, 0.0f),             // small rounded opening
        Viseme.Y => new(0.15f, 0.85f, 0.00f, 0.6f, 0.0f),
        Viseme.OpenVowel => new(1.00f, 0.65f, 0.05f, 0.5f, 0.4f),     // jaw wide open
        Viseme.MidVowel => new(0.55f, 0.60f, 0.10f, 0.5f, 0.2f),
        Viseme.SpreadVowel => new(0.28f, 1.00f, 0.00f, 0.8f, 0.0f),   // lips spread, teeth showing
        Viseme.RoundVowel => new(0.55f, 0.15f, 0.85f, 0.1f, 0.0f),
        Viseme.CloseRoundVowel => new(0.15f, 0.00f, 1.00f, 0.0f, 0.0f), // "oo": small, very round
        _ => MouthShape.Rest,
    };

    /// <summary>
    /// The mouth shape a phoneme aims at: its viseme's target plus a small phoneme-specific variation (lip
    /// pressure, tongue and teeth, opening). Real lips barely tell /b/ from /p/ or the letters c, d, t, z
    /// apart; the synthetic corpus keeps them distinguishable on purpose, so its accuracy figures measure the
    /// pipeline's learning rather than the corpus's built-in ambiguity (real-world figures are worse).
    /// </summary>
    public static MouthShape Target(string phoneme)
    {
        var v = Of(phoneme);
        var t = Target(v);
        var (open, spread, round, teeth, tongue) = Variations.GetValueOrDefault(phoneme.ToUpperInvariant());
        static float Clamp(float x) => Math.Clamp(x, 0f, 1f);
        return new MouthShape(v == Viseme.Bilabial ? t.Open : Clamp(t.Open + open), Clamp(t.Spread + spread), Clamp(t.Round + round), Clamp(t.Teeth + teeth), Clamp(t.Tongue + tongue));
    }

    // (open, spread, round, teeth, tongue) offsets from the viseme's target; the first phoneme of each class keeps it.
    private static readonly Dictionary<string, (float, float, float, float, float)> Variations = new()
    {
        ["P"] = (0, 0, 0.2f, 0, 0), ["M"] = (0, 0.12f, -0.12f, 0, 0),
        ["V"] = (0.06f, 0, 0, -0.2f, 0),
        ["DH"] = (0, 0, 0, 0, -0.35f),
        ["D"] = (0.07f, 0, 0, -0.25f, 0), ["N"] = (0, 0, 0, -0.35f, 0.45f), ["L"] = (0.08f, 0, 0, -0.1f, 0.65f),
        ["S"] = (-0.1f, 0.12f, 0, 0.2f, -0.3f), ["Z"] = (-0.08f, 0.25f, 0, 0.1f, -0.3f),
        ["JH"] = (0, 0.15f, -0.25f, 0, 0), ["SH"] = (0, -0.1f, 0.2f, 0, 0), ["ZH"] = (0.06f, 0, 0, -0.2f, 0),
        ["G"] = (0.1f, 0, 0, 0, 0.2f), ["NG"] = (-0.12f, 0, 0, 0, 0.4f),
        ["AE"] = (-0.12f, 0.2f, 0, 0, 0), ["AY"] = (0, 0.12f, 0, 0.2f, -0.2f), ["AW"] = (-0.05f, -0.15f, 0.25f, 0, 0),
        ["EH"] = (0, 0.18f, 0, 0.2f, 0), ["ER"] = (-0.1f, -0.1f, 0.25f, 0, 0),
        ["IY"] = (-0.05f, 0, 0, 0.2f, 0), ["EY"] = (0.14f, -0.15f, 0, -0.2f, 0.3f),
        ["OW"] = (-0.1f, 0, 0.12f, 0, 0), ["OY"] = (0.05f, 0.15f, -0.1f, 0.3f, 0),
        ["UH"] = (0.1f, 0.1f, -0.15f, 0, 0),
    };

    /// <summary>Typical duration in seconds at a normal speaking rate.</summary>
    public static double BaseDuration(Viseme v) => v switch
    {
        Viseme.OpenVowel or Viseme.RoundVowel => 0.15,
        _ when IsVowel(v) => 0.12,
        Viseme.Bilabial or Viseme.Labiodental => 0.085,
        _ => 0.07,
    };
}
