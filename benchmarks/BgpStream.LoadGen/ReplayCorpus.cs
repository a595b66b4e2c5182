using System.Buffers.Binary;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.LoadGen;

/// <summary>
/// UPDATEs from a corpus update file that a 4-octet-AS session without ADD-PATH or extended
/// messages may carry unchanged: BGP4MP AS4 message records, at most 4096 bytes, that parse cleanly.
/// </summary>
internal static class ReplayCorpus
{
    public const string File = "morrowc__mrtparser/testdata/updates.20260222.1530.bz2";

    public static IReadOnlyList<byte[]> Load(string corpusRoot, int max)
    {
        var result = new List<byte[]>();
        var context = BgpDecodeContext.Legacy.WithFourOctetAs(true);
        using var reader = MrtReader.Open(Path.Combine(corpusRoot, File));
        while (result.Count < max && reader.TryRead(out var record))
        {
            if (record.Type is not (MrtType.Bgp4mp or MrtType.Bgp4mpEt)) continue;
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out _) || !rec.IsMessage || !rec.HasFourOctetAs || rec.HasAddPath) continue;
            var m = rec.Message;
            if (m.Length < BgpConstants.HeaderLength || (BgpMessageType)m[18] != BgpMessageType.Update) continue;
            int length = BinaryPrimitives.ReadUInt16BigEndian(m[16..]);
            if (length > BgpConstants.MaxMessageLength || length > m.Length) continue;
            if (!UpdateMessage.TryParseMessage(m[..length], context, out var update, out _) || update.ParseAttributes().Error.IsError) continue;
            result.Add(m[..length].ToArray());
        }
        return result;
    }
}
