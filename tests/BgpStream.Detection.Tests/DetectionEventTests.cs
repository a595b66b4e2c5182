using System.Net;
using System.Text.Json;
using BgpStream.Pipeline;
using BgpStream.Detection;

namespace BgpStream.Detection.Tests;

public class DetectionEventTests
{
    [Theory]
    [InlineData(DetectionEventType.CullStart, "cull_start")]
    [InlineData(DetectionEventType.CullEnd, "cull_end")]
    [InlineData(DetectionEventType.StuckSession, "stuck_session")]
    [InlineData(DetectionEventType.StuckWarning, "stuck_warning")]
    [InlineData(DetectionEventType.ZombieRoute, "zombie_route")]
    [InlineData(DetectionEventType.ZombieCleared, "zombie_cleared")]
    public void Types_have_the_documented_JSON_names(DetectionEventType type, string name) =>
        Assert.Equal(name, DetectionEvent.TypeName(type));

    /// <summary>
    /// docs/element-schema.md, "Detection events": <c>state</c> is <c>cleared</c> on <c>cull_end</c> and
    /// <c>zombie_cleared</c>, <c>raised</c> on the other types unless the detector clears a
    /// <c>stuck_warning</c>; the JSON carries it as a top-level field.
    /// </summary>
    [Theory]
    [InlineData(DetectionEventType.CullStart, null, "raised")]
    [InlineData(DetectionEventType.CullEnd, null, "cleared")]
    [InlineData(DetectionEventType.StuckSession, null, "raised")]
    [InlineData(DetectionEventType.StuckWarning, null, "raised")]
    [InlineData(DetectionEventType.StuckWarning, DetectionEventState.Cleared, "cleared")]
    [InlineData(DetectionEventType.ZombieRoute, null, "raised")]
    [InlineData(DetectionEventType.ZombieCleared, null, "cleared")]
    public void State_is_raised_or_cleared_by_type_unless_set_and_is_a_top_level_JSON_field(DetectionEventType type, DetectionEventState? set, string expected)
    {
        var e = new DetectionEvent
        {
            Type = type, TimestampMicros = 1_764_374_400_000_000, Peers = [new(IPAddress.Parse("192.0.2.9"), 64500)], Summary = "s",
            Evidence = [new("warned_at", "x")],
        };
        if (set is { } state) e = e with { State = state };
        Assert.Equal(expected, DetectionEvent.StateName(e.State));
        using var json = JsonDocument.Parse(DetectionEventJson.ToUtf8(e));
        Assert.Equal(expected, json.RootElement.GetProperty("state").GetString());
        Assert.Equal(DetectionEvent.TypeName(type), json.RootElement.GetProperty("type").GetString());
        // Not in the evidence: the rule is the field.
        Assert.False(json.RootElement.GetProperty("evidence").TryGetProperty("state", out _));
    }
}
