using System.Text;
using Loyalty.Domain.Webhooks;
using Xunit;

namespace Loyalty.Domain.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec_current";
    private const string Previous = "whsec_previous";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_795_000_000);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"eventId":"evt_1","type":"order.paid"}""");

    private static string Ts(int offsetSeconds = 0) => (Now.ToUnixTimeSeconds() + offsetSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Verify_CorrectSignature_Passes() =>
        Assert.Null(WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body), Body, [Secret], Now));

    [Fact]
    public void Verify_EitherOfTwoSecrets_PassesDuringRotation()
    {
        Assert.Null(WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Previous, Now.ToUnixTimeSeconds(), Body), Body, [Secret, Previous], Now));
        Assert.Null(WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body), Body, [Secret, Previous], Now));
        Assert.Equal("signature_invalid", WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Previous, Now.ToUnixTimeSeconds(), Body), Body, [Secret], Now)!.Code);
    }

    [Fact]
    public void Verify_AnyFlippedByteOfTheBody_Fails()
    {
        var signature = WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);
        for (var i = 0; i < Body.Length; i++)
        {
            var tampered = (byte[])Body.Clone();
            tampered[i] ^= 0x01;
            Assert.Equal("signature_invalid", WebhookSignature.Verify(Ts(), signature, tampered, [Secret], Now)!.Code);
        }
    }

    [Fact]
    public void Verify_FlippedSignatureCharacter_Fails()
    {
        var signature = WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body);
        var flipped = signature[..^1] + (signature[^1] == '0' ? '1' : '0');
        Assert.Equal("signature_invalid", WebhookSignature.Verify(Ts(), flipped, Body, [Secret], Now)!.Code);
    }

    [Theory]
    [InlineData(-301, "signature_expired")]
    [InlineData(301, "signature_expired")]
    [InlineData(-299, null)]
    [InlineData(299, null)]
    public void Verify_TimestampTolerance_FiveMinutes(int offset, string? code)
    {
        var ts = Now.ToUnixTimeSeconds() + offset;
        Assert.Equal(code, WebhookSignature.Verify(ts.ToString(System.Globalization.CultureInfo.InvariantCulture), WebhookSignature.Sign(Secret, ts, Body), Body, [Secret], Now)?.Code);
    }

    [Fact]
    public void Verify_SignatureOfAnotherTimestamp_Fails() =>
        Assert.Equal("signature_invalid", WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds() - 1, Body), Body, [Secret], Now)!.Code);

    [Theory]
    [InlineData(null, "v1=00", "signature_missing")]
    [InlineData("1795000000", null, "signature_missing")]
    [InlineData("yesterday", "v1=00", "signature_invalid")]
    [InlineData("1795000000", "v0=abc", "signature_invalid")]
    [InlineData("1795000000", "v1=nothex", "signature_invalid")]
    public void Verify_MissingOrMalformedHeaders_Fail(string? ts, string? signature, string code) =>
        Assert.Equal(code, WebhookSignature.Verify(ts, signature, Body, [Secret], Now)!.Code);

    [Fact]
    public void Verify_NoActiveSecret_Fails() =>
        Assert.Equal("signature_invalid", WebhookSignature.Verify(Ts(), WebhookSignature.Sign(Secret, Now.ToUnixTimeSeconds(), Body), Body, [], Now)!.Code);
}
