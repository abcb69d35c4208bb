namespace Loyalty.Storage.Tables;

/// <summary>How an update treats properties absent from the new entity.</summary>
public enum TableUpdateMode
{
    /// <summary>Absent properties are removed (PUT).</summary>
    Replace,
    /// <summary>Absent properties are kept (MERGE).</summary>
    Merge,
}
