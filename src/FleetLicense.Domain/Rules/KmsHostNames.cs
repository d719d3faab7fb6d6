using System.Net;

namespace FleetLicense.Domain.Rules;

/// <summary>How KMS host names are compared: shared by the rule engine and the server's KMS host list.</summary>
public static class KmsHostNames
{
    /// <summary>Lower-cased host without port, brackets or trailing dot; null when empty.</summary>
    public static string? Normalize(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }

        string h = host.Trim().TrimEnd('.').ToLowerInvariant();
        if (h.StartsWith('[') && h.Contains(']', StringComparison.Ordinal))
        {
            h = h[1..h.IndexOf(']', StringComparison.Ordinal)];
        }
        else if (h.Count(c => c == ':') == 1)
        {
            h = h[..h.IndexOf(':', StringComparison.Ordinal)];
        }

        return h.Length == 0 ? null : h;
    }

    /// <summary>True for localhost, 127.0.0.0/8, ::1 and 0.0.0.0: an activator's local emulator.</summary>
    public static bool IsLoopback(string host)
    {
        if (host is "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal) || host == "0.0.0.0")
        {
            return true;
        }

        return IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address);
    }

    /// <summary>True when the host or a parent domain is on the list.</summary>
    public static bool IsPublicEmulator(string host, IReadOnlyList<string> list) =>
        list.Any(entry =>
        {
            string e = entry.Trim().TrimEnd('.').ToLowerInvariant();
            return host == e || host.EndsWith("." + e, StringComparison.Ordinal);
        });

    /// <summary>True when the host is on the allowlist (exact, or under a <c>*.suffix</c> entry).</summary>
    public static bool IsAllowlisted(string host, IReadOnlyList<string> allowlist) =>
        allowlist.Any(entry =>
        {
            string e = entry.Trim().TrimEnd('.').ToLowerInvariant();
            return e.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(e[1..], StringComparison.Ordinal)
                : host == e;
        });
}
