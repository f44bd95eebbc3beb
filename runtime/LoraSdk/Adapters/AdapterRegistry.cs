using System;
using System.Collections.Generic;
using System.Linq;

namespace LoraSdk.Adapters;

/// <summary>
/// The adapters loaded into one component, in load order (diffusers' <c>peft_config</c> keys), each with the layers
/// that hold it. The one owner of that list: loads, merges, deletes and unloads change it only through here.
/// </summary>
internal sealed class AdapterRegistry
{
    private readonly List<LoraAdapterRecord> _records = new List<LoraAdapterRecord>();
    private readonly Dictionary<string, LoraAdapterRecord> _byName = new Dictionary<string, LoraAdapterRecord>(StringComparer.Ordinal);

    /// <summary>The records in load order.</summary>
    public IReadOnlyList<LoraAdapterRecord> Records => _records;

    /// <summary>The adapter names in load order.</summary>
    public IReadOnlyList<string> Names => _records.Select(r => r.Name).ToList();

    /// <summary>The number of adapters.</summary>
    public int Count => _records.Count;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, out LoraAdapterRecord record) => _byName.TryGetValue(name, out record!);

    /// <summary>The record of <paramref name="name"/>; diffusers' "not found" error (naming <paramref name="component"/>) otherwise.</summary>
    public LoraAdapterRecord Get(string name, string component) =>
        _byName.TryGetValue(name, out var r) ? r
            : throw new LoraException(LoraErrorKind.AdapterNotFound, $"Adapter name {name} not found in the model.", adapterName: name, component: component);

    public void Add(LoraAdapterRecord record)
    {
        _records.Add(record);
        _byName[record.Name] = record;
    }

    public bool Remove(string name)
    {
        if (!_byName.TryGetValue(name, out var record)) return false;
        _records.Remove(record);
        _byName.Remove(name);
        return true;
    }

    public void Clear()
    {
        _records.Clear();
        _byName.Clear();
    }
}
