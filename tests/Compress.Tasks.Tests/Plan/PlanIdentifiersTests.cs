using Compress.Tasks.Plan;

namespace Compress.Tasks.Tests.Plan;

public class PlanIdentifiersTests
{
    [Theory]
    [InlineData("input", "input")]
    [InlineData("input.1", "input_1")]
    [InlineData("/fc1/Gemm_output_0", "_fc1_Gemm_output_0")]
    [InlineData("0", "_0")]
    [InlineData("3d-points", "_3d_points")]
    [InlineData("class", "@class")]
    [InlineData("float", "@float")]
    [InlineData("var", "var")]
    [InlineData("", "_")]
    [InlineData("données", "données")]
    [InlineData("a b:c", "a_b_c")]
    public void Sanitize_makes_a_valid_identifier(string name, string expected)
    {
        Assert.Equal(expected, PlanIdentifiers.Sanitize(name));
    }

    [Fact]
    public void Clashes_get_numbered_suffixes_in_order()
    {
        Assert.Equal(["x", "x_2", "x_3", "y"], PlanIdentifiers.AssignUnique(["x", "x", "x", "y"]));
        Assert.Equal(["a_b", "a_b_2", "a_b_2_2"], PlanIdentifiers.AssignUnique(["a.b", "a-b", "a_b_2"]));
        Assert.Equal(["@class", "class_2"], PlanIdentifiers.AssignUnique(["class", "class"]));
    }

    [Fact]
    public void Identifiers_avoid_the_generated_members_and_the_class()
    {
        // x and X both make XLength/XShape; "arena" would make ArenaLength, a member of every generated class;
        // "Run" is a method; "InputLength" is what "input" generates; "Model" is the class.
        Assert.Equal(["x", "X_2"], PlanIdentifiers.AssignUnique(["x", "X"]));
        Assert.Equal(["arena_2", "Run_2"], PlanIdentifiers.AssignUnique(["arena", "Run"]));
        Assert.Equal(["input", "InputLength_2"], PlanIdentifiers.AssignUnique(["input", "InputLength"]));
        Assert.Equal(["Model_2"], PlanIdentifiers.AssignUnique(["Model"], className: "Model"));
    }

    [Fact]
    public void Results_are_valid_identifiers()
    {
        foreach (string id in PlanIdentifiers.AssignUnique(["1", "if", "a/b", "x.y.z", "-", "ok"]))
            Assert.True(PlanIdentifiers.IsValidIdentifier(id.TrimStart('@')) || PlanIdentifiers.Keywords.Contains(id.TrimStart('@')), id);
    }
}
