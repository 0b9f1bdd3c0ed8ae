using System.Text.Json;
using TuningService.Domain.Jobs;

namespace TuningService.Domain.Tests.Jobs;

public sealed class TrainingJobTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private static TrainingJob NewJob() => new()
    {
        Id = "ftjob-test", ProjectId = "proj", Model = "tiny-gpt2", TrainingFileId = "file-1", MethodType = "supervised",
        Spec = JsonDocument.Parse("{}"),
    };

    public static TrainingJob JobIn(string status)
    {
        var job = NewJob();
        if (status == JobStatus.ValidatingFiles) return job;
        job.MarkQueued(Now);
        switch (status)
        {
            case JobStatus.Running: job.Claim("w1", Now, Lease); break;
            case JobStatus.Paused: job.Pause(Now); break;
            case JobStatus.Succeeded: job.Claim("w1", Now, Lease); job.Succeed(Now, "ft:x", 10, []); break;
            case JobStatus.Failed: job.Fail(Now, new JobError("boom", "it broke")); break;
            case JobStatus.Cancelled: job.Cancel(Now); break;
        }
        Assert.Equal(status, job.Status);
        return job;
    }

    private static readonly Dictionary<string, (Func<TrainingJob, object?> Act, string[] LegalFrom)> Actions = new()
    {
        ["MarkQueued"] = (j => j.MarkQueued(Now), [JobStatus.ValidatingFiles]),
        ["Claim"] = (j => j.Claim("w1", Now, Lease), [JobStatus.Queued, JobStatus.Running]),
        ["Succeed"] = (j => j.Succeed(Now, "ft:x", 1, []), [JobStatus.Running]),
        ["Fail"] = (j => j.Fail(Now, new JobError("e", "m")), [JobStatus.ValidatingFiles, JobStatus.Queued, JobStatus.Running, JobStatus.Paused]),
        ["Cancel"] = (j => j.Cancel(Now), [JobStatus.ValidatingFiles, JobStatus.Queued, JobStatus.Running, JobStatus.Paused]),
        ["ConfirmCancelled"] = (j => j.ConfirmCancelled(Now), [JobStatus.Running]),
        ["Pause"] = (j => j.Pause(Now), [JobStatus.Queued, JobStatus.Running]),
        ["ConfirmPaused"] = (j => j.ConfirmPaused(Now, 5), [JobStatus.Running]),
        ["Resume"] = (j => j.Resume(Now), [JobStatus.Paused]),
        ["Requeue"] = (j => j.Requeue(Now, "shutdown"), [JobStatus.Running]),
    };

    public static TheoryData<string, string, bool> EveryStatusAndAction()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var status in JobStatus.All)
            foreach (var (action, (_, legal)) in Actions)
                data.Add(status, action, legal.Contains(status));
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStatusAndAction))]
    public void Transition_IsAllowedOnlyFromItsLegalStatuses(string status, string action, bool legal)
    {
        var job = JobIn(status);
        if (legal)
        {
            var result = Actions[action].Act(job);
            Assert.NotNull(result);
            if (result is JobEvent e) Assert.Equal(job.Id, e.JobId);
        }
        else
        {
            var ex = Assert.Throws<InvalidJobTransitionException>(() => Actions[action].Act(job));
            Assert.Equal(status, ex.From);
            Assert.Equal(status, job.Status); // an illegal move changes nothing
        }
    }

    [Fact]
    public void MarkQueued_MovesValidatingFilesToQueued()
    {
        var job = NewJob();
        var e = job.MarkQueued(Now);
        Assert.Equal(JobStatus.Queued, job.Status);
        Assert.Equal("Job queued.", e.Message);
    }

    [Fact]
    public void Cancel_OfQueuedJob_CancelsAtOnce()
    {
        var job = JobIn(JobStatus.Queued);
        job.Cancel(Now);
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Equal(Now, job.FinishedAt);
    }

    [Fact]
    public void Cancel_OfRunningJob_OnlyFlagsIt_UntilTheWorkerConfirms()
    {
        var job = JobIn(JobStatus.Running);
        job.Cancel(Now);
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.True(job.CancelRequested);
        job.ConfirmCancelled(Now);
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.False(job.CancelRequested);
        Assert.Null(job.LeaseOwner);
    }

    [Fact]
    public void Pause_OfRunningJob_FlagsIt_AndConfirmPausedReleasesTheLease()
    {
        var job = JobIn(JobStatus.Running);
        job.Pause(Now);
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.True(job.PauseRequested);
        job.ConfirmPaused(Now, 7);
        Assert.Equal(JobStatus.Paused, job.Status);
        Assert.Null(job.LeaseOwner);
        job.Resume(Now);
        Assert.Equal(JobStatus.Queued, job.Status);
    }

    [Fact]
    public void Pause_OfRunningJobBeingCancelled_Throws()
    {
        var job = JobIn(JobStatus.Running);
        job.Cancel(Now);
        Assert.Throws<InvalidJobTransitionException>(() => job.Pause(Now));
    }

    [Fact]
    public void Requeue_HonoursAPendingCancelOrPause()
    {
        var cancelling = JobIn(JobStatus.Running);
        cancelling.Cancel(Now);
        cancelling.Requeue(Now, "shutdown");
        Assert.Equal(JobStatus.Cancelled, cancelling.Status);

        var pausing = JobIn(JobStatus.Running);
        pausing.Pause(Now);
        pausing.Requeue(Now, "shutdown");
        Assert.Equal(JobStatus.Paused, pausing.Status);

        var plain = JobIn(JobStatus.Running);
        plain.Requeue(Now, "shutdown");
        Assert.Equal(JobStatus.Queued, plain.Status);
        Assert.Null(plain.LeaseOwner);
    }

    [Fact]
    public void Claim_ByAnotherWorker_ReturnsNullWhileTheLeaseIsLive_AndTakesOverOnceItExpired()
    {
        var job = JobIn(JobStatus.Running);
        Assert.Null(job.Claim("w2", Now + TimeSpan.FromSeconds(10), Lease));
        Assert.Equal("w1", job.LeaseOwner);

        Assert.NotNull(job.Claim("w2", Now + Lease + TimeSpan.FromSeconds(1), Lease));
        Assert.Equal("w2", job.LeaseOwner);
        Assert.Equal(1, job.CrashRestarts);
        Assert.Equal(2, job.Attempts);
    }

    [Fact]
    public void Heartbeat_IsRefusedToAWorkerThatDoesNotOwnTheJob()
    {
        var job = JobIn(JobStatus.Running);
        Assert.True(job.Heartbeat("w1", Now, Lease));
        Assert.False(job.Heartbeat("w2", Now, Lease));
        Assert.False(JobIn(JobStatus.Queued).Heartbeat("w1", Now, Lease));
    }

    [Fact]
    public void Fail_RecordsTheError()
    {
        var job = JobIn(JobStatus.Running);
        job.Fail(Now, new JobError("worker_crashed", "Retry the job.", "model"));
        Assert.Equal(new JobError("worker_crashed", "Retry the job.", "model"), job.Error);
        Assert.Equal(JobStatus.Failed, job.Status);
    }
}
