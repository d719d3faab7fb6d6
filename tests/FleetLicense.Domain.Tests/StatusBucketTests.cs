using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Domain.Tests;

public class StatusBucketTests
{
    [Theory]
    [InlineData(null, StatusBucket.NotReported)]
    [InlineData(-1, StatusBucket.NotReported)]
    [InlineData(0, StatusBucket.NotActivated)]
    [InlineData(1, StatusBucket.Activated)]
    [InlineData(2, StatusBucket.InGrace)]
    [InlineData(3, StatusBucket.InGrace)]
    [InlineData(4, StatusBucket.InGrace)]
    [InlineData(5, StatusBucket.NotActivated)]
    [InlineData(6, StatusBucket.InGrace)]
    [InlineData(7, StatusBucket.NotActivated)]
    public void Of_WhenStatusCode_GivesItsBucket(int? code, StatusBucket expected)
    {
        Assert.Equal(expected, StatusBuckets.Of(code));
    }

    [Fact]
    public void Codes_ForEachBucket_PartitionTheDocumentedCodes()
    {
        Assert.Equal([1], StatusBuckets.Codes(StatusBucket.Activated));
        Assert.Equal([2, 3, 4, 6], StatusBuckets.Codes(StatusBucket.InGrace));
        Assert.Equal([0, 5], StatusBuckets.Codes(StatusBucket.NotActivated));
        Assert.Empty(StatusBuckets.Codes(StatusBucket.NotReported));
        Assert.Equal(Enumerable.Range(0, 7), StatusBuckets.All.SelectMany(StatusBuckets.Codes).Order());
    }

    /// <summary>The detection rules say "not activated" and "grace period" for exactly the codes of those buckets.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void RuleEngine_ForEachStatus_AgreesWithTheBucket(int code)
    {
        var windows = new LicensedProductV1
        {
            Name = "Windows(R), Professional edition",
            Kind = ProductKind.Windows,
            ApplicationId = ApplicationIds.Windows,
            LicenseFamily = "Professional",
            Channel = LicenseChannel.Retail,
            PartialKey = "F6YP2",
            LicenseStatusCode = code,
            LicenseStatus = (LicenseStatus)code,
            GraceMinutes = 20 * 1440,
        };

        var rules = RuleEngine.Evaluate(new MachineLicensingState { Products = [windows] }).Select(f => f.Rule).ToList();

        Assert.Equal(StatusBuckets.Of(code) == StatusBucket.NotActivated, rules.Contains(RuleIds.NotActivated));
        Assert.Equal(StatusBuckets.Of(code) == StatusBucket.InGrace, rules.Contains(RuleIds.GracePeriod));
    }
}
