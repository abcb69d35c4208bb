using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;

namespace Loyalty.Storage.Events;

/// <summary>An event as a transaction decides it: its type and data; the outbox gives it an id and a sequence.</summary>
public sealed record EventDraft(string Type, JsonObject Data);

/// <summary>An event in the outbox: stable id, its stream (<paramref name="Subject"/>) and its place in it.</summary>
/// <param name="Id">Stable over every re-delivery: <c>{subject}-{sequence}</c>.</param>
/// <param name="Type">The catalogue type (<see cref="Loyalty.Domain.Events.EventCatalogue"/>).</param>
/// <param name="Subject">The member id (or the stream of a system event), for ordering and sessions.</param>
/// <param name="Sequence">Position in the subject's stream, from 1, without gaps.</param>
/// <param name="Time">When the change committed (UTC).</param>
/// <param name="Data">The event's data.</param>
public sealed record OutboxEvent(string Id, string Type, string Subject, long Sequence, DateTimeOffset Time, JsonObject Data);

/// <summary>
/// Outbox rows: one per transaction that emits events, written in the same entity-group transaction as the change, in
/// the same partition (<c>out-{first sequence}</c>), holding all of that transaction's events. The dispatcher reads
/// a partition's rows in key order, publishes them and deletes them, so nothing leaves for a change that did not
/// commit and nothing that committed is lost.
/// </summary>
public static class OutboxRows
{
    /// <summary>Row key prefix of outbox rows.</summary>
    public const string Prefix = "out-";

    /// <summary>Largest part of the events' JSON in one property (a property holds at most 64 KiB).</summary>
    private const int PartBytes = 60_000;

    /// <summary>
    /// Row key of the row of <paramref name="partitionKey"/> whose first event has <paramref name="sequence"/>; it ends
    /// with the partition key so that no two partitions share it (see MemberRows).
    /// </summary>
    public static string Key(string partitionKey, long sequence) => Prefix + sequence.ToString("D12", CultureInfo.InvariantCulture) + "-" + partitionKey;

    /// <summary>The first sequence of a row key.</summary>
    public static long SequenceOf(string rowKey)
    {
        ArgumentNullException.ThrowIfNull(rowKey);
        return long.Parse(rowKey.AsSpan(Prefix.Length, 12), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The stable id of an event.</summary>
    public static string EventId(string subject, long sequence) => subject + "-" + sequence.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The row of <paramref name="drafts"/>, numbered from <paramref name="firstSequence"/>. <paramref name="previous"/>
    /// is the key of the partition's outbox row written before it (the account row remembers it): the dispatcher walks
    /// back along it with point reads to publish any older row first, instead of querying the partition.
    /// </summary>
    public static TableEntity ToRow(string partitionKey, string subject, long firstSequence, IReadOnlyList<EventDraft> drafts, DateTimeOffset at, string? previous = null)
    {
        ArgumentNullException.ThrowIfNull(drafts);
        var array = new JsonArray();
        var sequence = firstSequence;
        foreach (var draft in drafts)
        {
            array.Add(new JsonObject
            {
                ["id"] = EventId(subject, sequence),
                ["type"] = draft.Type,
                ["sequence"] = sequence++,
                ["data"] = draft.Data.DeepClone(),
            });
        }

        var row = new TableEntity(partitionKey, Key(partitionKey, firstSequence)) { ["Subject"] = subject, ["At"] = at, ["Count"] = drafts.Count, ["Previous"] = previous };
        var bytes = Encoding.UTF8.GetBytes(array.ToJsonString());
        for (int offset = 0, part = 0; offset < bytes.Length; offset += PartBytes, part++)
        {
            row["Events" + part.ToString(CultureInfo.InvariantCulture)] = bytes[offset..Math.Min(bytes.Length, offset + PartBytes)];
        }

        return row;
    }

    /// <summary>The events of an outbox row.</summary>
    public static IReadOnlyList<OutboxEvent> FromRow(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var buffer = new MemoryStream();
        for (var part = 0; row.GetBinary("Events" + part.ToString(CultureInfo.InvariantCulture)) is { } bytes; part++)
        {
            buffer.Write(bytes);
        }

        var subject = row.GetString("Subject") ?? row.PartitionKey;
        var at = row.GetDateTimeOffset("At") ?? row.Timestamp ?? DateTimeOffset.UnixEpoch;
        var list = new List<OutboxEvent>();
        foreach (var node in JsonNode.Parse(buffer.ToArray())!.AsArray())
        {
            var e = node!.AsObject();
            list.Add(new OutboxEvent(
                e["id"]!.GetValue<string>(), e["type"]!.GetValue<string>(), subject, e["sequence"]!.GetValue<long>(), at,
                e["data"]!.AsObject().DeepClone().AsObject()));
        }

        return list;
    }
}

/// <summary>Queue message asking the dispatcher to publish a partition's outbox (sent before the commit it follows).</summary>
/// <param name="MemberId">The member (the Members table partition).</param>
/// <param name="RowKey">The outbox row the transaction wrote.</param>
/// <param name="FirstSent">When first sent: a row still missing after the grace period never committed.</param>
/// <param name="Tries">Times the row was looked for.</param>
public sealed record MemberEventsMessage(string MemberId, string RowKey, DateTimeOffset FirstSent, int Tries = 0);
