using FleetLicense.Domain.Keys;
using FleetLicense.Web.Infrastructure;

namespace FleetLicense.Web.Tests.Infrastructure;

public sealed class SecretsTests
{
    [Fact]
    public void NewToken_IsNeverShapedLikeAProductKey()
    {
        // About 1 in 2,600 random base64url strings hold 25 key characters in a row; in 20,000 draws one would
        // almost surely appear (an enrolment secret the enrolment endpoint then refused as a full key).
        var tokens = Enumerable.Range(0, 20_000).Select(_ => Secrets.NewToken("fle_")).ToList();

        Assert.DoesNotContain(tokens, t => FullKeyScanner.ContainsFullKey(t));
        Assert.All(tokens, t => Assert.Equal(4 + 43, t.Length));
    }
}
