using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using LoraSdk.Diffusion.Loading;

namespace LoraSdk.Diffusion.Tokenization;

/// <summary>
/// The parts of a SentencePiece <c>spiece.model</c> (a <c>sentencepiece.ModelProto</c> protobuf) a unigram tokenizer
/// needs: the pieces with scores and types, the special ids of the trainer spec and the normalizer spec
/// (precompiled charsmap and whitespace flags). Only these fields are decoded; everything else is skipped.
/// </summary>
public sealed class SentencePieceModelFile
{
    /// <summary>Piece type <c>CONTROL</c> (<c>&lt;pad&gt;</c>, <c>&lt;/s&gt;</c>): never produced by segmentation.</summary>
    public const int ControlType = 3;

    private SentencePieceModelFile() { }

    /// <summary>The pieces in id order: text, score, type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).</summary>
    public IReadOnlyList<(string Piece, float Score, int Type)> Pieces { get; private set; } = Array.Empty<(string, float, int)>();

    /// <summary><c>trainer_spec.model_type</c> (1 unigram, 2 BPE, 3 word, 4 char).</summary>
    public int ModelType { get; private set; } = 1;

    /// <summary><c>trainer_spec.unk_id</c>.</summary>
    public int UnkId { get; private set; }

    /// <summary><c>trainer_spec.eos_id</c> (-1 when absent).</summary>
    public int EosId { get; private set; } = 2;

    /// <summary><c>trainer_spec.pad_id</c> (-1 when absent).</summary>
    public int PadId { get; private set; } = -1;

    /// <summary><c>trainer_spec.byte_fallback</c>.</summary>
    public bool ByteFallback { get; private set; }

    /// <summary><c>trainer_spec.treat_whitespace_as_suffix</c>.</summary>
    public bool TreatWhitespaceAsSuffix { get; private set; }

    /// <summary><c>normalizer_spec.precompiled_charsmap</c> (empty when none).</summary>
    public byte[] PrecompiledCharsmap { get; private set; } = Array.Empty<byte>();

    /// <summary><c>normalizer_spec.add_dummy_prefix</c>.</summary>
    public bool AddDummyPrefix { get; private set; } = true;

    /// <summary><c>normalizer_spec.escape_whitespaces</c>.</summary>
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="ModelLoadException">The file is missing or not a SentencePiece model.</exception>
    public static SentencePieceModelFile Read(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(ModelLoadErrorKind.MissingFile, path, null, "file not found");
        byte[] bytes = File.ReadAllBytes(path);
        var model = new SentencePieceModelFile();
        var pieces = new List<(string, float, int)>();
        try
        {
            var top = new Reader(bytes, 0, bytes.Length);
            while (top.More)
            {
                var (field, wire) = top.Tag();
                if (wire != 2) { top.Skip(wire); continue; }
                var sub = top.Message();
                if (field == 1) pieces.Add(ReadPiece(sub));
                else if (field == 2) model.ReadTrainerSpec(sub);
                else if (field == 3) model.ReadNormalizerSpec(sub);
            }
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentException)
        {
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "not a valid SentencePiece model: " + e.Message, e);
        }
        if (pieces.Count == 0)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, null, "not a valid SentencePiece model: no pieces");
        if (model.UnkId < 0 || model.UnkId >= pieces.Count)
            throw new ModelLoadException(ModelLoadErrorKind.InvalidConfig, path, "unk_id", $"unk_id {model.UnkId} is not a piece id");
        model.Pieces = pieces;
        return model;
    }

    private static (string, float, int) ReadPiece(Reader r)
    {
        string piece = "";
        float score = 0;
        int type = 1;
        while (r.More)
        {
            var (field, wire) = r.Tag();
            if (field == 1 && wire == 2) piece = r.String();
            else if (field == 2 && wire == 5) score = r.Float();
            else if (field == 3 && wire == 0) type = (int)r.Varint();
            else r.Skip(wire);
        }
        return (piece, score, type);
    }

    private void ReadTrainerSpec(Reader r)
    {
        while (r.More)
        {
            var (field, wire) = r.Tag();
            if (wire != 0) { r.Skip(wire); continue; }
            long v = (long)r.Varint();
            switch (field)
            {
                case 3: ModelType = (int)v; break;
                case 24: TreatWhitespaceAsSuffix = v != 0; break;
                case 35: ByteFallback = v != 0; break;
                case 40: UnkId = (int)v; break;
                case 42: EosId = (int)v; break;
                case 43: PadId = (int)v; break;
            }
        }
    }

    private void ReadNormalizerSpec(Reader r)
    {
        while (r.More)
        {
            var (field, wire) = r.Tag();
            if (field == 2 && wire == 2) PrecompiledCharsmap = r.Bytes();
            else if (field == 3 && wire == 0) AddDummyPrefix = r.Varint() != 0;
            else if (field == 5 && wire == 0) EscapeWhitespaces = r.Varint() != 0;
            else r.Skip(wire);
        }
    }

    // A minimal protobuf wire-format reader over a byte range.
    private sealed class Reader
    {
        private readonly byte[] _bytes;
        private readonly int _end;
        private int _pos;

        public Reader(byte[] bytes, int start, int end)
        {
            _bytes = bytes;
            _pos = start;
            _end = end;
        }

        public bool More => _pos < _end;

        public (int Field, int Wire) Tag()
        {
            ulong key = Varint();
            return ((int)(key >> 3), (int)(key & 7));
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _end) throw new FormatException("truncated varint");
                byte b = _bytes[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw new FormatException("varint longer than 10 bytes");
        }

        public float Float()
        {
            if (_pos + 4 > _end) throw new FormatException("truncated float");
            float v = BitConverter.ToSingle(_bytes, _pos);
            _pos += 4;
            return v;
        }

        public byte[] Bytes()
        {
            int length = Length();
            var result = new byte[length];
            Array.Copy(_bytes, _pos, result, 0, length);
            _pos += length;
            return result;
        }

        public string String()
        {
            int length = Length();
            string s = Encoding.UTF8.GetString(_bytes, _pos, length);
            _pos += length;
            return s;
        }

        public Reader Message()
        {
            int length = Length();
            var sub = new Reader(_bytes, _pos, _pos + length);
            _pos += length;
            return sub;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Advance(8); break;
                case 2: Advance(Length()); break;
                case 5: Advance(4); break;
                default: throw new FormatException($"unsupported wire type {wire}");
            }
        }

        private int Length()
        {
            ulong length = Varint();
            if (length > (ulong)(_end - _pos)) throw new FormatException("length beyond the end of the message");
            return (int)length;
        }

        private void Advance(int count)
        {
            if (count > _end - _pos) throw new FormatException("field beyond the end of the message");
            _pos += count;
        }
    }
}
