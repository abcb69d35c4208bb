using System.Net;
using System.Net.Sockets;

namespace Loyalty.Functions.Events;

/// <summary>
/// The SSRF guard of webhook endpoints. In Azure an endpoint must be https and may never reach loopback, link-local
/// (the instance metadata service lives there), private, shared (CGNAT), multicast or unspecified addresses; locally
/// http is allowed, and loopback when <c>Loyalty__WebhookAllowLoopback</c> is true (tests, a receiver on the laptop).
/// The address is checked when the endpoint is registered and again on every connection, after DNS resolution, so a
/// name that later resolves elsewhere (DNS rebinding) is still refused.
/// </summary>
internal sealed class WebhookUrlGuard(bool requireHttps, bool allowLoopback)
{
    /// <summary>Why <paramref name="url"/> cannot be an endpoint (syntax and scheme); null when it can.</summary>
    public string? CheckSyntax(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "url must be an absolute http(s) URL of at most 2,048 characters.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && (requireHttps || uri.Scheme != Uri.UriSchemeHttp))
        {
            return requireHttps ? "url must use https." : "url must use http or https.";
        }

        return string.IsNullOrEmpty(uri.UserInfo) ? null : "url must not carry credentials.";
    }

    /// <summary>Why the host of <paramref name="uri"/> may not be called (every address it resolves to is checked); null when it may.</summary>
    public async Task<string?> CheckHostAsync(Uri uri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"The host '{uri.Host}' does not resolve.";
        }

        if (addresses.Length == 0)
        {
            return $"The host '{uri.Host}' does not resolve.";
        }

        return addresses.FirstOrDefault(a => !IsAllowed(a)) is { } refused ? $"The host '{uri.Host}' resolves to {refused}, which webhooks may not reach." : null;
    }

    /// <summary>Whether an address may be connected to.</summary>
    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return allowLoopback;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is { } embedded)
        {
            // NAT64 (64:ff9b::/96), 6to4 (2002::/16) and IPv4-compatible (::a.b.c.d) addresses reach an IPv4 address.
            return IsAllowed(embedded);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal ||
                     address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any));
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || (b[0] == 172 && b[1] is >= 16 and <= 31) ||
                 (b[0] == 192 && b[1] == 168) || (b[0] == 100 && b[1] is >= 64 and <= 127) || (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
                 (b[0] == 198 && b[1] is 18 or 19) || b[0] >= 224 ||
                 (b[0] == 168 && b[1] == 63 && b[2] == 129 && b[3] == 16)); // Azure's WireServer
    }

    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        var b = address.GetAddressBytes();
        var zeroPrefix = b.Take(12).All(x => x == 0);
        if (zeroPrefix && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1))
        {
            return new IPAddress(b[12..16]);
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0))
        {
            return new IPAddress(b[12..16]);
        }

        return b[0] == 0x20 && b[1] == 0x02 ? new IPAddress(b[2..6]) : null;
    }

    /// <summary>
    /// Connects to the first allowed address of the request's host, refusing when there is none: the handler's
    /// <c>ConnectCallback</c>, so the address checked is the address used.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToList();
        if (allowed.Count == 0 || allowed.Count != addresses.Length)
        {
            throw new HttpRequestException($"Webhook host '{host}' resolves to an address webhooks may not reach.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.ToArray(), context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
