using System.Net.Http.Headers;
using System.Text;

namespace TuningService.Api.Tests.Security.Corpus;

/// <summary>The caller's own resources the corpus aims at, so a bad request reaches real rows and real files.</summary>
public sealed record CorpusTargets(string FileId, string JobId, string ModelId, string ModelFileName, string ProjectId, string KeyId);

/// <summary>One hostile request: the area it belongs to, what is wrong with it, and how to build it.</summary>
public sealed record BadRequestCase(string Area, string Name, Func<CorpusTargets, HttpRequestMessage> Build, bool Admin = false)
{
    public override string ToString() => $"[{Area}] {Name}";
}

/// <summary>
/// Hundreds of generated bad requests across every route: malformed and mistyped JSON, out-of-range and non-finite
/// numbers, unknown fields, hostile ids and names in paths, bad query strings, broken multipart uploads, wrong content
/// types and methods. Each must get a 4xx in the error shape and change nothing.
/// </summary>
public static class BadInputCorpus
{
    public const string Jobs = "/v1/fine_tuning/jobs";
    private static readonly string Long = new('x', 10_000);

    public static IEnumerable<BadRequestCase> All() =>
        CreateJobBodies().Concat(PathIds()).Concat(Queries()).Concat(Uploads()).Concat(WrongMethods());

    // ---- POST /v1/fine_tuning/jobs -------------------------------------------------------------------------------

    /// <summary>JSON values none of the spec's fields accepts (as raw JSON text).</summary>
    private static readonly string[] NeverValid =
        ["1e309", "-1e309", "9223372036854775808", "NaN", "Infinity", "-Infinity", "\"NaN\"", "\"abc\"", "true", "[]", "{}", "[1,2]", "{\"a\":1}", "1e300", "-1e300"];

    /// <summary>Values of a string id field (model, training_file) that name nothing the caller owns.</summary>
    private static readonly string[] BadIdStrings =
    [
        "5", "true", "[]", "{}", "NaN", "\"\"", "\"   \"", "\"../tiny-gpt2\"", "\"..\\/..\\/etc\\/passwd\"", "\"%2e%2e%2f\"", "\"tiny-gpt2\\u0000\"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\u202etiny-gpt2\"", $"\"{Long}\"", "\"ft:tiny-gpt2:x:ftjob-nope\"", "\"file-does-not-exist\"",
        "\"' OR '1'='1\"", "\"😀\"", "1e309", "9223372036854775808",
    ];

    private static readonly string[] NumericHyperparameters =
    [
        "n_epochs", "batch_size", "learning_rate", "learning_rate_multiplier", "warmup_ratio", "weight_decay", "max_grad_norm",
        "gradient_accumulation_steps", "max_seq_length", "eval_interval", "checkpoint_interval",
    ];

    private static IEnumerable<BadRequestCase> CreateJobBodies()
    {
        string[] malformed =
        [
            "", " ", "{", "}", "{\"model\": \"tiny-gpt2\"", "not json", "model=tiny-gpt2", "null", "[]", "[{\"model\":\"tiny-gpt2\"}]", "\"tiny-gpt2\"", "5",
            "true", "NaN", "{\"model\": \"tiny-gpt2\"} {", "{\"model\": \"tiny-gpt2\" /* c */}", "{'model': 'tiny-gpt2'}", "{model: \"tiny-gpt2\"}",
            "{\"model\": \"tiny-gpt2\",}", new string('[', 5000) + new string(']', 5000), "{\"a\":" + new string('[', 100) + new string(']', 100) + "}",
            "\uFEFF{", "{\"model\": \"tiny\u0000gpt2\"}", "{\"model\": \"\\x41\"}", "{\"model\": \"\\u12\"}", "{}", "{\"training_file\": null}",
        ];
        foreach (var (body, i) in malformed.Select((b, i) => (b, i)))
            yield return Job($"malformed body #{i}", _ => body);

        foreach (var value in BadIdStrings)
        {
            yield return Job($"model = {Short(value)}", t => $$"""{"model":{{value}},"training_file":"{{t.FileId}}"}""");
            yield return Job($"training_file = {Short(value)}", _ => $$"""{"model":"tiny-gpt2","training_file":{{value}}}""");
            yield return Job($"validation_file = {Short(value)}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","validation_file":{{value}}}""");
        }

        string[] badSuffixes = ["5", "[]", "{}", "\"../../x\"", "\"a/b\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\u202eabc\"", $"\"{new string('a', 65)}\"", $"\"{Long}\"", "\"UPPER\"", "\"sp ace\""];
        foreach (var value in badSuffixes)
            yield return Job($"suffix = {Short(value)}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","suffix":{{value}}}""");

        string[] badSeeds = ["\"x\"", "1e309", "9223372036854775808", "-9223372036854775809", "1.5", "true", "[]", "{}", "NaN", "Infinity", "\"NaN\""];
        foreach (var value in badSeeds)
            yield return Job($"seed = {value}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","seed":{{value}}}""");

        var tooMany = "{" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\"")) + "}";
        var huge = "{" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"key{i}\":\"{new string('v', 100)}\"")) + "}";
        string[] badMetadata =
        [
            "5", "\"x\"", "[]", "[\"a\"]", "{\"k\":5}", "{\"k\":{}}", "{\"k\":[]}", "{\"k\":null}", "{\"k\":true}", tooMany, huge,
            $"{{\"{new string('k', 65)}\":\"v\"}}", $"{{\"k\":\"{new string('v', 513)}\"}}", "{\"\":\"v\"}", "{\"\\u0000\":\"v\"}", "{\"k\":\"\\u0000\"}",
            "{\"k\":\"\\ud800\"}", "{\"\\udc00\":\"v\"}", $"{{\"k\":\"{Long}\"}}",
        ];
        foreach (var (value, i) in badMetadata.Select((v, i) => (v, i)))
            yield return Job($"metadata #{i} {Short(value)}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","metadata":{{value}}}""");

        string[] badMethods =
        [
            "5", "\"supervised\"", "[]", "{\"type\":\"sideways\"}", "{\"type\":5}", "{\"type\":null,\"bogus\":1}", "{\"type\":\"supervised\",\"unknown\":1}",
            "{\"type\":\"supervised\",\"supervised\":5}", "{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":5}}",
            "{\"type\":\"supervised\",\"supervised\":{\"extra\":{}}}", "{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":{\"bogus\":1}}}",
            "{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":{\"lora\":{\"bogus\":1}}}}",
            "{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":{\"beta\":0.1}}}", "{\"type\":\"dpo\"}", "{\"type\":\"ppo\"}",
            "{\"type\":\"reward_model\"}", "{\"type\":\"ppo\",\"ppo\":{\"hyperparameters\":{\"reward_model\":\"ft:tiny-gpt2:x:ftjob-nope\"}}}",
            "{\"type\":\"\\u0000\"}", $"{{\"type\":\"{Long}\"}}", "{\"type\":\"SUPERVISED\"}",
        ];
        foreach (var (value, i) in badMethods.Select((v, i) => (v, i)))
            yield return Job($"method #{i} {Short(value)}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","method":{{value}}}""");

        foreach (var value in new[] { "5", "[]", "\"x\"", "{\"bogus\":1}", "{\"n_epochs\":-1}", "{\"learning_rate\":NaN}" })
            yield return Job($"legacy hyperparameters = {value}", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","hyperparameters":{{value}}}""");

        foreach (var name in NumericHyperparameters)
            foreach (var value in NeverValid.Append("-1").Append("-0.5"))
                yield return Job($"method.supervised.hyperparameters.{name} = {value}", t => Supervised(t, $"\"{name}\":{value}"));
        foreach (var value in new[] { "\"sideways\"", "5", "[]", "\"\\u0000\"" })
            yield return Job($"lr_scheduler = {value}", t => Supervised(t, $"\"lr_scheduler\":{value}"));
        foreach (var value in new[] { "\"yes\"", "1", "[]", "{}" })
            yield return Job($"train_on_inputs = {value}", t => Supervised(t, $"\"train_on_inputs\":{value}"));
        foreach (var value in new[] { "\"fp16\"", "\"BF16\"", "16", "[]", "\"\"" })
            yield return Job($"precision = {value}", t => Supervised(t, $"\"precision\":{value}"));
        foreach (var (field, values) in new[] { ("r", new[] { "-1", "0", "1e309", "NaN", "\"x\"", "9223372036854775808" }), ("alpha", new[] { "-1", "1e309", "\"x\"", "Infinity" }),
                     ("dropout", new[] { "-0.1", "1.5", "NaN", "Infinity", "\"x\"" }), ("target_modules", new[] { "5", "\"c_attn\"", "[5]", "[\"\\u0000\"]", "[\"../x\"]", "[]" }) })
            foreach (var value in values)
                yield return Job($"lora.{field} = {value}", t => Supervised(t, $"\"lora\":{{\"{field}\":{value}}}"));

        yield return Job("body over the 1 MiB limit", t => $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","suffix":"{{new string('a', 1_100_000)}}"}""");
        yield return new("create-job", "Idempotency-Key of 256 characters", t =>
        {
            var request = JsonRequest(HttpMethod.Post, Jobs, $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}"}""");
            request.Headers.Add("Idempotency-Key", new string('k', 256));
            return request;
        });
        foreach (var contentType in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/octet-stream" })
            yield return new("create-job", $"valid body as {contentType}", t =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, Jobs) { Content = new StringContent($$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}"}""") };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                return request;
            });
        yield return new("create-job", "valid body without a content type", t =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, Jobs) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}"}""")) };
            return request;
        });
        yield return new("create-job", "invalid UTF-8 bytes", t =>
        {
            var bytes = Encoding.UTF8.GetBytes($$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","suffix":"ab"}""").ToList();
            bytes.InsertRange(bytes.Count - 4, new byte[] { 0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80 });
            var content = new ByteArrayContent(bytes.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return new HttpRequestMessage(HttpMethod.Post, Jobs) { Content = content };
        });
    }

    private static string Supervised(CorpusTargets t, string hyperparameters) =>
        $$"""{"model":"tiny-gpt2","training_file":"{{t.FileId}}","method":{"type":"supervised","supervised":{"hyperparameters":{""" + hyperparameters + "}}}}";

    private static BadRequestCase Job(string name, Func<CorpusTargets, string> body) =>
        new("create-job", name, t => JsonRequest(HttpMethod.Post, Jobs, body(t)));

    // ---- ids and names in paths ----------------------------------------------------------------------------------

    /// <summary>Raw path segments, sent exactly as written (no client-side normalisation).</summary>
    public static readonly string[] HostileSegments =
    [
        "..", "%2e%2e", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2F..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cwindows", "a%2Fb", "%2F", "%00", "file-%00",
        "%ff%fe", "%C0%AE%C0%AE", "%ED%A0%80", "%E2%80%AEfile-abc", "%F0%9F%98%80", Long, "-1", "0", "9223372036854775808", "null", "%20",
        "%27%20OR%20%271%27%3D%271", "%25", "ftjob-%0A", "*", "%3Cscript%3E", "...", "%2e", "ft%3Atiny-gpt2%3Ax%3Aftjob-nope",
    ];

    private static IEnumerable<BadRequestCase> PathIds()
    {
        (HttpMethod Method, Func<string, CorpusTargets, string> Url, bool Admin)[] routes =
        [
            (HttpMethod.Get, (s, _) => $"/v1/files/{s}", false),
            (HttpMethod.Get, (s, _) => $"/v1/files/{s}/content", false),
            (HttpMethod.Delete, (s, _) => $"/v1/files/{s}", false),
            (HttpMethod.Get, (s, _) => $"{Jobs}/{s}", false),
            (HttpMethod.Post, (s, _) => $"{Jobs}/{s}/cancel", false),
            (HttpMethod.Post, (s, _) => $"{Jobs}/{s}/pause", false),
            (HttpMethod.Post, (s, _) => $"{Jobs}/{s}/resume", false),
            (HttpMethod.Get, (s, _) => $"{Jobs}/{s}/events", false),
            (HttpMethod.Get, (s, _) => $"{Jobs}/{s}/checkpoints", false),
            (HttpMethod.Get, (s, _) => $"/v1/models/{s}", false),
            (HttpMethod.Delete, (s, _) => $"/v1/models/{s}", false),
            (HttpMethod.Get, (s, _) => $"/v1/models/{s}/files", false),
            (HttpMethod.Get, (s, t) => $"/v1/models/{s}/files/{t.ModelFileName}", false),
            (HttpMethod.Get, (s, t) => $"/v1/models/{t.ModelId}/files/{s}", false),
            (HttpMethod.Get, (s, _) => $"/v1/organization/projects/{s}", true),
            (HttpMethod.Get, (s, _) => $"/v1/organization/projects/{s}/api_keys", true),
            (HttpMethod.Get, (s, t) => $"/v1/organization/projects/{t.ProjectId}/api_keys/{s}", true),
            (HttpMethod.Delete, (s, t) => $"/v1/organization/projects/{t.ProjectId}/api_keys/{s}", true),
        ];
        foreach (var (method, url, admin) in routes)
            foreach (var segment in HostileSegments)
                yield return new("path-ids", $"{method} {Short(url(segment, new CorpusTargets("{file}", "{job}", "{model}", "{name}", "{project}", "{key}")))}",
                    t => Raw(method, url(segment, t)), admin);

        // Traversal towards files that do exist: a sibling model's weights, the artifact root, the process's own files.
        string[] names = ["..%2F..%2Fconfig.json", "%2e%2e%2f%2e%2e%2fappsettings.json", "..%2Fmodel.safetensors", "adapter%2F..%2F..%2Fconfig.json",
            "%2Fetc%2Fpasswd", "config.json%00.txt", "CONFIG.JSON", "config.json%20", ".%2Fconfig.json", "adapter", "adapter%2Fadapter_config.json"];
        foreach (var name in names)
            yield return new("path-ids", $"model file name {name}", t => Raw(HttpMethod.Get, $"/v1/models/{t.ModelId}/files/{name}"));
    }

    // ---- query strings -------------------------------------------------------------------------------------------

    private static IEnumerable<BadRequestCase> Queries()
    {
        (string Name, Func<CorpusTargets, string> Url, int MaxLimit)[] lists =
        [
            ("files", _ => "/v1/files", 10_000),
            ("jobs", _ => Jobs, 100),
            ("events", t => $"{Jobs}/{t.JobId}/events", 100),
            ("checkpoints", t => $"{Jobs}/{t.JobId}/checkpoints", 100),
            ("projects", _ => "/v1/organization/projects", 100),
            ("api keys", t => $"/v1/organization/projects/{t.ProjectId}/api_keys", 100),
        ];
        foreach (var (name, url, max) in lists)
        {
            var admin = name is "projects" or "api keys";
            string[] queries =
            [
                "limit=-1", "limit=0", "limit=abc", "limit=1e309", "limit=9223372036854775808", "limit=1.5", $"limit={max + 1}", "limit=%00", "limit=NaN",
                "limit=Infinity", "limit=%20", "limit=1&limit=2", "limit=0x10", "limit=%E2%80%AE5", "after=garbage", "after=%00", "after=..%2F..%2F",
                $"after={Long}", "after=%ED%A0%80", "after=%27%3B--", "after=ftevent-99999999999999999999", "after=ftevent--1",
            ];
            foreach (var query in queries)
                yield return new("queries", $"{name}?{Short(query)}", t => Raw(HttpMethod.Get, $"{url(t)}?{query}"), admin);
        }
        foreach (var query in new[] { "order=sideways", "order=ASC", "order=%00", "order=asc&order=desc", $"order={Long}", "order=" })
            yield return new("queries", $"files?{Short(query)}", _ => Raw(HttpMethod.Get, $"/v1/files?{query}"));
        foreach (var query in new[] { "metadata[a]=%00", "metadata[%00]=x", "metadata[a]=x%00y" })
            yield return new("queries", $"jobs?{query}", _ => Raw(HttpMethod.Get, $"{Jobs}?{query}"));
    }

    // ---- POST /v1/files ------------------------------------------------------------------------------------------

    private const string Boundary = "corpus-boundary-7d3f";

    private static byte[] Multipart(string purpose, string fileContent, string filename = "train.jsonl", bool purposeFirst = true)
    {
        var purposePart = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n";
        var filePart = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/jsonl\r\n\r\n{fileContent}\r\n";
        var body = purposeFirst ? purposePart + filePart : filePart + purposePart;
        return Encoding.UTF8.GetBytes(body + $"--{Boundary}--\r\n");
    }

    private static HttpRequestMessage Upload(byte[] body, string? contentType = $"multipart/form-data; boundary={Boundary}")
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = content };
    }

    private static IEnumerable<BadRequestCase> Uploads()
    {
        var dataset = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{{\"prompt\":\"Q{i}\",\"completion\":\" A{i}\"}}")) + "\n";
        var valid = Multipart("fine-tune", dataset);
        var validPurposeLast = Multipart("fine-tune", dataset, purposeFirst: false);

        // Truncated: every cut that leaves the closing boundary unread.
        var closing = Encoding.UTF8.GetByteCount($"--{Boundary}--\r\n");
        foreach (var fraction in new[] { 0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99 })
        {
            var cut = (int)((valid.Length - closing - 1) * fraction) + 1;
            yield return new("uploads", $"truncated at {cut}/{valid.Length} bytes", _ => Upload(valid[..cut]));
            yield return new("uploads", $"purpose last, truncated at {cut}/{validPurposeLast.Length} bytes", _ => Upload(validPurposeLast[..cut]));
        }
        yield return new("uploads", "closing boundary cut in half", _ => Upload(valid[..^(closing / 2)]));

        string?[] contentTypes =
        [
            null, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"\"", "multipart/mixed; boundary=" + Boundary, "multipart/form-data; boundary=wrong-boundary",
            "application/octet-stream", "multipart/form-data; boundary=" + new string('b', 200), "image/png",
        ];
        foreach (var type in contentTypes)
            yield return new("uploads", $"content type {type ?? "(none)"}", _ => Upload(valid, type));
        yield return new("uploads", "form-urlencoded fields", _ => Upload("purpose=fine-tune&file=x"u8.ToArray(), "application/x-www-form-urlencoded"));
        yield return new("uploads", "JSON body", _ => Upload("{\"purpose\":\"fine-tune\",\"file\":\"x\"}"u8.ToArray(), "application/json"));
        yield return new("uploads", "empty body", _ => Upload([]));

        string[] purposes = ["fine_tune", "", "assistants", "batch", "\u0000", "fine-tune\u202e", "FINE-TUNE", new string('p', 10_000), "fine-tune\r\nx", "\ud800"];
        foreach (var (purpose, i) in purposes.Select((p, i) => (p, i)))
        {
            yield return new("uploads", $"purpose #{i} first", _ => Upload(Multipart(purpose, dataset)));
            yield return new("uploads", $"purpose #{i} last", _ => Upload(Multipart(purpose, dataset, purposeFirst: false)));
        }
        var noFile = Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--{Boundary}--\r\n");
        var noPurpose = Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{dataset}\r\n--{Boundary}--\r\n");
        var wrongName = Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"dataset\"; filename=\"a.jsonl\"\r\n\r\n{dataset}\r\n" +
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--{Boundary}--\r\n");
        var noDisposition = Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Type: text/plain\r\n\r\n{dataset}\r\n--{Boundary}--\r\n");
        var headerFlood = Encoding.UTF8.GetBytes($"--{Boundary}\r\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"X-H{i}: {new string('h', 100)}\r\n"))
            + "Content-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n--" + Boundary + "--\r\n");
        var longHeader = Encoding.UTF8.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"; x=\"{new string('h', 20_000)}\"\r\n\r\nfine-tune\r\n--{Boundary}--\r\n");
        var garbage = Encoding.UTF8.GetBytes($"this is not multipart at all\r\n{dataset}");
        var nestedBoundaries = Encoding.UTF8.GetBytes($"--{Boundary}\r\n--{Boundary}\r\n--{Boundary}\r\n");
        foreach (var (name, body) in new[] { ("no file part", noFile), ("no purpose field", noPurpose), ("file under another name", wrongName),
                     ("part without Content-Disposition", noDisposition), ("200 part headers", headerFlood), ("20 kB part header", longHeader),
                     ("not multipart", garbage), ("only boundaries", nestedBoundaries) })
            yield return new("uploads", name, _ => Upload(body));
        yield return new("uploads", "file part with a traversal filename but a bad purpose", _ => Upload(Multipart("nope", dataset, filename: "../../../etc/passwd")));
        yield return new("uploads", "declared Content-Length over the upload limit", _ =>
        {
            var request = Upload(valid);
            request.Content!.Headers.ContentLength = 10L * 1024 * 1024 * 1024 * 1024;
            return request;
        });
    }

    // ---- methods a route does not have ---------------------------------------------------------------------------

    private static IEnumerable<BadRequestCase> WrongMethods()
    {
        (string Method, Func<CorpusTargets, string> Url)[] wrong =
        [
            ("PUT", _ => "/v1/files"), ("PATCH", t => $"/v1/files/{t.FileId}"), ("PUT", t => $"/v1/files/{t.FileId}/content"),
            ("DELETE", _ => Jobs), ("PUT", t => $"{Jobs}/{t.JobId}"), ("DELETE", t => $"{Jobs}/{t.JobId}"), ("GET", t => $"{Jobs}/{t.JobId}/cancel"),
            ("GET", t => $"{Jobs}/{t.JobId}/pause"), ("POST", t => $"{Jobs}/{t.JobId}/events"), ("POST", _ => "/v1/models"), ("PUT", t => $"/v1/models/{t.ModelId}"),
            ("POST", t => $"/v1/models/{t.ModelId}/files"), ("DELETE", t => $"/v1/models/{t.ModelId}/files/{t.ModelFileName}"), ("POST", _ => "/v1/me"),
        ];
        foreach (var (method, url) in wrong)
            yield return new("wrong-methods", $"{method} {url(new CorpusTargets("{file}", "{job}", "{model}", "{name}", "{project}", "{key}"))}",
                t => Raw(new HttpMethod(method), url(t)));
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static HttpRequestMessage JsonRequest(HttpMethod method, string url, string json) =>
        new(method, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>Marks a request whose path and query must reach the server exactly as written (see <see cref="RawTarget"/>).</summary>
    public static readonly HttpRequestOptionsKey<string> RawTarget = new("corpus-raw-target");

    /// <summary>
    /// A request whose target goes to the server as written: HttpClient's Uri would unescape, drop dot segments or refuse
    /// <c>%00</c> before a byte is sent, so the test builds the HttpContext itself (see BadInputCorpusTests).
    /// </summary>
    private static HttpRequestMessage Raw(HttpMethod method, string pathAndQuery)
    {
        var request = new HttpRequestMessage(method, "/raw");
        request.Options.Set(RawTarget, pathAndQuery);
        return request;
    }

    private static string Short(string text) => text.Length <= 60 ? text : $"{text[..40]}…({text.Length} chars)";
}
