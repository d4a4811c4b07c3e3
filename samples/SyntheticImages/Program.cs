using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using SyntheticImages;

// Writes the synthetic image sets of samples/ImageFeatures, preprocessed by ML.NET's own ResNetPreprocess.onnx (from the
// Microsoft.ML.DnnImageFeaturizer.ResNet18 package) run in ONNX Runtime: RGB → BGR, minus the mean image. These are the
// tensors ML.NET's DnnImageFeaturizer feeds ResNet18.onnx.
//   SyntheticImages <ResNetPreprocess.onnx> <output folder> <name>=<seed>x<count> ...
if (args.Length < 3)
{
    Console.Error.WriteLine("Usage: SyntheticImages <ResNetPreprocess.onnx> <output folder> <name>=<seed>x<count> ...");
    return 2;
}
string output = args[1];
Directory.CreateDirectory(output);
using var options = new SessionOptions { IntraOpNumThreads = 1 };
using var preprocess = new InferenceSession(args[0], options);
using var runOptions = new RunOptions();
string inputName = preprocess.InputMetadata.Keys.Single();
long[] shape = [1, ImageGenerator.Channels, ImageGenerator.Height, ImageGenerator.Width];
var rgb = new float[ImageGenerator.Length];
var preprocessed = new float[ImageGenerator.Length];
foreach (string set in args.Skip(2))
{
    string[] nameAndSpec = set.Split('=');
    string[] seedAndCount = nameAndSpec[1].Split('x');
    int seed = int.Parse(seedAndCount[0]), count = int.Parse(seedAndCount[1]);
    string path = Path.Combine(output, nameAndSpec[0] + ".npy");
    string temp = path + ".tmp";
    using (var file = File.Create(temp))
    {
        WriteNpyHeader(file, [count, ImageGenerator.Channels, ImageGenerator.Height, ImageGenerator.Width]);
        for (int i = 0; i < count; i++)
        {
            ImageGenerator.Generate(seed, i, rgb);
            using var input = OrtValue.CreateTensorValueFromMemory(rgb, shape);
            using var outputs = preprocess.Run(runOptions, [inputName], [input], preprocess.OutputNames);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(preprocessed);
            file.Write(MemoryMarshal.AsBytes(preprocessed.AsSpan()));
        }
    }
    File.Move(temp, path, overwrite: true);
    Console.WriteLine($"SyntheticImages: {path} ({count} images, seed {seed})");
}
return 0;

// NumPy .npy format 1.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): little-endian float32, C order.
static void WriteNpyHeader(Stream stream, int[] dims)
{
    string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", dims)}), }}";
    int unpadded = 10 + dict.Length + 1;
    string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
    stream.WriteByte(0x93);
    stream.Write("NUMPY"u8);
    stream.Write([1, 0]);
    stream.Write(BitConverter.GetBytes((ushort)header.Length));
    stream.Write(Encoding.ASCII.GetBytes(header));
}
