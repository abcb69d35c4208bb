using Azure.Data.Tables;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>One broken invariant of one member.</summary>
public sealed record Discrepancy(string MemberId, string Problem);

/// <summary>The result of checking every member.</summary>
public sealed record ReconcileReport(int MembersChecked, long EntriesChecked, IReadOnlyList<Discrepancy> Discrepancies);

/// <summary>
/// Checks the ledger invariants over all members in one pass over the Members table (rows arrive grouped by
/// member): balances equal the sum of ledger deltas, stored value is never negative (now or after any entry),
/// sequences have no gaps, and every entry has a reason, store, actor and idempotency key.
/// </summary>
public sealed class Reconciler(TableStore store)
{
    /// <summary>Checks every member (or those with ids in <paramref name="only"/>).</summary>
    public async Task<ReconcileReport> RunAsync(IReadOnlySet<string>? only = null, CancellationToken cancellationToken = default)
    {
        var discrepancies = new List<Discrepancy>();
        var members = 0;
        long entries = 0;
        MemberTally? current = null;
        await foreach (var row in store.Members.QueryAsync<TableEntity>((string?)null, cancellationToken: cancellationToken))
        {
            if (only is not null && !only.Contains(row.PartitionKey))
            {
                continue;
            }

            if (current?.MemberId != row.PartitionKey)
            {
                if (current is not null)
                {
                    members++;
                    discrepancies.AddRange(current.Check());
                }

                current = new MemberTally(row.PartitionKey);
            }

            if (row.RowKey == MemberRows.AccountKey(row.PartitionKey))
            {
                current.Account = AccountState.From(row);
            }
            else if (LedgerRows.IsLedgerRow(row.RowKey))
            {
                entries++;
                current.Add(row);
            }
        }

        if (current is not null)
        {
            members++;
            discrepancies.AddRange(current.Check());
        }

        return new ReconcileReport(members, entries, discrepancies);
    }

    private sealed class MemberTally(string memberId)
    {
        private readonly List<string> _problems = [];
        private readonly SortedSet<long> _sequences = [];
        private long _points;
        private long _principal;
        private long _bonus;

        public string MemberId => memberId;

        public AccountState? Account { get; set; }

        public void Add(TableEntity row)
        {
            var entry = LedgerRows.FromRow(row);
            _points += entry.Points;
            _principal += entry.Principal;
            _bonus += entry.Bonus;
            if (!_sequences.Add(entry.Seq))
            {
                _problems.Add($"ledger sequence {entry.Seq} appears twice");
            }

            if (string.IsNullOrEmpty(entry.Reason) || string.IsNullOrEmpty(entry.StoreId) || string.IsNullOrEmpty(entry.Actor) || string.IsNullOrEmpty(entry.IdempotencyKey))
            {
                _problems.Add($"ledger entry {entry.Seq} lacks a reason, store, actor or idempotency key");
            }

            var after = LedgerRows.AfterOf(row);
            if (after.Principal < 0 || after.Bonus < 0)
            {
                _problems.Add($"stored value below zero after entry {entry.Seq}");
            }
        }

        public IEnumerable<Discrepancy> Check()
        {
            if (Account is null)
            {
                if (_sequences.Count > 0)
                {
                    _problems.Add("ledger entries without an account");
                }

                return _problems.Select(p => new Discrepancy(memberId, p));
            }

            var b = Account.Balances;
            if (b.Points != _points || b.Principal != _principal || b.Bonus != _bonus)
            {
                _problems.Add($"balances {b.Points}/{b.Principal}/{b.Bonus} (points/principal/bonus) but ledger sums {_points}/{_principal}/{_bonus}");
            }

            if (b.Principal < 0 || b.Bonus < 0)
            {
                _problems.Add("stored value below zero");
            }

            if (Account.PointBatches is { } json && Loyalty.Domain.Ledger.PointBatches.Parse(json, 0, default).Total != Math.Max(0, b.Points))
            {
                _problems.Add($"points by earning month add up to {Loyalty.Domain.Ledger.PointBatches.Parse(json, 0, default).Total}, not the balance {b.Points}");
            }

            if (Account.StoredValueLots is { } lots && Loyalty.Domain.Ledger.StoredValueLots.Sums(lots) is var sums && sums != (b.Principal, b.Bonus))
            {
                _problems.Add($"stored value by lot adds up to {sums?.Principal}/{sums?.Bonus}, not the balances {b.Principal}/{b.Bonus}");
            }

            if (_sequences.Count != Account.NextSeq - 1 || (_sequences.Count > 0 && (_sequences.Min != 1 || _sequences.Max != Account.NextSeq - 1)))
            {
                _problems.Add($"ledger holds {_sequences.Count} entries but the account expects {Account.NextSeq - 1}");
            }

            return _problems.Select(p => new Discrepancy(memberId, p));
        }
    }
}
