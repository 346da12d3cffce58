using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gguf;
using ManagedKv.Gpu.Kernels.Formats;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// The compiled kernels of one accelerator, each loaded (compiled) on first use and cached, plus the launch
/// geometry derived from the accelerator (warp size, warps per group) and small reusable scratch buffers.
/// </summary>
internal sealed class KernelSet : IDisposable
{
    private readonly Dictionary<(string, Type), Delegate> _loaded = [];
    private readonly Dictionary<GgmlType, MatMulKernelPair> _matmul = [];
    private readonly Dictionary<GgmlType, Action<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long>> _embed = [];
    private readonly Scratch<int> _ints;
    private readonly UploadedInts _keyStarts, _valueStarts;
    private readonly Scratch<float> _floats;

    public KernelSet(Accelerator accelerator)
    {
        Accelerator = accelerator;
        WarpSize = accelerator.WarpSize;
        // Groups of up to 4 warps (128 threads on CUDA): enough to hide latency, small enough for many resident groups.
        WarpsPerGroup = Math.Max(1, Math.Min(4, accelerator.MaxNumThreadsPerGroup / WarpSize));
        TileSide = Math.Min(MatMulKernels.MaxTile / 4, (int)Math.Sqrt(accelerator.MaxNumThreadsPerGroup));
        _ints = new Scratch<int>(accelerator);
        _floats = new Scratch<float>(accelerator);
        _keyStarts = new UploadedInts(accelerator);
        _valueStarts = new UploadedInts(accelerator);
    }

    public Accelerator Accelerator { get; }

    public int WarpSize { get; }

    public int WarpsPerGroup { get; }

    /// <summary>Launch geometry for <paramref name="warps"/> independent warps (1D).</summary>
    public KernelConfig WarpGrid(int warps) =>
        new(new Index1D((warps + WarpsPerGroup - 1) / WarpsPerGroup), new Index1D(WarpsPerGroup * WarpSize));

    /// <summary>Scratch ints.</summary>
    public ArrayView<int> Ints(long n) => _ints.Get(n);

    /// <summary>
    /// The device copy of each KV head's first free row for a key (or value) append; the same table repeats for every
    /// layer of a forward call, so it is uploaded once per call.
    /// </summary>
    public ArrayView<int> AppendStarts(ReadOnlySpan<int> starts, bool values) => (values ? _valueStarts : _keyStarts).Upload(starts);

    /// <summary>Scratch floats for uploads and downloads.</summary>
    public ArrayView<float> Floats(long n) => _floats.Get(n);

    private TDelegate Get<TDelegate>(string name, Type type, Func<TDelegate> load) where TDelegate : Delegate
    {
        if (!_loaded.TryGetValue((name, type), out var d)) _loaded[(name, type)] = d = load();
        return (TDelegate)d;
    }

    // ---- matrix products and embeddings -------------------------------------------------------------

    /// <summary>The warp-per-output product (few rows) and the shared-memory tiled product (many rows) of a weight type.</summary>
    public MatMulKernelPair MatMul(GgmlType type)
    {
        if (!_matmul.TryGetValue(type, out var k)) _matmul[type] = k = FormatSwitch.Visit<MatMulLoader, MatMulKernelPair>(type, new(Accelerator));
        return k;
    }

    /// <summary>
    /// Threads per side of a tiled-product group: 16 (256 threads, 64 × 64 tiles) where the accelerator allows, else
    /// the largest square that fits (4 on ILGPU's CPU accelerator, whose groups hold 16 threads).
    /// </summary>
    public int TileSide { get; }

    public Action<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long> Embed(GgmlType type)
    {
        if (!_embed.TryGetValue(type, out var k)) _embed[type] = k = FormatSwitch.Visit<EmbedLoader, Action<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long>>(type, new(Accelerator));
        return k;
    }

    /// <summary>Values per unit of a format.</summary>
    public static int UnitValues(GgmlType type) => FormatSwitch.Visit<UnitLoader, int>(type, default);

    private readonly struct MatMulLoader(Accelerator a) : IFormatVisitor<MatMulKernelPair>
    {
        public MatMulKernelPair Visit<TFormat>() where TFormat : struct, IWeightFormat =>
            new(a.LoadStreamKernel<MatMulArgs>(MatMulKernels.MatMul<TFormat>), a.LoadStreamKernel<MatMulArgs>(MatMulKernels.MatMulTiled<TFormat>),
                default(TFormat).UnitValues);
    }

    private readonly struct EmbedLoader(Accelerator a) : IFormatVisitor<Action<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long>>
    {
        public Action<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long> Visit<TFormat>() where TFormat : struct, IWeightFormat =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, long, int, ArrayView<int>, ArrayView<float>, long>(MatMulKernels.Embed<TFormat>);
    }

    private readonly struct UnitLoader : IFormatVisitor<int>
    {
        public int Visit<TFormat>() where TFormat : struct, IWeightFormat => default(TFormat).UnitValues;
    }

    // ---- activations and rows -----------------------------------------------------------------------

    public Action<KernelConfig, ArrayView<float>, long, int, int, ArrayView<float>, ArrayView<float>> Q8 => Get("q8", typeof(void), () =>
        Accelerator.LoadStreamKernel<ArrayView<float>, long, int, int, ArrayView<float>, ArrayView<float>>(ActivationKernels.Q8));

    public Action<KernelConfig, ArrayView<float>, long, int, int, ArrayView<float>> Q8K => Get("q8k", typeof(void), () =>
        Accelerator.LoadStreamKernel<ArrayView<float>, long, int, int, ArrayView<float>>(ActivationKernels.Q8K));

    public Action<Index1D, ArrayView<float>, long, int, ArrayView<float>, int> Round => Get("round", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, long, int, ArrayView<float>, int>(ActivationKernels.Round));

    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> RmsNorm => Get("rmsnorm", typeof(void), () =>
        Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(RowKernels.RmsNorm));

    public Action<Index1D, ArrayView<float>, int, int, int, int, int, ArrayView<float>, ArrayView<float>> Rope => Get("rope", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, int, int, int, ArrayView<float>, ArrayView<float>>(RowKernels.Rope));

    public Action<Index1D, ArrayView<float>, ArrayView<float>> SwiGlu => Get("swiglu", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(RowKernels.SwiGlu));

    public Action<Index1D, ArrayView<float>, ArrayView<float>> Add => Get("add", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(RowKernels.Add));

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> AddBias => Get("bias", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(RowKernels.AddBias));

    // ---- cache ----------------------------------------------------------------------------------------

    public Action<Index1D, ArrayView<float>, long, int, int, ArrayView<int>, TStore, int> Append<TStore>() where TStore : struct, IKvStore =>
        Get("append", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, long, int, int, ArrayView<int>, TStore, int>(KvKernels.Append));

    public Action<Index1D, TStore, int, int, int, ArrayView<int>, TStore> Gather<TStore>() where TStore : struct, IKvStore =>
        Get("gather", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, TStore, int, int, int, ArrayView<int>, TStore>(KvKernels.Gather));

    public Action<Index1D, TStore, int, int, int, int, TStore> Scatter<TStore>() where TStore : struct, IKvStore =>
        Get("scatter", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, TStore, int, int, int, int, TStore>(KvKernels.Scatter));

    public Action<Index1D, F32Store, int, int, int, int, TStore> ScatterFromF32<TStore>() where TStore : struct, IKvStore =>
        Get("scatter32", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, F32Store, int, int, int, int, TStore>(KvKernels.Scatter));

    public Action<Index1D, TStore, int, int, ArrayView<int>, TStore, int> Regrow<TStore>() where TStore : struct, IKvStore =>
        Get("regrow", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, TStore, int, int, ArrayView<int>, TStore, int>(KvKernels.Regrow));

    public Action<Index1D, TStore, long, ArrayView<float>> ReadRow<TStore>() where TStore : struct, IKvStore =>
        Get("readrow", typeof(TStore), () => Accelerator.LoadAutoGroupedStreamKernel<Index1D, TStore, long, ArrayView<float>>(KvKernels.ReadRow));

    // ---- attention ------------------------------------------------------------------------------------

    public Action<KernelConfig, AttentionArgs, TStore, TStore> AttentionPartial<TStore>() where TStore : struct, IKvStore =>
        Get("attn", typeof(TStore), () => Accelerator.LoadStreamKernel<AttentionArgs, TStore, TStore>(AttentionKernels.Partial));

    public Action<Index1D, AttentionArgs, ArrayView<float>, long> AttentionCombine => Get("combine", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, AttentionArgs, ArrayView<float>, long>(AttentionKernels.Combine));

    public Action<Index1D, AttentionArgs, ArrayView<int>, ArrayView<float>> AttentionStatistics => Get("stats", typeof(void), () =>
        Accelerator.LoadAutoGroupedStreamKernel<Index1D, AttentionArgs, ArrayView<int>, ArrayView<float>>(AttentionKernels.Statistics));

    public void Dispose()
    {
        _ints.Dispose();
        _floats.Dispose();
        _keyStarts.Dispose();
        _valueStarts.Dispose();
    }
}
