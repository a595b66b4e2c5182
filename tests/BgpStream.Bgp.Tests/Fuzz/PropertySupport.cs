using BgpStream.Fuzzing;
using BgpStream.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

// Shared by the property tests of BgpStream.Bgp.Tests and (linked) BgpStream.Mrt.Tests.
namespace BgpStream.Fuzzing;

/// <summary>One property-test case: which corpus sample, how it is damaged, and the damage's seed.</summary>
public readonly record struct MutationCase(int Sample, MutationKind Kind, ulong Seed)
{
    public override string ToString() => $"sample {Sample}, {Kind}, seed 0x{Seed:x}";
}

/// <summary>FsCheck plumbing shared by the property tests: a fixed seed, CI-sized runs, cases as triples.</summary>
public static class Properties
{
    /// <summary>The FsCheck seed: every run draws the same cases.</summary>
    public const ulong Seed = 0x5EED_B9B5_7EA3;

    public static Config Config(int cases) => FsCheck.Config.QuickThrowOnFailure
        .WithMaxTest(cases)
        .WithQuietOnSuccess(true)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));

    public static Arbitrary<MutationCase> Cases(int sampleCount) =>
        (from sample in Gen.Choose(0, sampleCount - 1)
         from kind in Gen.Elements(Mutator.AllKinds)
         from high in Gen.Choose(0, int.MaxValue)
         from low in Gen.Choose(0, int.MaxValue)
         select new MutationCase(sample, kind, ((ulong)high << 32) ^ (ulong)low)).ToArbitrary();

    /// <summary>Runs <paramref name="body"/> for <paramref name="cases"/> cases; a case fails by throwing.</summary>
    public static void Check(int cases, int sampleCount, Action<MutationCase> body, TimeSpan? limit = null) =>
        Bounded.Run(limit ?? TimeSpan.FromSeconds(60),
            () => Prop.ForAll(Cases(sampleCount), body).Check(Config(cases)), "the property run");

    /// <summary>Fails the case with its description when the decoders reported a violation.</summary>
    public static void NoViolations(DecodeStats stats, MutationCase c, string source)
    {
        if (stats.ViolationCount > 0)
            throw new Xunit.Sdk.XunitException($"{c} of {source}: {string.Join("; ", stats.Violations)}");
    }
}
