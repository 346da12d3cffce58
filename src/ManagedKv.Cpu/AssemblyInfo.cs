using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ManagedKv.Cpu.Tests")]
