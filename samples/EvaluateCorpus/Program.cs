// Evaluates the embedded default model on a corpus (GRID layout) and prints corpus and per-speaker CER/WER.
//
//   dotnet run -c Release --project samples/EvaluateCorpus -- [corpus-dir]
//   (default: renders 2 unseen synthetic speakers x 3 clips into a temporary folder first)
return LipNet.Samples.EvaluateSample.Run(args, Console.Out);
