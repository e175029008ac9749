// Unicode character names, for `\N{...}` escapes (string literals, re patterns) and the
// unicodedata module: the standard library's names of every scalar, plus the aliases
// CPython accepts (control characters and abbreviations), matched case-insensitively.

/// Looks up characters by Unicode name. The table is built on first use (~0.2 s, once per
/// process); Swift's lazy static makes that thread-safe.
public enum UnicodeNames {
    /// The scalar called `name` (any case), or nil.
    public static func scalar(named name: String) -> Unicode.Scalar? {
        let key = name.uppercased()
        if let v = table[key] { return Unicode.Scalar(v) }
        // Variation selectors: VS1-VS16 and VS17-VS256.
        if key.hasPrefix("VS"), let n = Int(key.dropFirst(2)), String(n) == key.dropFirst(2) {
            if (1...16).contains(n) { return Unicode.Scalar(UInt32(0xFE00 + n - 1)) }
            if (17...256).contains(n) { return Unicode.Scalar(UInt32(0xE0100 + n - 17)) }
        }
        return nil
    }

    /// The name of `scalar` (nil for unnamed ones: controls, private use, unassigned).
    public static func name(of scalar: Unicode.Scalar) -> String? { scalar.properties.name }

    private static let table: [String: UInt32] = {
        var t: [String: UInt32] = [:]
        t.reserveCapacity(160_000)
        for v in UInt32(0)...0x10FFFF {
            guard let s = Unicode.Scalar(v) else { continue }
            if let n = s.properties.name { t[n] = v }
            if let a = s.properties.nameAlias { t[a] = v }
        }
        for entry in aliases.split(separator: ";") {
            let parts = entry.split(separator: "=")
            if parts.count == 2, let v = UInt32(parts[1], radix: 16) { t[String(parts[0])] = v }
        }
        return t
    }()

    /// Aliases from Unicode's NameAliases.txt that the scalars' own properties lack.
    private static let aliases =
        "NULL=0;NUL=0;START OF HEADING=1;SOH=1;START OF TEXT=2;STX=2;END OF TEXT=3;ETX=3;" +
        "END OF TRANSMISSION=4;EOT=4;ENQUIRY=5;ENQ=5;ACKNOWLEDGE=6;ACK=6;ALERT=7;BEL=7;BACKSPACE=8;BS=8;" +
        "CHARACTER TABULATION=9;HORIZONTAL TABULATION=9;HT=9;TAB=9;LINE FEED=A;NEW LINE=A;END OF LINE=A;" +
        "LF=A;NL=A;EOL=A;LINE TABULATION=B;VERTICAL TABULATION=B;VT=B;FORM FEED=C;FF=C;CARRIAGE RETURN=D;" +
        "CR=D;SHIFT OUT=E;LOCKING-SHIFT ONE=E;SO=E;SHIFT IN=F;LOCKING-SHIFT ZERO=F;SI=F;" +
        "DATA LINK ESCAPE=10;DLE=10;DEVICE CONTROL ONE=11;DC1=11;DEVICE CONTROL TWO=12;DC2=12;" +
        "DEVICE CONTROL THREE=13;DC3=13;DEVICE CONTROL FOUR=14;DC4=14;NEGATIVE ACKNOWLEDGE=15;NAK=15;" +
        "SYNCHRONOUS IDLE=16;SYN=16;END OF TRANSMISSION BLOCK=17;ETB=17;CANCEL=18;CAN=18;" +
        "END OF MEDIUM=19;EOM=19;SUBSTITUTE=1A;SUB=1A;ESCAPE=1B;ESC=1B;INFORMATION SEPARATOR FOUR=1C;" +
        "FILE SEPARATOR=1C;FS=1C;INFORMATION SEPARATOR THREE=1D;GROUP SEPARATOR=1D;GS=1D;" +
        "INFORMATION SEPARATOR TWO=1E;RECORD SEPARATOR=1E;RS=1E;INFORMATION SEPARATOR ONE=1F;" +
        "UNIT SEPARATOR=1F;US=1F;SP=20;DELETE=7F;DEL=7F;PADDING CHARACTER=80;PAD=80;HIGH OCTET PRESET=81;" +
        "HOP=81;BREAK PERMITTED HERE=82;BPH=82;NO BREAK HERE=83;NBH=83;INDEX=84;IND=84;NEXT LINE=85;" +
        "NEL=85;START OF SELECTED AREA=86;SSA=86;END OF SELECTED AREA=87;ESA=87;" +
        "CHARACTER TABULATION SET=88;HTS=88;CHARACTER TABULATION WITH JUSTIFICATION=89;HTJ=89;" +
        "LINE TABULATION SET=8A;VTS=8A;PARTIAL LINE FORWARD=8B;PLD=8B;PARTIAL LINE BACKWARD=8C;PLU=8C;" +
        "REVERSE LINE FEED=8D;RI=8D;SINGLE SHIFT TWO=8E;SS2=8E;SINGLE SHIFT THREE=8F;SS3=8F;" +
        "DEVICE CONTROL STRING=90;DCS=90;PRIVATE USE ONE=91;PU1=91;PRIVATE USE TWO=92;PU2=92;" +
        "SET TRANSMIT STATE=93;STS=93;CANCEL CHARACTER=94;CCH=94;MESSAGE WAITING=95;MW=95;" +
        "START OF GUARDED AREA=96;SPA=96;END OF GUARDED AREA=97;EPA=97;START OF STRING=98;SOS=98;" +
        "SINGLE GRAPHIC CHARACTER INTRODUCER=99;SGC=99;SINGLE CHARACTER INTRODUCER=9A;SCI=9A;" +
        "CONTROL SEQUENCE INTRODUCER=9B;CSI=9B;STRING TERMINATOR=9C;ST=9C;OPERATING SYSTEM COMMAND=9D;" +
        "OSC=9D;PRIVACY MESSAGE=9E;PM=9E;APPLICATION PROGRAM COMMAND=9F;APC=9F;NBSP=A0;SHY=AD;CGJ=34F;" +
        "ALM=61C;MVS=180E;FVS1=180B;FVS2=180C;FVS3=180D;ZWSP=200B;ZWNJ=200C;ZWJ=200D;LRM=200E;RLM=200F;" +
        "LRE=202A;RLE=202B;PDF=202C;LRO=202D;RLO=202E;NNBSP=202F;MMSP=205F;WJ=2060;LRI=2066;RLI=2067;" +
        "FSI=2068;PDI=2069;BYTE ORDER MARK=FEFF;BOM=FEFF;ZWNBSP=FEFF;"
}
