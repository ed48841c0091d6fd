namespace LipNet.ML.Mouth;

/// <summary>
/// A box in source-frame pixels: x, y of the top-left corner and width, height of the box before rotation;
/// <paramref name="Angle"/> turns it about its centre (radians, image coordinates: positive is clockwise on
/// screen), so the crop's x axis runs along that angle. Axis-aligned boxes have angle 0.
/// </summary>
/// <param name="X">Left edge of the unrotated box, source pixels (may be negative: the box may overhang the frame).</param>
/// <param name="Y">Top edge of the unrotated box, source pixels (may be negative).</param>
/// <param name="Width">Width in source pixels; a box to crop from must have a finite, positive size.</param>
/// <param name="Height">Height in source pixels.</param>
/// <param name="Angle">Rotation about the centre, radians, positive clockwise on screen; 0 = axis-aligned.</param>
public readonly record struct MouthBox(float X, float Y, float Width, float Height, float Angle = 0)
{
    /// <summary>X of the box centre in source pixels (<c>X + Width / 2</c>); the point a rotated box turns about.</summary>
    public float CenterX => X + Width / 2;

    /// <summary>Y of the box centre in source pixels (<c>Y + Height / 2</c>); the point a rotated box turns about.</summary>
    public float CenterY => Y + Height / 2;

    /// <summary>The box of the given centre and size (all in source pixels).</summary>
    /// <param name="centerX">Centre x, pixels.</param>
    /// <param name="centerY">Centre y, pixels.</param>
    /// <param name="width">Width before rotation, pixels.</param>
    /// <param name="height">Height before rotation, pixels.</param>
    /// <param name="angle">Rotation about the centre, radians, positive clockwise on screen (0 = axis-aligned).</param>
    /// <returns>A box with <c>X = centerX - width / 2</c> and <c>Y = centerY - height / 2</c>.</returns>
    public static MouthBox FromCenter(float centerX, float centerY, float width, float height, float angle = 0) =>
        new(centerX - width / 2, centerY - height / 2, width, height, angle);

    /// <summary>[x, y, w, h] rounded to whole pixels, the form the CLI prints.</summary>
    public int[] ToPixelArray() => [(int)MathF.Round(X), (int)MathF.Round(Y), (int)MathF.Round(Width), (int)MathF.Round(Height)];
}
