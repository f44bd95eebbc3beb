namespace LoraSdk.Diffusion.Randomness;

/// <summary>
/// The 32-bit Mersenne Twister as libtorch's CPU generator runs it: <c>manual_seed(s)</c> seeds the state from the
/// low 32 bits of <c>s</c> with the standard initialisation, and each draw returns the next tempered 32-bit word
/// (the same stream as C++'s <c>std::mt19937</c>).
/// </summary>
internal sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;

    public Mt19937(ulong seed)
    {
        _state[0] = unchecked((uint)seed);
        for (int i = 1; i < N; i++)
            _state[i] = unchecked(1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    /// <summary>The next 32-bit output.</summary>
    public uint Next()
    {
        if (_index >= N) Regenerate();
        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>libtorch's <c>uniform_real_distribution&lt;float&gt;(0, 1)</c>: the low 24 bits of one draw, scaled by 2^-24.</summary>
    public float NextUnitFloat() => (Next() & 0xFFFFFFu) * (1f / 16777216f);

    private void Regenerate()
    {
        for (int i = 0; i < N; i++)
        {
            uint mixed = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7fffffffu);
            uint twisted = (mixed >> 1) ^ ((_state[(i + 1) % N] & 1u) != 0 ? 0x9908b0dfu : 0u);
            _state[i] = _state[(i + M) % N] ^ twisted;
        }
        _index = 0;
    }
}
