// Trains a Small LipNet on synthetic clips rendered in memory (no video files) and prints the loss and greedy CER
// as it goes; writes the inference model (with its card) at the end. With the defaults it is the overfit check:
// 8 clips of 4 speakers reach a training CER under 5% in about 100 steps (about 1.5 minutes on 2 cores).
//
//   dotnet run -c Release --project samples/TrainSynthetic -- [clips=8] [steps=600] [lr=0.006] [preset=Small] [out=out/synthetic.onnx]
return LipNet.Samples.TrainSample.Run(args, Console.Out);
