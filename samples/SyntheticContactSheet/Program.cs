// Renders one GRID sentence with a synthetic speaker and writes its mouth crops as a contact sheet,
// each frame labelled with the phoneme spoken at that moment, so lips can be seen closing on b/p/m,
// rounding on w/oo and opening on a.
//
//   dotnet run --project samples/SyntheticContactSheet -- [out.png] [sentence] [speaker-seed]
using LipNet.ML.Synthesis;
using OpenCvSharp;

string output = args.Length > 0 ? args[0] : "docs/synthetic_mouth_sheet.png";
string sentence = args.Length > 1 ? args[1] : "bin white at b two please";
int seed = args.Length > 2 ? int.Parse(args[2]) : 1;

var speaker = SpeakerIdentity.Create("s1", seed);
var clip = SyntheticCorpus.Render(speaker, sentence, clipSeed: seed);
var crops = SyntheticCorpus.MouthCrops(clip);

const int columns = 15, label = 14, scale = 1;
int cw = crops.Width * scale, ch = crops.Height * scale + label;
int rows = (crops.FrameCount + columns - 1) / columns;
using var sheet = new Mat(rows * ch + 24, columns * cw, MatType.CV_8UC3, Scalar.All(255));
Cv2.PutText(sheet, $"\"{sentence}\" (synthetic speaker, {crops.FrameCount} frames at 25 fps; label = phoneme at the frame)",
    new Point(4, 16), HersheyFonts.HersheySimplex, 0.45, Scalar.All(0), 1, LineTypes.AntiAlias);
unsafe
{
    fixed (byte* p = crops.Pixels)
    {
        for (int t = 0; t < crops.FrameCount; t++)
        {
            using var frame = Mat.FromPixelData(crops.Height, crops.Width, MatType.CV_8UC3, (IntPtr)(p + (long)t * crops.FrameByteCount));
            int x = t % columns * cw, y = 24 + t / columns * ch;
            using (var cell = sheet[new Rect(x, y, cw, crops.Height * scale)])
                Cv2.Resize(frame, cell, cell.Size(), 0, 0, InterpolationFlags.Nearest);
            double time = (t + 0.5) / 25;
            var seg = clip.Timeline.Phonemes.FirstOrDefault(s => s.Start <= time && time < s.End);
            string text = seg is null ? "-" : $"{seg.Phoneme} {clip.Words[seg.WordIndex].Word}";
            var colour = seg?.Viseme switch
            {
                Viseme.Bilabial => new Scalar(0, 0, 200),
                Viseme.W or Viseme.CloseRoundVowel or Viseme.RoundVowel => new Scalar(200, 0, 0),
                Viseme.OpenVowel => new Scalar(0, 140, 0),
                _ => Scalar.All(60),
            };
            Cv2.PutText(sheet, text, new Point(x + 3, y + crops.Height * scale + 11), HersheyFonts.HersheySimplex, 0.36, colour, 1, LineTypes.AntiAlias);
        }
    }
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
Cv2.ImWrite(output, sheet);
Console.WriteLine($"{output}: {sentence} (red: lips closed b/p/m, blue: rounded w/oo/o, green: open a)");
