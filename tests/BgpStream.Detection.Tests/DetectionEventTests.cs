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
}
