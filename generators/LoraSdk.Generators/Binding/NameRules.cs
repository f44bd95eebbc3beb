using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Binding;

/// <summary>What a manifest name must be to become a C# identifier, and the names the generated types reserve.</summary>
internal static class NameRules
{
    public const string GroupsClass = "HotswapGroups";
    public const string MergesClass = "Merges";

    /// <summary>Members the catalog class declares itself.</summary>
    public static readonly string[] CatalogMembers = { "All", "Names", "Find", "BaseModel" };

    /// <summary>Members the group and merge catalog classes declare themselves.</summary>
    public static readonly string[] ListMembers = { "All" };

    /// <summary>
    /// A plain identifier (no <c>@</c>, not a keyword, no formatting characters: C# ignores those in identifiers, so
    /// <c>"A\u200B"</c> and <c>"A"</c> would declare the same member).
    /// </summary>
    public static bool IsValidIdentifier(string name) =>
        name.Length > 0 && name[0] != '@' && SyntaxFacts.IsValidIdentifier(name) && !HasFormattingCharacter(name) &&
        SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None && SyntaxFacts.GetContextualKeywordKind(name) == SyntaxKind.None;

    private static bool HasFormattingCharacter(string name)
    {
        foreach (char c in name)
        {
            if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format) return true;
        }
        return false;
    }

    /// <summary>A dotted namespace of identifiers.</summary>
    public static bool IsValidNamespace(string name)
    {
        if (name.Length == 0) return false;
        foreach (var part in name.Split('.'))
        {
            if (!IsValidIdentifier(part)) return false;
        }
        return true;
    }

    public static string AdapterTypeName(string name) => name + "Adapter";

    public static string GroupTypeName(string name) => name + "Group";

    public static string MergeTypeName(string name) => name + "Merge";
}
