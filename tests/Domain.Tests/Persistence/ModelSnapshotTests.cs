using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Tests.Persistence;

public sealed class ModelSnapshotTests
{
    /// <summary>
    /// What <c>dotnet ef migrations add</c> compares: the model against the migrations' snapshot. A naming change that
    /// renames a table, column, key or index shows up here as the operations a new migration would hold.
    /// </summary>
    [Fact]
    public void Model_IsExactlyWhatTheMigrationsCreate()
    {
        using var db = new DesignTimeDbContextFactory().CreateDbContext([]);
        var snapshot = db.GetService<IMigrationsAssembly>().ModelSnapshot?.Model;
        Assert.NotNull(snapshot);
        if (snapshot is IMutableModel mutable) snapshot = mutable.FinalizeModel();
        snapshot = db.GetService<IModelRuntimeInitializer>().Initialize(snapshot, designTime: true, validationLogger: null);

        var operations = db.GetService<IMigrationsModelDiffer>()
            .GetDifferences(snapshot.GetRelationalModel(), db.GetService<IDesignTimeModel>().Model.GetRelationalModel());

        var changes = operations.Select(Describe).ToList();
        Assert.True(changes.Count == 0, "A new migration would:\n" + string.Join("\n", changes));
    }

    private static string Describe(MigrationOperation operation) => operation switch
    {
        RenameColumnOperation c => $"rename column {c.Table}.{c.Name} to {c.NewName}",
        RenameIndexOperation i => $"rename index {i.Name} to {i.NewName}",
        RenameTableOperation t => $"rename table {t.Name} to {t.NewName}",
        DropPrimaryKeyOperation k => $"drop primary key {k.Name} on {k.Table}",
        AddPrimaryKeyOperation k => $"add primary key {k.Name} on {k.Table}",
        DropForeignKeyOperation f => $"drop foreign key {f.Name} on {f.Table}",
        AddForeignKeyOperation f => $"add foreign key {f.Name} on {f.Table}",
        _ => operation.GetType().Name,
    };
}
