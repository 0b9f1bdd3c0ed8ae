using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TuningService.Domain.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<TuningDbContext>
{
    public TuningDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TuningDbContext>()
            .UseNpgsql("Host=localhost;Database=design_time")
            .Options);
}
