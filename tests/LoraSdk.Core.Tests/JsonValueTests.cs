using System.Linq;
using LoraSdk.Core;

namespace LoraSdk.Core.Tests;

/// <summary>The formats core's strict JSON reader and deterministic writer.</summary>
public sealed class JsonValueTests
{
    [Fact]
    public void Values_know_their_line_and_column()
    {
        var root = JsonValue.Parse("{\n  \"a\": [1, 2.5e3],\n  \"b\": {\"c\": \"x\\u00e9\\n\"}\n}");
        var a = root["a"]!;
        Assert.Equal((2, 8), (a.Line, a.Column));
        Assert.Equal((2, 12), (a.Items[1].Line, a.Items[1].Column));
        Assert.Equal(2500.0, a.Items[1].AsDouble());
        Assert.Equal(1L, a.Items[0].AsInt64());
        Assert.False(a.Items[1].TryGetInt64(out _));
        var c = root["b"]!["c"]!;
        Assert.Equal("x\u00e9\n", c.AsString());
        Assert.Equal((3, 14), (c.Line, c.Column));
        Assert.Null(root["missing"]);
    }

    [Theory]
    [InlineData("{\"a\":1,}", 1, 8)]
    [InlineData("[1,2", 1, 5)]
    [InlineData("{\"a\":01}", 1, 7)]
    [InlineData("{\"a\":1}\n x", 2, 2)]
    [InlineData("\"tab\there\"", 1, 5)]
    [InlineData("{\"a\":tru}", 1, 6)]
    [InlineData("// comment\n{}", 1, 1)]
    [InlineData("\"\\x\"", 1, 3)]
    [InlineData("", 1, 1)]
    public void Malformed_text_reports_the_position(string text, int line, int column)
    {
        var e = Assert.Throws<JsonParseException>(() => JsonValue.Parse(text));
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Fact]
    public void Duplicate_member_names_are_rejected_in_small_and_large_objects()
    {
        Assert.Throws<JsonParseException>(() => JsonValue.Parse("{\"a\":1,\"a\":2}"));
        string large = "{" + string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}")) + ",\"k17\":0}";
        var e = Assert.Throws<JsonParseException>(() => JsonValue.Parse(large));
        Assert.Contains("k17", e.Message);
    }

    [Fact]
    public void Deep_nesting_is_bounded()
    {
        string deep = new string('[', 300) + new string(']', 300);
        Assert.Throws<JsonParseException>(() => JsonValue.Parse(deep));
        string ok = new string('[', 200) + new string(']', 200);
        Assert.Equal(JsonValueKind.Array, JsonValue.Parse(ok).Kind);
    }

    [Fact]
    public void Integers_parse_exactly_including_the_long_range()
    {
        var v = JsonValue.Parse("[-0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 123456789012345678]");
        Assert.Equal(0L, v.Items[0].AsInt64());
        Assert.Equal(long.MaxValue, v.Items[1].AsInt64());
        Assert.Equal(long.MinValue, v.Items[2].AsInt64());
        Assert.False(v.Items[3].TryGetInt64(out _));
        Assert.Equal(123456789012345678L, v.Items[4].AsInt64());
    }

    [Fact]
    public void Writer_output_parses_back_to_the_same_values()
    {
        var w = new JsonWriter(indented: true);
        w.StartObject().Name("s").Value("q\"\\\u0001é").Name("d").Value(0.1).Name("i").Value(3.0).Name("n").Null()
            .Name("a").StartArray().Value(true).Value(-5L).EndArray().EndObject();
        var back = JsonValue.Parse(w.ToString());
        Assert.Equal("q\"\\\u0001é", back["s"]!.AsString());
        Assert.Equal(0.1, back["d"]!.AsDouble());
        Assert.Equal("3.0", back["i"]!.NumberText);
        Assert.True(back["n"]!.IsNull);
        Assert.True(back["a"]!.Items[0].AsBool());
        Assert.Equal(-5L, back["a"]!.Items[1].AsInt64());
    }
}
