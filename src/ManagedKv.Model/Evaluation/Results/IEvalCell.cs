namespace ManagedKv.Model.Evaluation.Results;

/// <summary>One result of an evaluation grid, identified by a key unique within its run.</summary>
public interface IEvalCell
{
    /// <summary>Unique key of the cell (press setting and grid coordinates); resumed runs skip cells whose key is present.</summary>
    string Key { get; }
}
