using System.Diagnostics;
using ManagedKv.Model.Evaluation.Results;
using Spectre.Console;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>
/// Shows a long run's progress: a Spectre.Console bar with percentage and remaining time when the console is
/// a terminal, otherwise (redirected output, tests) a plain line on stderr at every tenth of the run.
/// </summary>
public static class EvalProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, handing it the progress callback to report through.</summary>
    public static T Run<T>(string title, TextWriter stdout, TextWriter stderr, Func<Action<EvalProgress>, T> work)
    {
        bool terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (terminal)
        {
            T result = default!;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                    new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(title));
                    result = work(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                        task.Description = Markup.Escape(p.Current.Length == 0 ? title : $"{title}: {p.Current}");
                    });
                    task.StopTask();
                });
            return result;
        }

        var clock = Stopwatch.StartNew();
        int lastTenth = -1;
        return work(p =>
        {
            int tenth = p.Total == 0 ? 10 : p.Done * 10 / p.Total;
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            int computed = p.Done - p.Resumed, left = p.Total - p.Done;
            string eta = computed > 0 && left > 0 ? $", about {TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / computed * left):h\\:mm\\:ss} left" : "";
            string resumed = p.Resumed > 0 ? $" ({p.Resumed} resumed)" : "";
            stderr.WriteLine($"{title}: {p.Done}/{p.Total} cells{resumed}{eta}");
        });
    }
}
