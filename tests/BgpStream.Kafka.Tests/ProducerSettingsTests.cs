namespace BgpStream.Kafka.Tests;

public class ProducerSettingsTests
{
    private static Dictionary<string, string> Build(out bool idempotent, out List<string> notes, params (string, string)[] user) =>
        ProducerSettings.Build("b:9092", [.. user.Select(u => KeyValuePair.Create(u.Item1, u.Item2))], out idempotent, out notes);

    [Fact]
    public void Defaults_are_idempotent_without_a_local_timeout()
    {
        var c = Build(out bool idempotent, out var notes);
        Assert.True(idempotent);
        Assert.Empty(notes);
        Assert.Equal("true", c["enable.idempotence"]);
        Assert.Equal("0", c["message.timeout.ms"]);
        Assert.Equal("5", c["max.in.flight.requests.per.connection"]);
        Assert.Equal("all", c["acks"]);
        Assert.Equal("b:9092", c["bootstrap.servers"]);
    }

    [Theory]
    [InlineData("api.version.request", "false")]
    [InlineData("broker.version.fallback", "0.9.0.1")]
    [InlineData("broker.version.fallback", "0.10.2")]
    public void Old_brokers_turn_idempotence_off_and_keep_one_request_in_flight(string key, string value)
    {
        var c = Build(out bool idempotent, out var notes, (key, value));
        Assert.False(idempotent);
        Assert.Equal("false", c["enable.idempotence"]);
        Assert.Equal("1", c["max.in.flight.requests.per.connection"]);
        Assert.Contains(notes, n => n.Contains("idempotent producer off", StringComparison.Ordinal));
    }

    [Fact]
    public void A_new_fallback_version_and_the_user_s_own_choices_are_kept()
    {
        Build(out bool idempotent, out _, ("broker.version.fallback", "2.0.0"));
        Assert.True(idempotent);
        var c = Build(out idempotent, out _, ("enable.idempotence", "false"), ("max.in.flight.requests.per.connection", "3"), ("linger.ms", "50"));
        Assert.False(idempotent);
        Assert.Equal("3", c["max.in.flight.requests.per.connection"]);
        Assert.Equal("50", c["linger.ms"]);
    }
}
