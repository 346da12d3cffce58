// ILGPU's CPU accelerator emits kernels into a dynamic assembly named ILGPURuntime; it must see the internal kernel types.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ManagedKv.Gpu.Tests")]
