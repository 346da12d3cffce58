// The tokenizer tests check the pre-tokenizer and regex translation directly against reference splitters.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ManagedKv.Model.Tests")]
