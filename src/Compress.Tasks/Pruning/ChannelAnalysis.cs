using System.Collections.Immutable;
using Compress.Tasks.Graph;

namespace Compress.Tasks.Pruning;

using Graph = Compress.Tasks.Graph.Graph;

/// <summary>How a node takes part in a channel group, i.e. what must be sliced when channels go.</summary>
internal enum MemberRole
{
    /// <summary>A Conv/Gemm/MatMul whose output channels are the group's: weight rows (Conv dim 0, Gemm/MatMul output features) and bias.</summary>
    Producer,

    /// <summary>A depthwise Conv: its channels follow its input's; weight dim 0, bias and the <c>group</c> attribute shrink.</summary>
    Depthwise,

    /// <summary>A standalone BatchNormalization: its four per-channel parameters.</summary>
    BatchNorm,

    /// <summary>An element-wise op with a constant operand that has the channel axis (input <see cref="ChannelMember.Input"/>).</summary>
    Constant,

    /// <summary>A Conv/Gemm/MatMul reading the channels: its weight's input axis (Conv dim 1, Gemm/MatMul reduction).</summary>
    Consumer,
}

/// <summary>
/// One place a channel group appears: channel c of the group is elements [Start + c·Multiplier, Start + (c+1)·Multiplier)
/// of the node's channel axis (Multiplier &gt; 1 after a Flatten: H·W features per channel).
/// </summary>
/// <remarks>For <see cref="MemberRole.Constant"/>: <see cref="Input"/> is the constant operand and <see cref="Axis"/> its channel axis.</remarks>
internal sealed record ChannelMember(Node Node, MemberRole Role, int Start, int Multiplier, int Input = 0, int Axis = 0);

/// <summary>A set of channels that must be pruned together (producers joined by Add/Mul/Concat-free paths).</summary>
internal sealed record ChannelGroup
{
    public required int Channels { get; init; }

    public required ImmutableArray<ChannelMember> Members { get; init; }

    /// <summary>Why the group cannot be pruned (a graph output or input shares its channels, an excluded producer …), or null.</summary>
    public string? Fixed { get; init; }

    /// <summary>The first op the group reaches that channel pruning cannot rewire: (node, why), or null.</summary>
    public (Node Node, string Reason)? Blocker { get; init; }

    public IEnumerable<ChannelMember> Producers => Members.Where(m => m.Role == MemberRole.Producer);

    public IEnumerable<ChannelMember> Consumers => Members.Where(m => m.Role == MemberRole.Consumer);

    /// <summary>Identifies the group across re-analyses: its producers' first outputs, sorted.</summary>
    public string Key => string.Join("|", Producers.Select(p => p.Node.Output0).Order(StringComparer.Ordinal));

    public string Label => string.Join(" + ", Producers.Select(p => p.Node.Label));
}

/// <summary>
/// Finds the channel groups of a graph by following each prunable producer's output channels forward through the ops
/// that keep channels apart (element-wise ops, pools, BatchNormalization, Flatten into features, Unsqueeze/Squeeze of
/// later axes, depthwise Conv, Concat along the channels) to the Conv/Gemm/MatMul layers that sum over them. Element-wise
/// ops joining two channel tensors (residual Add, SE Mul) merge their groups; a graph output or input reached this way
/// fixes the group (its channel count cannot change); any other op is a blocker.
/// </summary>
internal static class ChannelAnalysis
{
    sealed record Segment(int Group, int Count, int Multiplier);

    sealed record Layout(int Axis, ImmutableArray<Segment> Segments)
    {
        public int Size => Segments.Sum(s => s.Count * s.Multiplier);

        public bool SameShape(Layout other) => Axis == other.Axis && Segments.Length == other.Segments.Length
            && Segments.Zip(other.Segments).All(p => p.First.Count == p.Second.Count && p.First.Multiplier == p.Second.Multiplier);
    }

    static readonly HashSet<string> Unary = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Identity", "Dropout", "Cast",
    };

    static readonly HashSet<string> Binary = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Max", "Min" };

    /// <param name="graph">The canonical graph (shapes inferred).</param>
    /// <param name="producers">Output names of the layers that may lose channels (prunable, not excluded).</param>
    public static List<ChannelGroup> Analyse(Graph graph, IReadOnlySet<string> producers)
    {
        var parent = new List<int>();
        var fixedReason = new List<string?>();
        var blockers = new List<(Node, string)?>();
        var members = new List<(int Group, ChannelMember Member)>();
        var layouts = new Dictionary<string, Layout>(StringComparer.Ordinal);

        int NewGroup(string? fixedWhy = null)
        {
            parent.Add(parent.Count);
            fixedReason.Add(fixedWhy);
            blockers.Add(null);
            return parent.Count - 1;
        }
        int Find(int g) { while (parent[g] != g) g = parent[g] = parent[parent[g]]; return g; }
        void Union(int a, int b)
        {
            a = Find(a); b = Find(b);
            if (a == b) return;
            parent[b] = a;
            fixedReason[a] ??= fixedReason[b];
            blockers[a] ??= blockers[b];
        }
        void Fix(Layout layout, string why) { foreach (var s in layout.Segments) fixedReason[Find(s.Group)] ??= why; }
        void Block(Layout layout, Node node, string why)
        {
            // An op just before the graph outputs (e.g. a Softmax over the logits) fixes the channels rather than blocking.
            if (ReachesOutputWithoutLayer(graph, node) is string output) { Fix(layout, $"its channels reach graph output '{output}' through {node.OpType} '{node.Label}'"); return; }
            foreach (var s in layout.Segments) blockers[Find(s.Group)] ??= (node, why);
        }
        void AddMembers(Layout layout, Node node, MemberRole role, int input = 0, int axis = 0)
        {
            int start = 0;
            foreach (var s in layout.Segments)
            {
                members.Add((s.Group, new ChannelMember(node, role, start, s.Multiplier, input, axis)));
                start += s.Count * s.Multiplier;
            }
        }
        Shape? ShapeOf(string v) => graph.Constant(v)?.Shape ?? graph.Value(v)?.Shape;

        foreach (var node in graph.Nodes)
        {
            var inLayouts = node.Inputs.Select(i => i.Length > 0 && layouts.TryGetValue(i, out var l) ? l : null).ToArray();
            Layout? first = inLayouts.FirstOrDefault(l => l is not null);
            string y = node.Output0;
            bool isProducer = producers.Contains(y);
            if (node.Domain.Length > 0) { if (first is not null) Block(first, node, $"op {node.Domain}.{node.OpType}"); continue; }
            switch (node.OpType)
            {
                case "Conv":
                {
                    long groups = node.GetInt("group", 1);
                    var w = graph.Constant(node.Input(1));
                    if (inLayouts.Length > 1 && inLayouts.Skip(1).FirstOrDefault(l => l is not null) is { } wl) { Block(wl, node, "channels flow into a Conv weight or bias"); break; }
                    long cin = ShapeOf(node.Input(0))?.Dims[1].Value ?? -1;
                    bool depthwise = groups > 1 && w is not null && groups == cin && w.Dims[0] == groups;
                    if (first is not null)
                    {
                        if (first.Axis != 1 || first.Segments.Any(s => s.Multiplier != 1)) Block(first, node, "the channels are not the Conv's channel axis");
                        else if (depthwise) { AddMembers(first, node, MemberRole.Depthwise); layouts[y] = first; break; }
                        else if (groups != 1) Block(first, node, $"grouped convolution (group={groups}) cannot lose input channels unevenly");
                        else if (w is null) Block(first, node, "its weight is computed at run time");
                        else AddMembers(first, node, MemberRole.Consumer);
                    }
                    if (isProducer && !depthwise) StartGroup(node, 1);
                    break;
                }
                case "Gemm":
                case "MatMul":
                {
                    if (inLayouts.Length > 1 && inLayouts.Skip(1).FirstOrDefault(l => l is not null) is { } bl) { Block(bl, node, $"channels flow into the {node.OpType}'s B or C"); break; }
                    if (first is not null)
                    {
                        int rank = ShapeOf(node.Input(0))?.Rank ?? 0;
                        if (graph.Constant(node.Input(1)) is null) Block(first, node, "its B is computed at run time");
                        else if (node.OpType == "Gemm" && node.GetInt("transA", 0) != 0) Block(first, node, "Gemm with transA=1");
                        else if (first.Axis != rank - 1) Block(first, node, "the channels are not the reduction axis");
                        else AddMembers(first, node, MemberRole.Consumer);
                    }
                    if (isProducer)
                    {
                        int rank = ShapeOf(y)?.Rank ?? 2;
                        var c = node.OpType == "Gemm" && node.HasInput(2) ? node.Input(2) : null;
                        if (c is not null && graph.Constant(c) is null) { int g = NewGroup($"its C '{c}' is computed at run time"); layouts[y] = Single(g, node, rank - 1); }
                        else StartGroup(node, rank - 1);
                    }
                    break;
                }
                case "BatchNormalization":
                    if (first is null) break;
                    if (inLayouts.Skip(1).Any(l => l is not null) || Enumerable.Range(1, 4).Any(i => graph.Constant(node.Input(i)) is null)) { Block(first, node, "its parameters are not constants"); break; }
                    if (first.Axis != 1) { Block(first, node, "the channels are not axis 1"); break; }
                    AddMembers(first, node, MemberRole.BatchNorm);
                    layouts[y] = first;
                    break;
                case "MaxPool" or "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool":
                    if (first is null) break;
                    if (first.Axis != 1 || first.Segments.Any(s => s.Multiplier != 1)) { Block(first, node, "the channels are not axis 1"); break; }
                    if (node.Outputs.Skip(1).Any(o => o.Length > 0 && graph.UseCount(o) > 0)) { Block(first, node, "its Indices output is used"); break; }
                    layouts[y] = first;
                    break;
                case "Flatten":
                {
                    if (first is null) break;
                    var shape = ShapeOf(node.Input(0));
                    long axis = node.GetInt("axis", 1);
                    if (shape is null || (axis < 0 ? axis + shape.Rank : axis) != 1 || first.Axis != 1) { Block(first, node, "Flatten does not keep the channels as the leading feature axis"); break; }
                    int inner = (int)shape.Dims.Skip(2).Aggregate(1L, (a, d) => a * d.Value);
                    layouts[y] = first with { Segments = first.Segments.Select(s => s with { Multiplier = s.Multiplier * inner }).ToImmutableArray() };
                    break;
                }
                case "Unsqueeze" or "Squeeze":
                {
                    if (first is null) break;
                    var axes = node.GetInts("axes") ?? (node.HasInput(1) && graph.Constant(node.Input(1)) is { } a ? TensorData.ToInt64s(a) : null);
                    int inRank = ShapeOf(node.Input(0))?.Rank ?? 0, outRank = ShapeOf(y)?.Rank ?? 0;
                    int rank = node.OpType == "Unsqueeze" ? outRank : inRank;
                    if (axes is null || axes.Any(x => (x < 0 ? x + rank : x) <= first.Axis)) { Block(first, node, $"{node.OpType} moves the channel axis"); break; }
                    layouts[y] = first;
                    break;
                }
                case "Concat":
                {
                    if (first is null) break;
                    int rank = ShapeOf(y)?.Rank ?? 0;
                    long axis = node.GetInt("axis", 0);
                    if (axis < 0) axis += rank;
                    if (inLayouts.Any(l => l is not null && l.Axis != axis))
                    {
                        Block(first, node, "Concat along an axis other than the channels");
                        break;
                    }
                    var segments = ImmutableArray.CreateBuilder<Segment>();
                    for (int i = 0; i < node.Inputs.Length; i++)
                    {
                        if (inLayouts[i] is { } l)
                        {
                            if (l.Segments.Any(s => s.Multiplier != 1) && first.Segments.Any(s => s.Multiplier == 1)) { Block(l, node, "Concat of flattened and unflattened channels"); }
                            segments.AddRange(l.Segments);
                        }
                        else
                        {
                            long size = ShapeOf(node.Inputs[i])?.Dims[(int)axis].Value ?? 0;
                            if (size > 0) segments.Add(new Segment(NewGroup($"concatenated with '{node.Inputs[i]}', whose channels are not prunable"), (int)size, 1));
                        }
                    }
                    layouts[y] = new Layout((int)axis, segments.ToImmutable());
                    break;
                }
                default:
                    if (Binary.Contains(node.OpType))
                    {
                        if (first is null) break;
                        int outRank = ShapeOf(y)?.Rank ?? 0;
                        int axisOut = -1;
                        Layout? joined = null;
                        bool ok = true;
                        for (int i = 0; i < node.Inputs.Length && ok; i++)
                        {
                            if (inLayouts[i] is not { } l) continue;
                            int a = l.Axis + outRank - (ShapeOf(node.Inputs[i])?.Rank ?? outRank);
                            if (joined is null) { joined = l with { Axis = a }; axisOut = a; continue; }
                            if (a != axisOut || !joined.SameShape(l with { Axis = a })) { Block(first, node, $"{node.OpType} joins tensors whose channels are laid out differently"); ok = false; break; }
                            for (int s = 0; s < l.Segments.Length; s++) Union(joined.Segments[s].Group, l.Segments[s].Group);
                        }
                        if (!ok || joined is null) break;
                        for (int i = 0; i < node.Inputs.Length; i++)
                        {
                            if (inLayouts[i] is not null) continue;
                            var shape = ShapeOf(node.Inputs[i]);
                            int a = axisOut - (outRank - (shape?.Rank ?? 0));
                            long size = shape is null || a < 0 ? 1 : shape.Dims[a].Value;
                            if (size == 1) continue;
                            if (size != joined.Size) { Block(joined, node, $"its operand '{node.Inputs[i]}' does not match the channels"); ok = false; }
                            else if (graph.IsConstant(node.Inputs[i])) AddMembers(joined, node, MemberRole.Constant, i, a);
                            else Fix(joined, $"combined by {node.OpType} '{node.Label}' with '{node.Inputs[i]}', whose channels are not prunable");
                        }
                        if (ok) layouts[y] = joined;
                    }
                    else if (Unary.Contains(node.OpType))
                    {
                        if (first is null) break;
                        if (inLayouts.Skip(1).Any(l => l is not null)) { Block(first, node, "channels flow into a parameter"); break; }
                        layouts[y] = first;
                    }
                    else if (first is not null) Block(first, node, $"op {node.OpType}");
                    break;
            }
        }
        foreach (var o in graph.Outputs)
            if (layouts.TryGetValue(o.Name, out var l)) Fix(l, $"its channels reach graph output '{o.Name}'");

        // Collect by root.
        var byRoot = new Dictionary<int, List<ChannelMember>>();
        var sizes = new Dictionary<int, int>();
        foreach (var (g, m) in members)
        {
            int root = Find(g);
            if (!byRoot.TryGetValue(root, out var list)) byRoot[root] = list = [];
            list.Add(m);
        }
        foreach (var l in layouts.Values) foreach (var s in l.Segments) sizes[Find(s.Group)] = s.Count;
        var result = new List<ChannelGroup>();
        foreach (var (root, list) in byRoot)
        {
            if (!list.Any(m => m.Role == MemberRole.Producer)) continue;
            var order = list.Select(m => m).Distinct()
                .OrderBy(m => graph.IndexOf(m.Node)).ThenBy(m => m.Role).ThenBy(m => m.Start).ToImmutableArray();
            result.Add(new ChannelGroup { Channels = sizes[root], Members = order, Fixed = fixedReason[root], Blocker = blockers[root] });
        }
        return result.OrderBy(g => g.Producers.Min(p => graph.IndexOf(p.Node))).ToList();

        void StartGroup(Node node, int axis)
        {
            int rows = (int)(ShapeOf(node.Output0)?.Dims[axis].Value ?? 0);
            int g = NewGroup();
            members.Add((g, new ChannelMember(node, MemberRole.Producer, 0, 1)));
            layouts[node.Output0] = new Layout(axis, [new Segment(g, rows, 1)]);
        }
        Layout Single(int g, Node node, int axis) => new(axis, [new Segment(g, (int)(ShapeOf(node.Output0)?.Dims[axis].Value ?? 0), 1)]);
    }

    /// <summary>The graph output reachable from <paramref name="node"/>'s outputs through ops that are not Conv/Gemm/MatMul, or null.</summary>
    static string? ReachesOutputWithoutLayer(Graph graph, Node node)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(node.Outputs.Where(o => o.Length > 0));
        while (stack.Count > 0)
        {
            string v = stack.Pop();
            if (!seen.Add(v)) continue;
            if (graph.IsGraphOutput(v)) return v;
            foreach (var c in graph.Consumers(v))
                if (c.OpType is not ("Conv" or "Gemm" or "MatMul"))
                    foreach (var o in c.Outputs) if (o.Length > 0) stack.Push(o);
        }
        return null;
    }
}
