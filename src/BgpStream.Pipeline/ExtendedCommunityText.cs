using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>
/// Extended communities as text, losslessly: transitive route targets and route origins (RFC 4360
/// §4, RFC 5668) as <c>rt:ADMIN:VALUE</c> / <c>soo:ADMIN:VALUE</c>, where ADMIN is a 2-octet AS, an
/// IPv4 address, or a 4-octet AS written with an <c>L</c> suffix (as Junos does, so that
/// <c>rt:100L:5</c> and <c>rt:100:5</c> stay distinct); anything else as <c>0x</c> and 16 hex digits.
/// </summary>
public static class ExtendedCommunityText
{
    public static string ToText(ulong value)
    {
        var text = new JsonText();
        AppendTo(text, value);
        return System.Text.Encoding.ASCII.GetString(text.Span);
    }

    internal static void AppendTo(JsonText text, ulong value)
    {
        byte type = (byte)(value >> 56);
        byte subtype = (byte)(value >> 48);
        ReadOnlySpan<byte> kind = subtype switch { 0x02 => "rt:"u8, 0x03 => "soo:"u8, _ => default };
        if (!kind.IsEmpty && type <= 0x02)
        {
            text.Append(kind);
            switch (type)
            {
                case 0x00: // 2-octet AS specific: AS (2) : value (4)
                    text.Append((value >> 32) & 0xFFFF);
                    text.Append((byte)':');
                    text.Append(value & 0xFFFF_FFFF);
                    return;
                case 0x01: // IPv4 address specific: address (4) : value (2)
                    text.Length += IpText.FormatIPv4((uint)(value >> 16), text.Room(15));
                    text.Append((byte)':');
                    text.Append(value & 0xFFFF);
                    return;
                default: // 4-octet AS specific (RFC 5668): AS (4) : value (2)
                    text.Append((value >> 16) & 0xFFFF_FFFF);
                    text.Append("L:"u8);
                    text.Append(value & 0xFFFF);
                    return;
            }
        }
        text.Append("0x"u8);
        value.TryFormat(text.Room(16), out int n, "x16");
        text.Length += n;
    }
}
