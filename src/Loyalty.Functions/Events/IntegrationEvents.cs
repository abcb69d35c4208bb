using System.Globalization;
using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Extensions;
using CloudNative.CloudEvents.SystemTextJson;
using Loyalty.Domain.Events;
using Loyalty.Storage.Events;

namespace Loyalty.Functions.Events;

/// <summary>
/// Outbox events as CloudEvents 1.0 (the CNCF SDK): <c>id</c> the stable event id, <c>source</c> <c>/loyalty</c>,
/// <c>type</c> from the catalogue, <c>subject</c> the member id, <c>time</c> the commit, <c>dataschema</c> the data's
/// version, and the <c>sequence</c> extension: the event's place in the member's stream, zero-padded so that it
/// orders as text as the extension asks.
/// </summary>
internal static class IntegrationEvents
{
    /// <summary>The structured-mode JSON formatter, with the app's JSON options for the data.</summary>
    public static JsonEventFormatter Formatter { get; } = new(Http.JsonDefaults.Options, default);

    /// <summary>The CloudEvent of an outbox event.</summary>
    public static CloudEvent ToCloudEvent(OutboxEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = e.Id,
            Source = new Uri(EventCatalogue.Source, UriKind.Relative),
            Type = e.Type,
            Subject = e.Subject,
            Time = e.Time,
            DataContentType = MediaTypeNames.Application.Json,
            Data = JsonSerializer.SerializeToElement(e.Data, Http.JsonDefaults.Options),
        };
        if (EventCatalogue.Find(e.Type) is { } kind)
        {
            cloudEvent.DataSchema = new Uri(kind.DataSchema);
        }

        cloudEvent[Sequence.SequenceAttribute] = e.Sequence.ToString("D12", CultureInfo.InvariantCulture);
        return cloudEvent;
    }

    /// <summary>The event as one structured-mode JSON document (<c>application/cloudevents+json</c>).</summary>
    public static ReadOnlyMemory<byte> Encode(CloudEvent cloudEvent, out ContentType contentType) =>
        Formatter.EncodeStructuredModeMessage(cloudEvent, out contentType);
}
