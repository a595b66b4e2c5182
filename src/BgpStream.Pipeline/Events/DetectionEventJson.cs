using System.Text;
using System.Text.Json;
using BgpStream.Bgp;

namespace BgpStream.Pipeline;

/// <summary>
/// A detection event as one JSON object (docs/element-schema.md, "Detection events"): the same
/// text in JSON lines and in Kafka's <c>P.events</c> values.
/// </summary>
public static class DetectionEventJson
{
    public static void Write(Utf8JsonWriter json, DetectionEvent e)
    {
        json.WriteStartObject();
        json.WriteString("type", DetectionEvent.TypeName(e.Type));
        json.WriteString("state", DetectionEvent.StateName(e.State));
        json.WritePropertyName("timestamp");
        json.WriteRawValue(Timestamp(e.TimestampMicros), skipInputValidation: true);
        json.WriteString("severity", e.Severity);
        if (e.Class is { } c) json.WriteString("class", c); else json.WriteNull("class");
        if (e.Lan is { } lan) json.WriteString("lan", lan.ToString()); else json.WriteNull("lan");
        json.WriteStartArray("peers");
        foreach (var peer in e.Peers)
        {
            json.WriteStartObject();
            json.WriteString("ip", (peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address).ToString());
            if (peer.Asn != 0) json.WriteNumber("asn", peer.Asn); else json.WriteNull("asn");
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (e.Prefix is { } prefix)
        {
            Span<byte> text = stackalloc byte[IpText.MaxPrefixLength];
            json.WriteString("prefix", text[..IpText.FormatPrefix(prefix, text)]);
        }
        else json.WriteNull("prefix");
        if (e.Duration is { } d) json.WriteNumber("duration", Math.Round(d.TotalSeconds, 6)); else json.WriteNull("duration");
        json.WriteString("summary", e.Summary);
        json.WritePropertyName("evidence");
        WriteEvidence(json, e);
        json.WriteEndObject();
    }

    /// <summary>The <c>evidence</c> object's text alone (the Arrow events file's column).</summary>
    public static string EvidenceText(DetectionEvent e)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) WriteEvidence(json, e);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteEvidence(Utf8JsonWriter json, DetectionEvent e)
    {
        json.WriteStartObject();
        foreach (var (name, value) in e.Evidence) json.WriteString(name, value);
        json.WriteEndObject();
    }

    /// <summary>The event as UTF-8 JSON without a line end.</summary>
    public static byte[] ToUtf8(DetectionEvent e)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) Write(json, e);
        return buffer.ToArray();
    }

    private static byte[] Timestamp(long micros)
    {
        var t = new JsonText();
        t.AppendTimestamp(micros);
        return t.Span.ToArray();
    }
}
