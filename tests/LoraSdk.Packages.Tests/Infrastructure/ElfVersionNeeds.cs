using System;
using System.IO;
using System.Text;

namespace LoraSdk.Packages.Tests.Infrastructure;

/// <summary>Reads the flags of a version need (<c>.gnu.version_r</c>) in an ELF64 little-endian shared library.</summary>
internal static class ElfVersionNeeds
{
    /// <summary>The <c>vna_flags</c> of the version need named <paramref name="versionName"/>, or null when there is none.</summary>
    public static int? Flags(string path, string versionName)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != 'E' || elf[4] != 2 || elf[5] != 1) throw new InvalidDataException(path + ": not ELF64 LE");
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = (int)(shoff + (long)s * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != 0x6ffffffe) continue; // SHT_GNU_verneed
            long section = (long)BitConverter.ToUInt64(elf, sh + 24);
            int strSh = (int)(shoff + (long)BitConverter.ToUInt32(elf, sh + 40) * shentsize);
            long strings = (long)BitConverter.ToUInt64(elf, strSh + 24);
            long vn = section;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)vn + 2);
                long va = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < count; a++)
                {
                    int name = (int)(strings + BitConverter.ToUInt32(elf, (int)va + 8)), end = name;
                    while (elf[end] != 0) end++;
                    if (Encoding.ASCII.GetString(elf, name, end - name) == versionName) return BitConverter.ToUInt16(elf, (int)va + 4);
                    va += BitConverter.ToUInt32(elf, (int)va + 12);
                }
                uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return null;
    }
}
