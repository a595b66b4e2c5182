namespace BgpStream.Observability.Tests;

public sealed class PrometheusTextTests
{
    [Fact]
    public void A_family_has_HELP_then_TYPE_then_its_samples()
    {
        var text = new PrometheusText()
            .Family("bgpstream_sessions", "gauge", "Sessions by state.")
            .Sample("bgpstream_sessions", 2, ("state", "established"))
            .Sample("bgpstream_sessions", 0, ("state", "idle"))
            .Family("bgpstream_uptime_seconds", "gauge", "Uptime.")
            .Sample("bgpstream_uptime_seconds", 1.5)
            .ToString();
        Assert.Equal("""
            # HELP bgpstream_sessions Sessions by state.
            # TYPE bgpstream_sessions gauge
            bgpstream_sessions{state="established"} 2
            bgpstream_sessions{state="idle"} 0
            # HELP bgpstream_uptime_seconds Uptime.
            # TYPE bgpstream_uptime_seconds gauge
            bgpstream_uptime_seconds 1.5

            """.ReplaceLineEndings("\n"), text);
        PrometheusFormat.Parse(text);
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_line_feed_and_HELP_escapes_backslash_and_line_feed()
    {
        var text = new PrometheusText()
            .Family("bgpstream_x_total", "counter", "a \\ help\nline with \"quotes\"")
            .Sample("bgpstream_x_total", 1, ("peer", "a\"b\\c\nd"))
            .ToString();
        Assert.Contains("# HELP bgpstream_x_total a \\\\ help\\nline with \"quotes\"\n", text);
        Assert.Contains("bgpstream_x_total{peer=\"a\\\"b\\\\c\\nd\"} 1\n", text);
        var (_, samples) = PrometheusFormat.Parse(text);
        Assert.Equal("a\"b\\c\nd", samples.Single().Labels["peer"]);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0.0, "0")]
    [InlineData(1234567890123.0, "1234567890123")]
    [InlineData(0.25, "0.25")]
    [InlineData(1e-7, "1E-07")]
    public void Values_use_the_formats_spellings(double value, string expected)
    {
        Assert.Equal(expected, PrometheusText.FormatValue(value));
        PrometheusFormat.Parse(new PrometheusText().Family("v", "gauge", "v").Sample("v", value).ToString());
    }

    [Fact]
    public void Histogram_buckets_are_cumulative_and_end_with_Inf_equal_to_count()
    {
        var histogram = new Histogram([0.25, 0.5, 1]);
        foreach (var v in (double[])[0.125, 0.25, 0.375, 0.75, 0.75, 3]) histogram.Observe(v);
        var text = new PrometheusText().Family("bgpstream_kafka_delivery_latency_seconds", "histogram", "Latency.")
            .Histogram("bgpstream_kafka_delivery_latency_seconds", histogram.Snapshot()).ToString();
        Assert.Equal("""
            # HELP bgpstream_kafka_delivery_latency_seconds Latency.
            # TYPE bgpstream_kafka_delivery_latency_seconds histogram
            bgpstream_kafka_delivery_latency_seconds_bucket{le="0.25"} 2
            bgpstream_kafka_delivery_latency_seconds_bucket{le="0.5"} 3
            bgpstream_kafka_delivery_latency_seconds_bucket{le="1"} 5
            bgpstream_kafka_delivery_latency_seconds_bucket{le="+Inf"} 6
            bgpstream_kafka_delivery_latency_seconds_sum 5.25
            bgpstream_kafka_delivery_latency_seconds_count 6

            """.ReplaceLineEndings("\n"), text);
        PrometheusFormat.Parse(text);
    }

    [Fact]
    public void Invalid_names_and_a_second_family_are_refused()
    {
        var text = new PrometheusText().Family("bgpstream_a", "gauge", "a");
        Assert.Throws<InvalidOperationException>(() => text.Family("bgpstream_a", "gauge", "a"));
        Assert.Throws<ArgumentException>(() => text.Family("9bad", "gauge", "a"));
        Assert.Throws<ArgumentException>(() => text.Family("bgpstream_b", "meter", "a"));
        Assert.Throws<ArgumentException>(() => text.Sample("bgpstream_a", 1, ("__reserved", "x")));
        Assert.Throws<ArgumentException>(() => text.Sample("bgpstream_a", 1, ("bad-name", "x")));
    }
}
