using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Ixp;
using Xunit;

namespace BgpStream.Interop.Tests;

/// <summary>
/// The fabric itself: members reach each other over the bridge in both families, the culling filter
/// drops TCP/179 and nothing else, and disposing removes every namespace. A closed port answers with
/// a RST (refused at once); a filtered one does not answer (the connect times out), so no listener is needed.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class IxpFabricTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 120_000)]
    public async Task The_filter_drops_BGP_between_members_and_forwards_everything_else()
    {
        var fabric = await IxpFabric.CreateAsync(["a", "b"]);
        string[] namespaces = [fabric.FabricNamespace, .. fabric.Members.Select(m => m.Namespace)];
        await using (fabric)
        {
            IxpMember a = fabric["a"], b = fabric["b"];
            Assert.Equal("192.0.2.2", b.Ipv4.ToString());
            Assert.Equal("2001:db8:179::2", b.Ipv6.ToString());
            foreach (var address in new[] { b.Ipv4.ToString(), $"{b.Ipv6}" })
            {
                Assert.Equal(Reach.Refused, await ConnectAsync(fabric, a, address, 179));
                await fabric.BlockBgpAsync();
                Assert.Equal(Reach.Filtered, await ConnectAsync(fabric, a, address, 179));
                Assert.Equal(Reach.Refused, await ConnectAsync(fabric, a, address, 180));
                await fabric.UnblockBgpAsync();
                Assert.Equal(Reach.Refused, await ConnectAsync(fabric, a, address, 179));
            }
        }
        var left = await ProcessRunner.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10));
        foreach (var ns in namespaces) Assert.DoesNotContain(ns + " ", left.Stdout + " ", StringComparison.Ordinal);
    }

    private enum Reach { Refused, Filtered, Open }

    /// <summary>bash's <c>/dev/tcp</c> connect from <paramref name="from"/>'s namespace, bounded by <c>timeout</c>.</summary>
    private static async Task<Reach> ConnectAsync(IxpFabric fabric, IxpMember from, string address, int port)
    {
        var r = await fabric.ExecAsync(from.Namespace,
            ["timeout", ConnectTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}"],
            TimeSpan.FromSeconds(10), check: false);
        return r.ExitCode switch
        {
            0 => Reach.Open,
            124 => Reach.Filtered,
            _ when r.Stderr.Contains("refused", StringComparison.OrdinalIgnoreCase) => Reach.Refused,
            _ => throw new ProcessFailedException("unexpected connect result", r),
        };
    }
}
