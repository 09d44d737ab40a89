using System.Buffers.Binary;
using System.Text;

namespace NativeModels.Tests.Support;

/// <summary>One entry of an ELF .dynsym table.</summary>
public sealed record ElfSymbol(string Name, byte Binding, byte Type, ushort SectionIndex)
{
    public const byte BindGlobal = 1;
    public const byte BindWeak = 2;
    public const byte TypeFunc = 2;

    /// <summary>Defined in this file (not an import).</summary>
    public bool IsDefined => SectionIndex != 0;

    public bool IsGlobalOrWeak => Binding is BindGlobal or BindWeak;
}

/// <summary>
/// Reads the dynamic symbol table of a little-endian ELF64 shared library: the section headers
/// give SHT_DYNSYM and, through its sh_link, the string table holding the names.
/// </summary>
public static class ElfSymbolReader
{
    private const uint ShtDynsym = 11;

    public static IReadOnlyList<ElfSymbol> ReadDynamicSymbols(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        ReadOnlySpan<byte> data = file;
        if (data.Length < 64 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
        {
            throw new InvalidDataException($"{path} is not an ELF file");
        }
        if (data[4] != 2 || data[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a little-endian ELF64 file");
        }

        ulong sectionHeaderOffset = BinaryPrimitives.ReadUInt64LittleEndian(data[0x28..]);
        ushort sectionHeaderSize = BinaryPrimitives.ReadUInt16LittleEndian(data[0x3A..]);
        ushort sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(data[0x3C..]);

        var sections = new List<(uint Type, ulong Offset, ulong Size, uint Link, ulong EntrySize)>();
        for (int i = 0; i < sectionCount; i++)
        {
            var header = data.Slice(checked((int)sectionHeaderOffset + i * sectionHeaderSize), 64);
            sections.Add((
                BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[32..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[40..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[56..])));
        }

        var symbols = new List<ElfSymbol>();
        foreach (var section in sections.Where(s => s.Type == ShtDynsym))
        {
            var strings = sections[(int)section.Link];
            var stringTable = data.Slice((int)strings.Offset, (int)strings.Size);
            int entrySize = section.EntrySize == 0 ? 24 : (int)section.EntrySize;
            for (ulong offset = 0; offset + (ulong)entrySize <= section.Size; offset += (ulong)entrySize)
            {
                var entry = data.Slice((int)(section.Offset + offset), entrySize);
                uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(entry);
                byte info = entry[4];
                ushort sectionIndex = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
                symbols.Add(new ElfSymbol(ReadName(stringTable, nameOffset), (byte)(info >> 4), (byte)(info & 0xF), sectionIndex));
            }
        }
        return symbols;
    }

    /// <summary>Names of the defined global (or weak) function symbols: what the library exports as code.</summary>
    public static IReadOnlySet<string> ReadExportedFunctions(string path) =>
        ReadDynamicSymbols(path)
            .Where(s => s.IsDefined && s.Binding == ElfSymbol.BindGlobal && s.Type == ElfSymbol.TypeFunc)
            .Select(s => s.Name)
            .ToHashSet(StringComparer.Ordinal);

    private static string ReadName(ReadOnlySpan<byte> table, uint offset)
    {
        var rest = table[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }
}
