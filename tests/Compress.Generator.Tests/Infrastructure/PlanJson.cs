using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compress.Generator.Tests.Infrastructure;

/// <summary>Plan text for tests that need a variation of a realistic plan.</summary>
internal static class PlanJson
{
    public static string Mlp() => TestFiles.ReadPlan("digits_mlp.plan.json");

    /// <summary>The MLP plan with one change applied to its JSON tree.</summary>
    public static string Mlp(Action<JsonObject> change)
    {
        JsonObject root = JsonNode.Parse(Mlp())!.AsObject();
        change(root);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The i-th step's j-th argument.</summary>
    public static JsonObject Argument(JsonObject root, int step, int argument) =>
        root["steps"]![step]!["args"]![argument]!.AsObject();
}
