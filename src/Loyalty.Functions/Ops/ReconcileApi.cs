using Loyalty.Storage.Ledger;

namespace Loyalty.Functions.Ops;

/// <summary>
/// <c>POST /api/ops/reconcile</c> (HQ admins, ops): checks every member's ledger invariants and lists the members that
/// break them. 200 with an empty list means all balances equal their ledgers.
/// </summary>
internal static class ReconcileApi
{
    public static async Task<IResult> Handle(HttpContext http, Reconciler reconciler)
    {
        ArgumentNullException.ThrowIfNull(http);
        var report = await reconciler.RunAsync(null, http.RequestAborted);
        return TypedResults.Ok(new
        {
            membersChecked = report.MembersChecked,
            entriesChecked = report.EntriesChecked,
            ok = report.Discrepancies.Count == 0,
            discrepancies = report.Discrepancies,
        });
    }
}
