using System.Collections.Generic;
using Compress.Generator.Model;

namespace Compress.Generator;

public sealed partial class CompressGenerator
{
    private const string Ort = "global::Microsoft.ML.OnnxRuntime.";

    private sealed partial class Emitter
    {
        /// <summary>
        /// The class of a plan whose <c>backend</c> is <c>"onnxruntime"</c> (docs/onnxruntime-backend.md): the same
        /// constants and <c>Run</c> overloads as a kernels class, backed by an ONNX Runtime session on the model embedded
        /// as the weights resource. Each input and output gets a managed buffer, wrapped once in an <c>OrtValue</c> (which
        /// pins it) and bound to the session's IO binding; <c>Run</c> copies the inputs in, runs the binding and copies
        /// the outputs out, so a call allocates no managed buffers.
        /// </summary>
        private void EmitOnnxRuntimeClass()
        {
            List<string> buffers = new();
            foreach (TensorSpec tensor in AllTensors())
            {
                buffers.Add("_" + (buffers.Count < _plan.Inputs.Count ? "input" : "output") + Int(buffers.Count < _plan.Inputs.Count ? buffers.Count : buffers.Count - _plan.Inputs.Count));
            }

            _w.Line("/// <summary>");
            string summary = Xml(_plan.Summary);
            _w.Line("/// Runs the model <c>" + Xml(_plan.Source.File) + "</c> with ONNX Runtime" + (summary.Length == 0 ? "." : ": " + summary + "."));
            _w.Line("/// </summary>");
            _w.Line("/// <remarks>");
            _w.Line("/// <para>");
            _w.Line("/// The model has ops Compress's kernels do not run (or its item asked for <c>Backend=\"OnnxRuntime\"</c>), so this class");
            _w.Line("/// runs it with ONNX Runtime " + Xml(_plan.OnnxRuntimeVersion!) + ": the model is embedded in this assembly (<see cref=\"WeightsBytes\"/> bytes),");
            _w.Line("/// each instance owns an inference session and pinned input and output buffers bound to it once, and");
            _w.Line("/// <see cref=\"" + _spanRunCref + "\"/> copies the inputs in and the outputs out. Dispose an instance to free the");
            _w.Line("/// native session.");
            _w.Line("/// </para>");
            _w.Line("/// <para>");
            _w.Line("/// Thread safety: an instance owns its buffers, so use one instance per thread.");
            _w.Line("/// </para>");
            _w.Line("/// </remarks>");
            _w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"Compress.Generator\", \"" + GeneratorVersion + "\")]");
            _w.Line("public sealed partial class " + _plan.ClassName + " : global::System.IDisposable");
            _w.Open();
            EmitConstants();

            _w.Line("/// <summary>The model bytes shared by every instance in the process, once loaded.</summary>");
            _w.Line("private static byte[]? s_sharedModel;");
            _w.Line();
            _w.Line("/// <summary>Guards the one-time load of <see cref=\"s_sharedModel\"/>.</summary>");
            _w.Line("private static object? s_sharedModelLock;");
            _w.Line();
            _w.Line("/// <summary>This instance's inference session.</summary>");
            _w.Line("private readonly " + Ort + "InferenceSession _session;");
            _w.Line();
            _w.Line("/// <summary>The options of every run (none set).</summary>");
            _w.Line("private readonly " + Ort + "RunOptions _runOptions;");
            _w.Line();
            _w.Line("/// <summary>The inputs and outputs bound to <see cref=\"_session\"/> once.</summary>");
            _w.Line("private readonly " + Ort + "OrtIoBinding _binding;");
            _w.Line();
            _w.Line("/// <summary>The tensors over the buffers below, inputs first; each pins its buffer until disposed.</summary>");
            _w.Line("private readonly " + Ort + "OrtValue[] _values;");
            _w.Line();
            int index = 0;
            foreach (TensorSpec tensor in AllTensors())
            {
                _w.Line("/// <summary>The buffer of <c>" + Xml(tensor.Name) + "</c>.</summary>");
                _w.Line("private readonly float[] " + buffers[index++] + ";");
                _w.Line();
            }

            _w.Line("/// <summary>Set by <see cref=\"Dispose\"/>.</summary>");
            _w.Line("private bool _disposed;");
            _w.Line();

            _w.Line("/// <summary>Creates an instance whose session runs on one intra-op thread, as the kernels do.</summary>");
            _w.Line("public " + _plan.ClassName + "()");
            _w.Line("    : this(null)");
            _w.Open();
            _w.Close();
            _w.Line();
            _w.Line("/// <summary>");
            _w.Line("/// Creates an instance with its own session. The first instance in the process reads the model from this assembly's");
            _w.Line("/// manifest resource <c>" + Xml(_plan.Weights.Resource) + "</c>; later instances share the bytes.");
            _w.Line("/// </summary>");
            _w.Line("/// <param name=\"options\">Session options (threads, execution providers); null for one intra-op thread. The caller keeps ownership.</param>");
            _w.Line("public " + _plan.ClassName + "(" + Ort + "SessionOptions? options)");
            _w.Open();
            _w.Line("byte[] model = LoadModel();");
            _w.Line("if (options is null)");
            _w.Open();
            _w.Line("using var defaults = new " + Ort + "SessionOptions { IntraOpNumThreads = 1 };");
            _w.Line("this._session = new " + Ort + "InferenceSession(model, defaults);");
            _w.Close();
            _w.Line("else");
            _w.Open();
            _w.Line("this._session = new " + Ort + "InferenceSession(model, options);");
            _w.Close();
            _w.Line();
            _w.Line("this._runOptions = new " + Ort + "RunOptions();");
            _w.Line("this._binding = this._session.CreateIoBinding();");
            _w.Line("this._values = new " + Ort + "OrtValue[" + Int(buffers.Count) + "];");
            index = 0;
            foreach (TensorSpec tensor in AllTensors())
            {
                bool isInput = index < _plan.Inputs.Count;
                string buffer = buffers[index];
                _w.Line("this." + buffer + " = new float[" + tensor.MemberStem + "Length];");
                _w.Line("this._values[" + Int(index) + "] = " + Ort + "OrtValue.CreateTensorValueFromMemory(this." + buffer
                    + ", new long[] { " + string.Join(", ", Map(tensor.Shape, Int)) + " });");
                _w.Line("this._binding." + (isInput ? "BindInput" : "BindOutput") + "(" + StringLiteral(tensor.Name) + ", this._values[" + Int(index) + "]);");
                index++;
            }

            _w.Close();
            _w.Line();

            EmitRun();
            EmitArrayRun();

            _w.Line("/// <summary>Copies the inputs into the bound buffers, runs the session, copies the outputs out.</summary>");
            _w.Line("private void RunCore(" + SpanParameters() + ")");
            _w.Open();
            _w.Line("global::System.ObjectDisposedException.ThrowIf(this._disposed, this);");
            index = 0;
            foreach (TensorSpec input in _plan.Inputs)
            {
                _w.Line(input.Identifier + ".CopyTo(this." + buffers[index++] + ");");
            }

            _w.Line("this._session.RunWithBinding(this._runOptions, this._binding);");
            foreach (TensorSpec output in _plan.Outputs)
            {
                _w.Line("new " + ReadOnlySpanOfFloat + "(this." + buffers[index++] + ").CopyTo(" + output.Identifier + ");");
            }

            _w.Close();
            _w.Line();

            _w.Line("/// <summary>Frees the native session, the binding and the tensors; the instance cannot run afterwards.</summary>");
            _w.Line("public void Dispose()");
            _w.Open();
            _w.Line("if (this._disposed)");
            _w.Open();
            _w.Line("return;");
            _w.Close();
            _w.Line();
            _w.Line("this._disposed = true;");
            _w.Line("this._binding.Dispose();");
            _w.Line("foreach (" + Ort + "OrtValue value in this._values)");
            _w.Open();
            _w.Line("value.Dispose();");
            _w.Close();
            _w.Line();
            _w.Line("this._runOptions.Dispose();");
            _w.Line("this._session.Dispose();");
            _w.Close();
            _w.Line();

            _w.Line("/// <summary>");
            _w.Line("/// Returns the process-wide model bytes, reading them from the manifest resource on first use. Thread-safe: one");
            _w.Line("/// thread reads while the others wait; if the read fails, the exception propagates and the next call retries.");
            _w.Line("/// </summary>");
            _w.Line("private static byte[] LoadModel() =>");
            _w.Line("    global::System.Threading.LazyInitializer.EnsureInitialized(");
            _w.Line("        ref s_sharedModel,");
            _w.Line("        ref s_sharedModelLock,");
            _w.Line("        static () =>");
            _w.Line("        {");
            _w.Line("            using global::System.IO.Stream stream = typeof(" + _typeName + ").Assembly.GetManifestResourceStream(" + StringLiteral(_plan.Weights.Resource) + ")");
            _w.Line("                ?? throw new global::System.InvalidOperationException(\"The model is missing from the assembly (manifest resource \" + " + StringLiteral(_plan.Weights.Resource) + " + \"); rebuild the project.\");");
            _w.Line("            byte[] bytes = new byte[WeightsBytes];");
            _w.Line("            stream.ReadExactly(bytes);");
            _w.Line("            return bytes;");
            _w.Line("        });");
            _w.Close();
            _w.Line();
            EmitThrowHelper();
        }
    }
}
