using LipNet.ML.Face;

namespace LipNet.ML.Mouth;

/// <summary>
/// How a model's mouth crops were made, named after the implementation it reproduces: the locator, the crop
/// geometry, the crop size, colour and normalization. Recorded in the model card (<c>crop_profile</c>) and
/// chosen from it when a model is loaded, so a model sees mouths cropped as in its training.
/// </summary>
/// <param name="Name">The profile's name as the card stores it.</param>
/// <param name="Width">Reference crop width in pixels (the card's size rules when it differs).</param>
/// <param name="Height">Reference crop height in pixels.</param>
/// <param name="Channels">3 = colour, 1 = grey.</param>
/// <param name="Mean">Per-channel mean subtracted after scaling pixels to [0, 1]; null = none.</param>
/// <param name="Std">Per-channel standard deviation divided by; null = none.</param>
/// <param name="Description">Where the profile comes from.</param>
public sealed record CropProfile(string Name, int Width, int Height, int Channels, float[]? Mean, float[]? Std, string Description)
{
    /// <summary>
    /// The project's Haar-cascade crops (face box → mouth box, 100x50 RGB): what models trained before the
    /// landmark front end saw, and what a card without a profile means.
    /// </summary>
    public static CropProfile Haar { get; } = new("haar", 100, 50, 3, null, null,
        "LipNet.ML's Haar face-box crops (HaarMouthLocator), 100x50 RGB");

    /// <summary>rizkiarm/LipNet's dlib crops (lipnet/lipreading/videos.py), reproduced with Face Mesh: 100x50 RGB, pixels / 255.</summary>
    public static CropProfile MouthCentred { get; } = new("mouth-centred", 100, 50, 3, null, null,
        "rizkiarm/LipNet get_frames_mouth: first-frame mouth-width ratio, window at each frame's mouth centroid, 100x50 RGB");

    /// <summary>auto_avsr / VSR mean-face alignment: 88x88 grey, mean 0.421, std 0.165.</summary>
    public static CropProfile MeanFace { get; } = new("mean-face", 88, 88, 1, [0.421f], [0.165f],
        "auto_avsr / Visual_Speech_Recognition_for_Multiple_Languages: similarity transform onto the mean face, 96x96 mouth patch, centre 88x88, grey");

    /// <summary>
    /// VIPL LipNet-PyTorch's crops (Fengdalu/LipNet-PyTorch <c>scripts/extract_lip.py</c>, <c>demo.py</c>), reproduced with
    /// Face Mesh: 51 landmarks aligned onto dlib's mean face on a 256x256 canvas by a Procrustes similarity, its 160x80 mouth
    /// window resized to 128x64 (its first release; 100x50 in its current one: the card's size rules), colour, pixels / 255.
    /// It fed the network OpenCV's BGR order: a card importing its weights says so in <c>channel_order</c>.
    /// See <see cref="Mouth.FaceAligned"/>.
    /// </summary>
    public static CropProfile FaceAligned { get; } = new("face-aligned", 128, 64, 3, null, null,
        "VIPL LipNet-PyTorch scripts/extract_lip.py: Procrustes similarity of dlib points 17-67 onto the mean face (256x256), 160x80 window at the template mouth, resized (128x64; 100x50 in later releases), colour, pixels / 255");

    /// <summary>True for the profiles made from face landmarks (mouth-centred, mean-face, face-aligned); false for <c>haar</c>.</summary>
    public bool UsesLandmarks => Name != Haar.Name;

    /// <summary>Every built-in profile.</summary>
    public static IReadOnlyList<CropProfile> All { get; } = [Haar, MouthCentred, MeanFace, FaceAligned];

    /// <summary>The profile a card without <c>crop_profile</c> means (models made before profiles existed).</summary>
    public static CropProfile Legacy => Haar;

    /// <summary>The profile a card or checkpoint names, or <see cref="Legacy"/> where it names none.</summary>
    /// <exception cref="MouthLocatorException">An unknown name.</exception>
    public static CropProfile Named(string? name) => name is { Length: > 0 } ? Get(name) : Legacy;

    /// <summary>The built-in profile named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="MouthLocatorException">No such profile.</exception>
    public static CropProfile Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new MouthLocatorException($"unknown crop profile '{name}' (known: {string.Join(", ", All.Select(p => p.Name))})");

    /// <summary>A new locator that makes this profile's boxes (dispose it when done).</summary>
    /// <param name="landmarks">Landmark locator settings (tracking, sampling, smoothing) for the landmark profiles; the
    /// profile sets the geometry. Null = defaults.</param>
    /// <param name="haar">Haar settings for the <c>haar</c> profile; null = defaults.</param>
    /// <exception cref="Runtime.ModelLoadException">A front-end model is missing or corrupt.</exception>
    /// <exception cref="MouthLocatorException">A cascade file is missing or corrupt.</exception>
    public IMouthLocator CreateLocator(LandmarkMouthLocatorOptions? landmarks = null, HaarMouthLocatorOptions? haar = null) => Name switch
    {
        "haar" => new HaarMouthLocator(haar),
        "mean-face" => new LandmarkMouthLocator((landmarks ?? new()) with { Geometry = MouthGeometry.MeanFace }),
        "face-aligned" => new LandmarkMouthLocator((landmarks ?? new()) with { Geometry = MouthGeometry.FaceAligned }),
        _ => new LandmarkMouthLocator((landmarks ?? new()) with { Geometry = MouthGeometry.MouthCentred }),
    };
}
