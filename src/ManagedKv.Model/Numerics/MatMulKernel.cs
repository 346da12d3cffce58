namespace ManagedKv.Model.Numerics;

/// <summary>Which code path of llama.cpp's CPU backend computes a matrix multiplication (see <see cref="CpuMatMul"/>).</summary>
public enum MatMulKernel
{
    /// <summary>ggml's per-element <c>vec_dot</c> of the weight type (<c>ggml_compute_forward_mul_mat_one_chunk</c>).</summary>
    VecDot,

    /// <summary>llamafile's tinyBLAS (<c>llamafile_sgemm</c>), taken for batches of at least two rows when it supports the shape.</summary>
    TinyBlas,

    /// <summary>The CPU_REPACK gemv kernel (one activation row at a time) for weights repacked at load time.</summary>
    RepackGemv,

    /// <summary>The CPU_REPACK gemm kernel, which takes activation rows four at a time.</summary>
    RepackGemm,
}
