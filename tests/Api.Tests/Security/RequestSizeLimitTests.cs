using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TuningService.Api.Limits;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Api.Tests.Organization;

namespace TuningService.Api.Tests.Security;

/// <summary>The API accepting at most 2 KiB per request body.</summary>
public sealed class SmallBodyApiFactory : ApiFactory
{
    public const int MaxBody = 2048;

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Limits:MaxRequestBodyBytes", MaxBody.ToString())];
}

public sealed class RequestSizeLimitTests(SmallBodyApiFactory api) : IClassFixture<SmallBodyApiFactory>
{
    [Fact]
    public async Task ABodyOverTheLimit_Is413InErrorShape_AndStoresNothing()
    {
        var before = await api.CountRowsAsync();
        var body = new StringContent($"{{\"name\":\"{new string('x', SmallBodyApiFactory.MaxBody)}\"}}", Encoding.UTF8, "application/json");

        var response = await api.CreateAdminClient().PostAsync("/v1/organization/projects", body);

        var error = await ErrorShape.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Contains(SmallBodyApiFactory.MaxBody.ToString(), error.GetProperty("message").GetString());
        Assert.Equal(before, await api.CountRowsAsync());
    }

    [Fact]
    public async Task ABodyUnderTheLimit_IsAccepted()
    {
        var response = await api.CreateAdminClient().PostAsJsonAsync("/v1/organization/projects", new { name = new string('y', 200) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void AnEndpointsRequestSizeLimitMetadata_OverridesTheGlobalLimit()
    {
        Assert.Equal(SmallBodyApiFactory.MaxBody, ApiLimits.EffectiveBodyLimit(ContextFor()));
        Assert.Equal(512L * 1024 * 1024, ApiLimits.EffectiveBodyLimit(ContextFor(new RequestSizeLimitAttribute(512L * 1024 * 1024))));
        Assert.Null(ApiLimits.EffectiveBodyLimit(ContextFor(new DisableRequestSizeLimitAttribute())));
    }

    private HttpContext ContextFor(params object[] metadata)
    {
        var context = new DefaultHttpContext { RequestServices = api.Services.CreateScope().ServiceProvider };
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(metadata), "test"));
        Assert.Equal(SmallBodyApiFactory.MaxBody, context.RequestServices.GetRequiredService<IOptions<ApiLimitsOptions>>().Value.MaxRequestBodyBytes);
        return context;
    }
}
