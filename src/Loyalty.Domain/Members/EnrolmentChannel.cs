namespace Loyalty.Domain.Members;

/// <summary>How a member was collected (门店录入 / Call Center / 网站 / 小程序 / 批量导入).</summary>
public enum EnrolmentChannel
{
    /// <summary>Entered by a store operator at the till.</summary>
    Store,
    /// <summary>Entered by the call centre.</summary>
    CallCenter,
    /// <summary>Self-service on the website.</summary>
    Web,
    /// <summary>Self-service in the mini-program.</summary>
    MiniProgram,
    /// <summary>Enterprise batch import.</summary>
    BatchImport,
}
