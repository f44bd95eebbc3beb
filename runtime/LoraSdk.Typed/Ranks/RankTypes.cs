// Rank marker types, one per supported rank (every rank 1-256 and the multiples of 32 up to 1024).
// Written by a one-off script; the list must match RankMarkers.Supported and the generator's RankMarkers.
namespace LoraSdk.Typed.Ranks;

/// <summary>Rank 1.</summary>
public sealed class Rank1 : RankMarker { private Rank1() { } }

/// <summary>Rank 2.</summary>
public sealed class Rank2 : RankMarker { private Rank2() { } }

/// <summary>Rank 3.</summary>
public sealed class Rank3 : RankMarker { private Rank3() { } }

/// <summary>Rank 4.</summary>
public sealed class Rank4 : RankMarker { private Rank4() { } }

/// <summary>Rank 5.</summary>
public sealed class Rank5 : RankMarker { private Rank5() { } }

/// <summary>Rank 6.</summary>
public sealed class Rank6 : RankMarker { private Rank6() { } }

/// <summary>Rank 7.</summary>
public sealed class Rank7 : RankMarker { private Rank7() { } }

/// <summary>Rank 8.</summary>
public sealed class Rank8 : RankMarker { private Rank8() { } }

/// <summary>Rank 9.</summary>
public sealed class Rank9 : RankMarker { private Rank9() { } }

/// <summary>Rank 10.</summary>
public sealed class Rank10 : RankMarker { private Rank10() { } }

/// <summary>Rank 11.</summary>
public sealed class Rank11 : RankMarker { private Rank11() { } }

/// <summary>Rank 12.</summary>
public sealed class Rank12 : RankMarker { private Rank12() { } }

/// <summary>Rank 13.</summary>
public sealed class Rank13 : RankMarker { private Rank13() { } }

/// <summary>Rank 14.</summary>
public sealed class Rank14 : RankMarker { private Rank14() { } }

/// <summary>Rank 15.</summary>
public sealed class Rank15 : RankMarker { private Rank15() { } }

/// <summary>Rank 16.</summary>
public sealed class Rank16 : RankMarker { private Rank16() { } }

/// <summary>Rank 17.</summary>
public sealed class Rank17 : RankMarker { private Rank17() { } }

/// <summary>Rank 18.</summary>
public sealed class Rank18 : RankMarker { private Rank18() { } }

/// <summary>Rank 19.</summary>
public sealed class Rank19 : RankMarker { private Rank19() { } }

/// <summary>Rank 20.</summary>
public sealed class Rank20 : RankMarker { private Rank20() { } }

/// <summary>Rank 21.</summary>
public sealed class Rank21 : RankMarker { private Rank21() { } }

/// <summary>Rank 22.</summary>
public sealed class Rank22 : RankMarker { private Rank22() { } }

/// <summary>Rank 23.</summary>
public sealed class Rank23 : RankMarker { private Rank23() { } }

/// <summary>Rank 24.</summary>
public sealed class Rank24 : RankMarker { private Rank24() { } }

/// <summary>Rank 25.</summary>
public sealed class Rank25 : RankMarker { private Rank25() { } }

/// <summary>Rank 26.</summary>
public sealed class Rank26 : RankMarker { private Rank26() { } }

/// <summary>Rank 27.</summary>
public sealed class Rank27 : RankMarker { private Rank27() { } }

/// <summary>Rank 28.</summary>
public sealed class Rank28 : RankMarker { private Rank28() { } }

/// <summary>Rank 29.</summary>
public sealed class Rank29 : RankMarker { private Rank29() { } }

/// <summary>Rank 30.</summary>
public sealed class Rank30 : RankMarker { private Rank30() { } }

/// <summary>Rank 31.</summary>
public sealed class Rank31 : RankMarker { private Rank31() { } }

/// <summary>Rank 32.</summary>
public sealed class Rank32 : RankMarker { private Rank32() { } }

/// <summary>Rank 33.</summary>
public sealed class Rank33 : RankMarker { private Rank33() { } }

/// <summary>Rank 34.</summary>
public sealed class Rank34 : RankMarker { private Rank34() { } }

/// <summary>Rank 35.</summary>
public sealed class Rank35 : RankMarker { private Rank35() { } }

/// <summary>Rank 36.</summary>
public sealed class Rank36 : RankMarker { private Rank36() { } }

/// <summary>Rank 37.</summary>
public sealed class Rank37 : RankMarker { private Rank37() { } }

/// <summary>Rank 38.</summary>
public sealed class Rank38 : RankMarker { private Rank38() { } }

/// <summary>Rank 39.</summary>
public sealed class Rank39 : RankMarker { private Rank39() { } }

/// <summary>Rank 40.</summary>
public sealed class Rank40 : RankMarker { private Rank40() { } }

/// <summary>Rank 41.</summary>
public sealed class Rank41 : RankMarker { private Rank41() { } }

/// <summary>Rank 42.</summary>
public sealed class Rank42 : RankMarker { private Rank42() { } }

/// <summary>Rank 43.</summary>
public sealed class Rank43 : RankMarker { private Rank43() { } }

/// <summary>Rank 44.</summary>
public sealed class Rank44 : RankMarker { private Rank44() { } }

/// <summary>Rank 45.</summary>
public sealed class Rank45 : RankMarker { private Rank45() { } }

/// <summary>Rank 46.</summary>
public sealed class Rank46 : RankMarker { private Rank46() { } }

/// <summary>Rank 47.</summary>
public sealed class Rank47 : RankMarker { private Rank47() { } }

/// <summary>Rank 48.</summary>
public sealed class Rank48 : RankMarker { private Rank48() { } }

/// <summary>Rank 49.</summary>
public sealed class Rank49 : RankMarker { private Rank49() { } }

/// <summary>Rank 50.</summary>
public sealed class Rank50 : RankMarker { private Rank50() { } }

/// <summary>Rank 51.</summary>
public sealed class Rank51 : RankMarker { private Rank51() { } }

/// <summary>Rank 52.</summary>
public sealed class Rank52 : RankMarker { private Rank52() { } }

/// <summary>Rank 53.</summary>
public sealed class Rank53 : RankMarker { private Rank53() { } }

/// <summary>Rank 54.</summary>
public sealed class Rank54 : RankMarker { private Rank54() { } }

/// <summary>Rank 55.</summary>
public sealed class Rank55 : RankMarker { private Rank55() { } }

/// <summary>Rank 56.</summary>
public sealed class Rank56 : RankMarker { private Rank56() { } }

/// <summary>Rank 57.</summary>
public sealed class Rank57 : RankMarker { private Rank57() { } }

/// <summary>Rank 58.</summary>
public sealed class Rank58 : RankMarker { private Rank58() { } }

/// <summary>Rank 59.</summary>
public sealed class Rank59 : RankMarker { private Rank59() { } }

/// <summary>Rank 60.</summary>
public sealed class Rank60 : RankMarker { private Rank60() { } }

/// <summary>Rank 61.</summary>
public sealed class Rank61 : RankMarker { private Rank61() { } }

/// <summary>Rank 62.</summary>
public sealed class Rank62 : RankMarker { private Rank62() { } }

/// <summary>Rank 63.</summary>
public sealed class Rank63 : RankMarker { private Rank63() { } }

/// <summary>Rank 64.</summary>
public sealed class Rank64 : RankMarker { private Rank64() { } }

/// <summary>Rank 65.</summary>
public sealed class Rank65 : RankMarker { private Rank65() { } }

/// <summary>Rank 66.</summary>
public sealed class Rank66 : RankMarker { private Rank66() { } }

/// <summary>Rank 67.</summary>
public sealed class Rank67 : RankMarker { private Rank67() { } }

/// <summary>Rank 68.</summary>
public sealed class Rank68 : RankMarker { private Rank68() { } }

/// <summary>Rank 69.</summary>
public sealed class Rank69 : RankMarker { private Rank69() { } }

/// <summary>Rank 70.</summary>
public sealed class Rank70 : RankMarker { private Rank70() { } }

/// <summary>Rank 71.</summary>
public sealed class Rank71 : RankMarker { private Rank71() { } }

/// <summary>Rank 72.</summary>
public sealed class Rank72 : RankMarker { private Rank72() { } }

/// <summary>Rank 73.</summary>
public sealed class Rank73 : RankMarker { private Rank73() { } }

/// <summary>Rank 74.</summary>
public sealed class Rank74 : RankMarker { private Rank74() { } }

/// <summary>Rank 75.</summary>
public sealed class Rank75 : RankMarker { private Rank75() { } }

/// <summary>Rank 76.</summary>
public sealed class Rank76 : RankMarker { private Rank76() { } }

/// <summary>Rank 77.</summary>
public sealed class Rank77 : RankMarker { private Rank77() { } }

/// <summary>Rank 78.</summary>
public sealed class Rank78 : RankMarker { private Rank78() { } }

/// <summary>Rank 79.</summary>
public sealed class Rank79 : RankMarker { private Rank79() { } }

/// <summary>Rank 80.</summary>
public sealed class Rank80 : RankMarker { private Rank80() { } }

/// <summary>Rank 81.</summary>
public sealed class Rank81 : RankMarker { private Rank81() { } }

/// <summary>Rank 82.</summary>
public sealed class Rank82 : RankMarker { private Rank82() { } }

/// <summary>Rank 83.</summary>
public sealed class Rank83 : RankMarker { private Rank83() { } }

/// <summary>Rank 84.</summary>
public sealed class Rank84 : RankMarker { private Rank84() { } }

/// <summary>Rank 85.</summary>
public sealed class Rank85 : RankMarker { private Rank85() { } }

/// <summary>Rank 86.</summary>
public sealed class Rank86 : RankMarker { private Rank86() { } }

/// <summary>Rank 87.</summary>
public sealed class Rank87 : RankMarker { private Rank87() { } }

/// <summary>Rank 88.</summary>
public sealed class Rank88 : RankMarker { private Rank88() { } }

/// <summary>Rank 89.</summary>
public sealed class Rank89 : RankMarker { private Rank89() { } }

/// <summary>Rank 90.</summary>
public sealed class Rank90 : RankMarker { private Rank90() { } }

/// <summary>Rank 91.</summary>
public sealed class Rank91 : RankMarker { private Rank91() { } }

/// <summary>Rank 92.</summary>
public sealed class Rank92 : RankMarker { private Rank92() { } }

/// <summary>Rank 93.</summary>
public sealed class Rank93 : RankMarker { private Rank93() { } }

/// <summary>Rank 94.</summary>
public sealed class Rank94 : RankMarker { private Rank94() { } }

/// <summary>Rank 95.</summary>
public sealed class Rank95 : RankMarker { private Rank95() { } }

/// <summary>Rank 96.</summary>
public sealed class Rank96 : RankMarker { private Rank96() { } }

/// <summary>Rank 97.</summary>
public sealed class Rank97 : RankMarker { private Rank97() { } }

/// <summary>Rank 98.</summary>
public sealed class Rank98 : RankMarker { private Rank98() { } }

/// <summary>Rank 99.</summary>
public sealed class Rank99 : RankMarker { private Rank99() { } }

/// <summary>Rank 100.</summary>
public sealed class Rank100 : RankMarker { private Rank100() { } }

/// <summary>Rank 101.</summary>
public sealed class Rank101 : RankMarker { private Rank101() { } }

/// <summary>Rank 102.</summary>
public sealed class Rank102 : RankMarker { private Rank102() { } }

/// <summary>Rank 103.</summary>
public sealed class Rank103 : RankMarker { private Rank103() { } }

/// <summary>Rank 104.</summary>
public sealed class Rank104 : RankMarker { private Rank104() { } }

/// <summary>Rank 105.</summary>
public sealed class Rank105 : RankMarker { private Rank105() { } }

/// <summary>Rank 106.</summary>
public sealed class Rank106 : RankMarker { private Rank106() { } }

/// <summary>Rank 107.</summary>
public sealed class Rank107 : RankMarker { private Rank107() { } }

/// <summary>Rank 108.</summary>
public sealed class Rank108 : RankMarker { private Rank108() { } }

/// <summary>Rank 109.</summary>
public sealed class Rank109 : RankMarker { private Rank109() { } }

/// <summary>Rank 110.</summary>
public sealed class Rank110 : RankMarker { private Rank110() { } }

/// <summary>Rank 111.</summary>
public sealed class Rank111 : RankMarker { private Rank111() { } }

/// <summary>Rank 112.</summary>
public sealed class Rank112 : RankMarker { private Rank112() { } }

/// <summary>Rank 113.</summary>
public sealed class Rank113 : RankMarker { private Rank113() { } }

/// <summary>Rank 114.</summary>
public sealed class Rank114 : RankMarker { private Rank114() { } }

/// <summary>Rank 115.</summary>
public sealed class Rank115 : RankMarker { private Rank115() { } }

/// <summary>Rank 116.</summary>
public sealed class Rank116 : RankMarker { private Rank116() { } }

/// <summary>Rank 117.</summary>
public sealed class Rank117 : RankMarker { private Rank117() { } }

/// <summary>Rank 118.</summary>
public sealed class Rank118 : RankMarker { private Rank118() { } }

/// <summary>Rank 119.</summary>
public sealed class Rank119 : RankMarker { private Rank119() { } }

/// <summary>Rank 120.</summary>
public sealed class Rank120 : RankMarker { private Rank120() { } }

/// <summary>Rank 121.</summary>
public sealed class Rank121 : RankMarker { private Rank121() { } }

/// <summary>Rank 122.</summary>
public sealed class Rank122 : RankMarker { private Rank122() { } }

/// <summary>Rank 123.</summary>
public sealed class Rank123 : RankMarker { private Rank123() { } }

/// <summary>Rank 124.</summary>
public sealed class Rank124 : RankMarker { private Rank124() { } }

/// <summary>Rank 125.</summary>
public sealed class Rank125 : RankMarker { private Rank125() { } }

/// <summary>Rank 126.</summary>
public sealed class Rank126 : RankMarker { private Rank126() { } }

/// <summary>Rank 127.</summary>
public sealed class Rank127 : RankMarker { private Rank127() { } }

/// <summary>Rank 128.</summary>
public sealed class Rank128 : RankMarker { private Rank128() { } }

/// <summary>Rank 129.</summary>
public sealed class Rank129 : RankMarker { private Rank129() { } }

/// <summary>Rank 130.</summary>
public sealed class Rank130 : RankMarker { private Rank130() { } }

/// <summary>Rank 131.</summary>
public sealed class Rank131 : RankMarker { private Rank131() { } }

/// <summary>Rank 132.</summary>
public sealed class Rank132 : RankMarker { private Rank132() { } }

/// <summary>Rank 133.</summary>
public sealed class Rank133 : RankMarker { private Rank133() { } }

/// <summary>Rank 134.</summary>
public sealed class Rank134 : RankMarker { private Rank134() { } }

/// <summary>Rank 135.</summary>
public sealed class Rank135 : RankMarker { private Rank135() { } }

/// <summary>Rank 136.</summary>
public sealed class Rank136 : RankMarker { private Rank136() { } }

/// <summary>Rank 137.</summary>
public sealed class Rank137 : RankMarker { private Rank137() { } }

/// <summary>Rank 138.</summary>
public sealed class Rank138 : RankMarker { private Rank138() { } }

/// <summary>Rank 139.</summary>
public sealed class Rank139 : RankMarker { private Rank139() { } }

/// <summary>Rank 140.</summary>
public sealed class Rank140 : RankMarker { private Rank140() { } }

/// <summary>Rank 141.</summary>
public sealed class Rank141 : RankMarker { private Rank141() { } }

/// <summary>Rank 142.</summary>
public sealed class Rank142 : RankMarker { private Rank142() { } }

/// <summary>Rank 143.</summary>
public sealed class Rank143 : RankMarker { private Rank143() { } }

/// <summary>Rank 144.</summary>
public sealed class Rank144 : RankMarker { private Rank144() { } }

/// <summary>Rank 145.</summary>
public sealed class Rank145 : RankMarker { private Rank145() { } }

/// <summary>Rank 146.</summary>
public sealed class Rank146 : RankMarker { private Rank146() { } }

/// <summary>Rank 147.</summary>
public sealed class Rank147 : RankMarker { private Rank147() { } }

/// <summary>Rank 148.</summary>
public sealed class Rank148 : RankMarker { private Rank148() { } }

/// <summary>Rank 149.</summary>
public sealed class Rank149 : RankMarker { private Rank149() { } }

/// <summary>Rank 150.</summary>
public sealed class Rank150 : RankMarker { private Rank150() { } }

/// <summary>Rank 151.</summary>
public sealed class Rank151 : RankMarker { private Rank151() { } }

/// <summary>Rank 152.</summary>
public sealed class Rank152 : RankMarker { private Rank152() { } }

/// <summary>Rank 153.</summary>
public sealed class Rank153 : RankMarker { private Rank153() { } }

/// <summary>Rank 154.</summary>
public sealed class Rank154 : RankMarker { private Rank154() { } }

/// <summary>Rank 155.</summary>
public sealed class Rank155 : RankMarker { private Rank155() { } }

/// <summary>Rank 156.</summary>
public sealed class Rank156 : RankMarker { private Rank156() { } }

/// <summary>Rank 157.</summary>
public sealed class Rank157 : RankMarker { private Rank157() { } }

/// <summary>Rank 158.</summary>
public sealed class Rank158 : RankMarker { private Rank158() { } }

/// <summary>Rank 159.</summary>
public sealed class Rank159 : RankMarker { private Rank159() { } }

/// <summary>Rank 160.</summary>
public sealed class Rank160 : RankMarker { private Rank160() { } }

/// <summary>Rank 161.</summary>
public sealed class Rank161 : RankMarker { private Rank161() { } }

/// <summary>Rank 162.</summary>
public sealed class Rank162 : RankMarker { private Rank162() { } }

/// <summary>Rank 163.</summary>
public sealed class Rank163 : RankMarker { private Rank163() { } }

/// <summary>Rank 164.</summary>
public sealed class Rank164 : RankMarker { private Rank164() { } }

/// <summary>Rank 165.</summary>
public sealed class Rank165 : RankMarker { private Rank165() { } }

/// <summary>Rank 166.</summary>
public sealed class Rank166 : RankMarker { private Rank166() { } }

/// <summary>Rank 167.</summary>
public sealed class Rank167 : RankMarker { private Rank167() { } }

/// <summary>Rank 168.</summary>
public sealed class Rank168 : RankMarker { private Rank168() { } }

/// <summary>Rank 169.</summary>
public sealed class Rank169 : RankMarker { private Rank169() { } }

/// <summary>Rank 170.</summary>
public sealed class Rank170 : RankMarker { private Rank170() { } }

/// <summary>Rank 171.</summary>
public sealed class Rank171 : RankMarker { private Rank171() { } }

/// <summary>Rank 172.</summary>
public sealed class Rank172 : RankMarker { private Rank172() { } }

/// <summary>Rank 173.</summary>
public sealed class Rank173 : RankMarker { private Rank173() { } }

/// <summary>Rank 174.</summary>
public sealed class Rank174 : RankMarker { private Rank174() { } }

/// <summary>Rank 175.</summary>
public sealed class Rank175 : RankMarker { private Rank175() { } }

/// <summary>Rank 176.</summary>
public sealed class Rank176 : RankMarker { private Rank176() { } }

/// <summary>Rank 177.</summary>
public sealed class Rank177 : RankMarker { private Rank177() { } }

/// <summary>Rank 178.</summary>
public sealed class Rank178 : RankMarker { private Rank178() { } }

/// <summary>Rank 179.</summary>
public sealed class Rank179 : RankMarker { private Rank179() { } }

/// <summary>Rank 180.</summary>
public sealed class Rank180 : RankMarker { private Rank180() { } }

/// <summary>Rank 181.</summary>
public sealed class Rank181 : RankMarker { private Rank181() { } }

/// <summary>Rank 182.</summary>
public sealed class Rank182 : RankMarker { private Rank182() { } }

/// <summary>Rank 183.</summary>
public sealed class Rank183 : RankMarker { private Rank183() { } }

/// <summary>Rank 184.</summary>
public sealed class Rank184 : RankMarker { private Rank184() { } }

/// <summary>Rank 185.</summary>
public sealed class Rank185 : RankMarker { private Rank185() { } }

/// <summary>Rank 186.</summary>
public sealed class Rank186 : RankMarker { private Rank186() { } }

/// <summary>Rank 187.</summary>
public sealed class Rank187 : RankMarker { private Rank187() { } }

/// <summary>Rank 188.</summary>
public sealed class Rank188 : RankMarker { private Rank188() { } }

/// <summary>Rank 189.</summary>
public sealed class Rank189 : RankMarker { private Rank189() { } }

/// <summary>Rank 190.</summary>
public sealed class Rank190 : RankMarker { private Rank190() { } }

/// <summary>Rank 191.</summary>
public sealed class Rank191 : RankMarker { private Rank191() { } }

/// <summary>Rank 192.</summary>
public sealed class Rank192 : RankMarker { private Rank192() { } }

/// <summary>Rank 193.</summary>
public sealed class Rank193 : RankMarker { private Rank193() { } }

/// <summary>Rank 194.</summary>
public sealed class Rank194 : RankMarker { private Rank194() { } }

/// <summary>Rank 195.</summary>
public sealed class Rank195 : RankMarker { private Rank195() { } }

/// <summary>Rank 196.</summary>
public sealed class Rank196 : RankMarker { private Rank196() { } }

/// <summary>Rank 197.</summary>
public sealed class Rank197 : RankMarker { private Rank197() { } }

/// <summary>Rank 198.</summary>
public sealed class Rank198 : RankMarker { private Rank198() { } }

/// <summary>Rank 199.</summary>
public sealed class Rank199 : RankMarker { private Rank199() { } }

/// <summary>Rank 200.</summary>
public sealed class Rank200 : RankMarker { private Rank200() { } }

/// <summary>Rank 201.</summary>
public sealed class Rank201 : RankMarker { private Rank201() { } }

/// <summary>Rank 202.</summary>
public sealed class Rank202 : RankMarker { private Rank202() { } }

/// <summary>Rank 203.</summary>
public sealed class Rank203 : RankMarker { private Rank203() { } }

/// <summary>Rank 204.</summary>
public sealed class Rank204 : RankMarker { private Rank204() { } }

/// <summary>Rank 205.</summary>
public sealed class Rank205 : RankMarker { private Rank205() { } }

/// <summary>Rank 206.</summary>
public sealed class Rank206 : RankMarker { private Rank206() { } }

/// <summary>Rank 207.</summary>
public sealed class Rank207 : RankMarker { private Rank207() { } }

/// <summary>Rank 208.</summary>
public sealed class Rank208 : RankMarker { private Rank208() { } }

/// <summary>Rank 209.</summary>
public sealed class Rank209 : RankMarker { private Rank209() { } }

/// <summary>Rank 210.</summary>
public sealed class Rank210 : RankMarker { private Rank210() { } }

/// <summary>Rank 211.</summary>
public sealed class Rank211 : RankMarker { private Rank211() { } }

/// <summary>Rank 212.</summary>
public sealed class Rank212 : RankMarker { private Rank212() { } }

/// <summary>Rank 213.</summary>
public sealed class Rank213 : RankMarker { private Rank213() { } }

/// <summary>Rank 214.</summary>
public sealed class Rank214 : RankMarker { private Rank214() { } }

/// <summary>Rank 215.</summary>
public sealed class Rank215 : RankMarker { private Rank215() { } }

/// <summary>Rank 216.</summary>
public sealed class Rank216 : RankMarker { private Rank216() { } }

/// <summary>Rank 217.</summary>
public sealed class Rank217 : RankMarker { private Rank217() { } }

/// <summary>Rank 218.</summary>
public sealed class Rank218 : RankMarker { private Rank218() { } }

/// <summary>Rank 219.</summary>
public sealed class Rank219 : RankMarker { private Rank219() { } }

/// <summary>Rank 220.</summary>
public sealed class Rank220 : RankMarker { private Rank220() { } }

/// <summary>Rank 221.</summary>
public sealed class Rank221 : RankMarker { private Rank221() { } }

/// <summary>Rank 222.</summary>
public sealed class Rank222 : RankMarker { private Rank222() { } }

/// <summary>Rank 223.</summary>
public sealed class Rank223 : RankMarker { private Rank223() { } }

/// <summary>Rank 224.</summary>
public sealed class Rank224 : RankMarker { private Rank224() { } }

/// <summary>Rank 225.</summary>
public sealed class Rank225 : RankMarker { private Rank225() { } }

/// <summary>Rank 226.</summary>
public sealed class Rank226 : RankMarker { private Rank226() { } }

/// <summary>Rank 227.</summary>
public sealed class Rank227 : RankMarker { private Rank227() { } }

/// <summary>Rank 228.</summary>
public sealed class Rank228 : RankMarker { private Rank228() { } }

/// <summary>Rank 229.</summary>
public sealed class Rank229 : RankMarker { private Rank229() { } }

/// <summary>Rank 230.</summary>
public sealed class Rank230 : RankMarker { private Rank230() { } }

/// <summary>Rank 231.</summary>
public sealed class Rank231 : RankMarker { private Rank231() { } }

/// <summary>Rank 232.</summary>
public sealed class Rank232 : RankMarker { private Rank232() { } }

/// <summary>Rank 233.</summary>
public sealed class Rank233 : RankMarker { private Rank233() { } }

/// <summary>Rank 234.</summary>
public sealed class Rank234 : RankMarker { private Rank234() { } }

/// <summary>Rank 235.</summary>
public sealed class Rank235 : RankMarker { private Rank235() { } }

/// <summary>Rank 236.</summary>
public sealed class Rank236 : RankMarker { private Rank236() { } }

/// <summary>Rank 237.</summary>
public sealed class Rank237 : RankMarker { private Rank237() { } }

/// <summary>Rank 238.</summary>
public sealed class Rank238 : RankMarker { private Rank238() { } }

/// <summary>Rank 239.</summary>
public sealed class Rank239 : RankMarker { private Rank239() { } }

/// <summary>Rank 240.</summary>
public sealed class Rank240 : RankMarker { private Rank240() { } }

/// <summary>Rank 241.</summary>
public sealed class Rank241 : RankMarker { private Rank241() { } }

/// <summary>Rank 242.</summary>
public sealed class Rank242 : RankMarker { private Rank242() { } }

/// <summary>Rank 243.</summary>
public sealed class Rank243 : RankMarker { private Rank243() { } }

/// <summary>Rank 244.</summary>
public sealed class Rank244 : RankMarker { private Rank244() { } }

/// <summary>Rank 245.</summary>
public sealed class Rank245 : RankMarker { private Rank245() { } }

/// <summary>Rank 246.</summary>
public sealed class Rank246 : RankMarker { private Rank246() { } }

/// <summary>Rank 247.</summary>
public sealed class Rank247 : RankMarker { private Rank247() { } }

/// <summary>Rank 248.</summary>
public sealed class Rank248 : RankMarker { private Rank248() { } }

/// <summary>Rank 249.</summary>
public sealed class Rank249 : RankMarker { private Rank249() { } }

/// <summary>Rank 250.</summary>
public sealed class Rank250 : RankMarker { private Rank250() { } }

/// <summary>Rank 251.</summary>
public sealed class Rank251 : RankMarker { private Rank251() { } }

/// <summary>Rank 252.</summary>
public sealed class Rank252 : RankMarker { private Rank252() { } }

/// <summary>Rank 253.</summary>
public sealed class Rank253 : RankMarker { private Rank253() { } }

/// <summary>Rank 254.</summary>
public sealed class Rank254 : RankMarker { private Rank254() { } }

/// <summary>Rank 255.</summary>
public sealed class Rank255 : RankMarker { private Rank255() { } }

/// <summary>Rank 256.</summary>
public sealed class Rank256 : RankMarker { private Rank256() { } }

/// <summary>Rank 288.</summary>
public sealed class Rank288 : RankMarker { private Rank288() { } }

/// <summary>Rank 320.</summary>
public sealed class Rank320 : RankMarker { private Rank320() { } }

/// <summary>Rank 352.</summary>
public sealed class Rank352 : RankMarker { private Rank352() { } }

/// <summary>Rank 384.</summary>
public sealed class Rank384 : RankMarker { private Rank384() { } }

/// <summary>Rank 416.</summary>
public sealed class Rank416 : RankMarker { private Rank416() { } }

/// <summary>Rank 448.</summary>
public sealed class Rank448 : RankMarker { private Rank448() { } }

/// <summary>Rank 480.</summary>
public sealed class Rank480 : RankMarker { private Rank480() { } }

/// <summary>Rank 512.</summary>
public sealed class Rank512 : RankMarker { private Rank512() { } }

/// <summary>Rank 544.</summary>
public sealed class Rank544 : RankMarker { private Rank544() { } }

/// <summary>Rank 576.</summary>
public sealed class Rank576 : RankMarker { private Rank576() { } }

/// <summary>Rank 608.</summary>
public sealed class Rank608 : RankMarker { private Rank608() { } }

/// <summary>Rank 640.</summary>
public sealed class Rank640 : RankMarker { private Rank640() { } }

/// <summary>Rank 672.</summary>
public sealed class Rank672 : RankMarker { private Rank672() { } }

/// <summary>Rank 704.</summary>
public sealed class Rank704 : RankMarker { private Rank704() { } }

/// <summary>Rank 736.</summary>
public sealed class Rank736 : RankMarker { private Rank736() { } }

/// <summary>Rank 768.</summary>
public sealed class Rank768 : RankMarker { private Rank768() { } }

/// <summary>Rank 800.</summary>
public sealed class Rank800 : RankMarker { private Rank800() { } }

/// <summary>Rank 832.</summary>
public sealed class Rank832 : RankMarker { private Rank832() { } }

/// <summary>Rank 864.</summary>
public sealed class Rank864 : RankMarker { private Rank864() { } }

/// <summary>Rank 896.</summary>
public sealed class Rank896 : RankMarker { private Rank896() { } }

/// <summary>Rank 928.</summary>
public sealed class Rank928 : RankMarker { private Rank928() { } }

/// <summary>Rank 960.</summary>
public sealed class Rank960 : RankMarker { private Rank960() { } }

/// <summary>Rank 992.</summary>
public sealed class Rank992 : RankMarker { private Rank992() { } }

/// <summary>Rank 1024.</summary>
public sealed class Rank1024 : RankMarker { private Rank1024() { } }
