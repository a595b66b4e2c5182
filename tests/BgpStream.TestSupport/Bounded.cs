using System.Runtime.ExceptionServices;

namespace BgpStream.TestSupport;

/// <summary>
/// Runs test work on its own thread with a deadline, so that a decoder stuck in a loop fails the
/// test as a hang instead of stalling the run (xunit v2 only times out async tests).
/// </summary>
public static class Bounded
{
    public static T Run<T>(TimeSpan limit, Func<T> work, string what = "the work")
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { error = e; }
        }, maxStackSize: 16 * 1024 * 1024) { IsBackground = true, Name = "bounded test work" };
        thread.Start();
        if (!thread.Join(limit)) throw new Xunit.Sdk.XunitException($"{what} did not finish within {limit.TotalSeconds} s: a hang");
        if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
        return result;
    }

    public static void Run(TimeSpan limit, Action work, string what = "the work") =>
        Run(limit, () => { work(); return 0; }, what);

    /// <summary>Polls <paramref name="condition"/> every 10 ms; throws <see cref="TimeoutException"/> after <paramref name="limit"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("condition not met in time");
            await Task.Delay(10);
        }
    }
}
