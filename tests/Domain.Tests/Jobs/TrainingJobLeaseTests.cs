using TuningService.Domain.Jobs;

namespace TuningService.Domain.Tests.Jobs;

/// <summary>The lease rules: claim, heartbeat, release, and taking over from a worker that stopped responding.</summary>
public sealed class TrainingJobLeaseTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset AfterExpiry = Now + Lease + TimeSpan.FromSeconds(1);

    private static TrainingJob Running(string worker = "w1")
    {
        var job = TrainingJobTransitionsTests.JobIn(JobStatus.Queued);
        job.Claim(worker, Now, Lease);
        return job;
    }

    [Fact]
    public void Claim_OfQueuedJob_RunsItUnderTheWorkersLease()
    {
        var job = TrainingJobTransitionsTests.JobIn(JobStatus.Queued);
        var e = job.Claim("w1", Now, Lease);

        Assert.Equal("Job started on worker w1.", e!.Message);
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.Equal("w1", job.LeaseOwner);
        Assert.Equal(Now + Lease, job.LeaseExpiresAt);
        Assert.Equal(Now, job.HeartbeatAt);
        Assert.Equal((1, 0), (job.Attempts, job.CrashRestarts));
        Assert.True(job.HasLiveLease(Now));
    }

    [Fact]
    public void Claim_ByAnotherWorker_ChangesNothing_WhileTheLeaseIsLive()
    {
        var job = Running();
        Assert.Null(job.Claim("w2", Now + Lease - TimeSpan.FromSeconds(1), Lease));
        Assert.Equal(("w1", 1, 0), (job.LeaseOwner, job.Attempts, job.CrashRestarts));
    }

    [Fact]
    public void Claim_ByAnotherWorker_TakesOverAnExpiredLease_AndCountsACrashRestart()
    {
        var job = Running();
        Assert.False(job.HasLiveLease(AfterExpiry));

        var e = job.Claim("w2", AfterExpiry, Lease);

        Assert.Equal("Job taken over by worker w2 after its previous worker stopped responding (restart 1).", e!.Message);
        Assert.Equal(("w2", AfterExpiry + Lease), (job.LeaseOwner, job.LeaseExpiresAt));
        Assert.Equal((2, 1), (job.Attempts, job.CrashRestarts));
        Assert.Equal(Now, job.StartedAt);
    }

    [Fact]
    public void Claim_ByTheLeaseOwner_ClaimsAgain_WithoutCountingACrash()
    {
        var job = Running();
        Assert.NotNull(job.Claim("w1", Now + TimeSpan.FromSeconds(1), Lease));
        Assert.Equal((2, 0), (job.Attempts, job.CrashRestarts));
    }

    [Fact]
    public void Heartbeat_ExtendsTheLeaseFromNow_SoNoOtherWorkerCanTakeOver()
    {
        var job = Running();
        var later = Now + Lease - TimeSpan.FromSeconds(1);

        Assert.True(job.Heartbeat("w1", later, Lease));

        Assert.Equal((later, later + Lease), (job.HeartbeatAt, job.LeaseExpiresAt));
        Assert.True(job.HasLiveLease(AfterExpiry));
        Assert.Null(job.Claim("w2", AfterExpiry, Lease));
    }

    [Fact]
    public void Heartbeat_IsRefused_OnceAnotherWorkerTookTheJobOver()
    {
        var job = Running();
        job.Claim("w2", AfterExpiry, Lease);

        Assert.False(job.Heartbeat("w1", AfterExpiry, Lease));
        Assert.Equal(("w2", AfterExpiry + Lease), (job.LeaseOwner, job.LeaseExpiresAt));
        Assert.False(job.IsLeasedBy("w1"));
        Assert.True(job.IsLeasedBy("w2"));
    }

    [Fact]
    public void Heartbeat_IsRefused_AfterTheRunReleasedTheLease()
    {
        var job = Running();
        job.Requeue(Now, "shutdown");
        Assert.False(job.Heartbeat("w1", Now, Lease));
        Assert.Null(job.LeaseExpiresAt);
    }

    [Fact]
    public void Requeue_ReleasesTheLease_SoTheNextClaimIsAPlainStart_NotATakeOver()
    {
        var job = Running();
        job.Requeue(Now, "shutdown");
        Assert.Equal((null, null), (job.LeaseOwner, job.LeaseExpiresAt));
        Assert.False(job.HasLiveLease(Now));

        var e = job.Claim("w2", Now, Lease);
        Assert.Equal("Job started on worker w2.", e!.Message);
        Assert.Equal((2, 0), (job.Attempts, job.CrashRestarts));
    }

    [Theory]
    [InlineData(JobStatus.Succeeded)]
    [InlineData(JobStatus.Failed)]
    [InlineData(JobStatus.Cancelled)]
    [InlineData(JobStatus.Paused)]
    public void EndingOrPausingARun_ReleasesTheLease(string status)
    {
        var job = Running();
        switch (status)
        {
            case JobStatus.Succeeded: job.Succeed(Now, "ft:x", 1, []); break;
            case JobStatus.Failed: job.Fail(Now, new JobError("e", "m")); break;
            case JobStatus.Cancelled: job.Cancel(Now); job.ConfirmCancelled(Now); break;
            case JobStatus.Paused: job.Pause(Now); job.ConfirmPaused(Now, 3); break;
        }
        Assert.Equal(status, job.Status);
        Assert.Equal((null, null), (job.LeaseOwner, job.LeaseExpiresAt));
        Assert.False(job.IsLeasedBy("w1"));
    }

    [Fact]
    public void AwaitsDelivery_HoldsForQueuedJobs_AndRunningJobsWhoseLeaseExpired_Only()
    {
        var awaits = TrainingJob.AwaitsDelivery(AfterExpiry).Compile();

        Assert.True(awaits(TrainingJobTransitionsTests.JobIn(JobStatus.Queued)));
        Assert.True(awaits(Running()));
        var heartbeating = Running();
        heartbeating.Heartbeat("w1", Now + Lease, Lease);
        Assert.False(awaits(heartbeating));
        foreach (var status in new[] { JobStatus.ValidatingFiles, JobStatus.Paused, JobStatus.Succeeded, JobStatus.Failed, JobStatus.Cancelled })
            Assert.False(awaits(TrainingJobTransitionsTests.JobIn(status)), status);
    }

    [Fact]
    public void AwaitsDelivery_AgreesWithClaim_OnWhetherARunningJobCanBeTakenOver()
    {
        foreach (var at in new[] { Now, Now + Lease - TimeSpan.FromTicks(1), Now + Lease, AfterExpiry })
        {
            var job = Running();
            var awaits = TrainingJob.AwaitsDelivery(at).Compile()(job);
            Assert.Equal(awaits, job.Claim("w2", at, Lease) is not null);
        }
    }
}
