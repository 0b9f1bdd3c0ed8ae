using System.Text.Json;
using System.Xml.Linq;
using System.Xml.XPath;

namespace TuningService.Api.Infrastructure;

/// <summary>
/// The build's XML docs as Swagger should read them: a code reference (<c>&lt;see cref="..."/&gt;</c>) becomes the
/// name a client sees (a member's JSON name, a type's short name) instead of C#'s documentation id
/// (<c>M:TuningService.Domain....Resolve(...)</c>), so no C# name reaches the OpenAPI document.
/// </summary>
public static class ReadableXmlDocs
{
    public static Func<XPathDocument> From(string path) => () =>
    {
        var xml = XDocument.Load(path);
        foreach (var see in xml.Descendants("see").Where(e => e.Attribute("cref") is not null).ToList())
            see.ReplaceWith(new XElement("c", see.Value.Length > 0 ? see.Value : ClientName(see.Attribute("cref")!.Value)));
        using var reader = xml.CreateReader();
        return new XPathDocument(reader);
    };

    /// <summary><c>P:Ns.JobSpec.TrainingFile</c> → training_file; <c>M:Ns.X.Resolve(...)</c> → resolve; <c>T:Ns.JobSpec</c> → JobSpec.</summary>
    public static string ClientName(string cref)
    {
        var kind = cref.Length > 2 && cref[1] == ':' ? cref[0] : 'T';
        var name = cref[(cref.IndexOf(':') + 1)..];
        if (name.IndexOf('(') is var open and >= 0) name = name[..open];
        name = name[(name.LastIndexOf('.') + 1)..];
        if (name.IndexOf('`') is var tick and >= 0) name = name[..tick];
        return kind == 'T' ? name : JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
    }
}
