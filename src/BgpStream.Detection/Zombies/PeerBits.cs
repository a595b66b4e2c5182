using System.Numerics;

namespace BgpStream.Detection.Zombies;

/// <summary>A set of peer indices as a bitmap, grown to the highest index set: 8 bytes per 64 peers.</summary>
internal static class PeerBits
{
    public static bool Test(ulong[] bits, int peer) => (peer >> 6) < bits.Length && (bits[peer >> 6] & (1UL << peer)) != 0;

    public static void Set(ref ulong[] bits, int peer)
    {
        int w = peer >> 6;
        if (w >= bits.Length) Array.Resize(ref bits, w + 1);
        bits[w] |= 1UL << peer;
    }

    public static void Clear(ulong[] bits, int peer)
    {
        int w = peer >> 6;
        if (w < bits.Length) bits[w] &= ~(1UL << peer);
    }

    public static int Count(ulong[] bits)
    {
        int n = 0;
        foreach (var w in bits) n += BitOperations.PopCount(w);
        return n;
    }

    public static bool IsEmpty(ulong[] bits)
    {
        foreach (var w in bits) if (w != 0) return false;
        return true;
    }

    public static IEnumerable<int> Members(ulong[] bits)
    {
        for (int w = 0; w < bits.Length; w++)
        {
            ulong v = bits[w];
            while (v != 0)
            {
                int b = BitOperations.TrailingZeroCount(v);
                yield return (w << 6) + b;
                v &= v - 1;
            }
        }
    }
}
