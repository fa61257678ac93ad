//! Does a server accept TLS 1.0 or TLS 1.1?
//!
//! rustls speaks TLS 1.2 and 1.3 only, so this module builds a TLS 1.0/1.1 ClientHello by hand,
//! sends it over TCP, and reads the first answer: a ServerHello (which version and cipher suite
//! the server chose) or an alert. The handshake is never completed: nothing is encrypted, and no
//! certificate is checked.
//!
//! The byte-level functions ([`client_hello`], [`parse_server_response`]) are pure and total:
//! any input gives a value, never a panic. [`probe_version`] is the only code here that opens a
//! socket.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------------------
// Constants from the TLS RFCs (2246, 4346, 5246, 8446, 6066, 4492/8422, 5746).

const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
const CONTENT_APPLICATION_DATA: u8 = 23;
const CONTENT_HEARTBEAT: u8 = 24;

const HANDSHAKE_HELLO_REQUEST: u8 = 0;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// The record-layer version of our ClientHello: TLS 1.0, which every server that speaks any
/// TLS accepts on the first record (RFC 5246 appendix E.1).
const RECORD_VERSION: u16 = 0x0301;

/// Largest record payload a peer may send (2^14 plaintext + 2048 expansion, RFC 5246 §6.2.3).
const MAX_RECORD_PAYLOAD: usize = 16_384 + 2_048;

/// How many bytes of the server's answer we read, at most, looking for the first message.
/// A ServerHello is under 1 KiB; it is the first message of the first record, and we decode it
/// from a partial record, so this bounds memory without missing real servers.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024;

const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

/// Named groups offered: x25519, secp256r1, secp384r1.
const GROUPS: [u16; 3] = [0x001d, 0x0017, 0x0018];

/// Cipher suites offered, in preference order: suites defined for TLS 1.0/1.1 that servers
/// still configured for those versions commonly enable.
pub const OFFERED_CIPHER_SUITES: [u16; 9] = [
    0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc014, // TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    0xc00a, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    0x0033, // TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    0x0039, // TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
    0x000a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
];

// ---------------------------------------------------------------------------------------------
// Versions and names.

/// A legacy protocol version this module can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegacyVersion {
    /// TLS 1.0 (RFC 2246), wire version 0x0301.
    Tls1_0,
    /// TLS 1.1 (RFC 4346), wire version 0x0302.
    Tls1_1,
}

impl LegacyVersion {
    /// Both legacy versions, oldest first.
    pub const ALL: [LegacyVersion; 2] = [LegacyVersion::Tls1_0, LegacyVersion::Tls1_1];

    /// The `ProtocolVersion` value on the wire.
    pub fn wire(self) -> u16 {
        match self {
            LegacyVersion::Tls1_0 => 0x0301,
            LegacyVersion::Tls1_1 => 0x0302,
        }
    }

    /// "TLS 1.0" or "TLS 1.1".
    pub fn name(self) -> &'static str {
        match self {
            LegacyVersion::Tls1_0 => "TLS 1.0",
            LegacyVersion::Tls1_1 => "TLS 1.1",
        }
    }
}

impl fmt::Display for LegacyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of a wire protocol version ("TLS 1.2"), or its hex value ("0x7f1c") when unknown.
pub fn version_name(wire: u16) -> String {
    match wire {
        0x0200 => "SSL 2.0".to_owned(),
        0x0300 => "SSL 3.0".to_owned(),
        0x0301 => "TLS 1.0".to_owned(),
        0x0302 => "TLS 1.1".to_owned(),
        0x0303 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        other => format!("0x{other:04x}"),
    }
}

/// The IANA name of a cipher suite we may see in answer to our hello, or its hex value.
pub fn cipher_suite_name(code: u16) -> String {
    let name = match code {
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0xc011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        other => return format!("0x{other:04x}"),
    };
    name.to_owned()
}

/// The RFC name of an alert description ("protocol_version"), or "unknown_<code>".
pub fn alert_description_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("unknown_{other}"),
    };
    name.to_owned()
}

// ---------------------------------------------------------------------------------------------
// ClientHello.

/// Appends `value` as a big-endian u16.
fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends `body` preceded by its length as a big-endian u16. Callers keep bodies far below
/// 64 KiB (the whole hello is bounded by the SNI cap); the length saturates rather than wrap.
fn put_u16_prefixed(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
}

fn put_extension(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    put_u16(out, ext_type);
    put_u16_prefixed(out, data);
}

/// The host name to put in the SNI extension, if any: not for IP literals (RFC 6066 §3),
/// without a trailing dot, and only for plausible ASCII DNS names (at most 253 bytes).
fn sni_name(server_name: &str) -> Option<&str> {
    let name = server_name.strip_suffix('.').unwrap_or(server_name);
    let unbracketed = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    if name.is_empty()
        || name.len() > 253
        || unbracketed.parse::<IpAddr>().is_ok()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return None;
    }
    Some(name)
}

/// Builds one TLS record (content type 22, record version 0x0301) holding a ClientHello that
/// offers exactly `version` (no `supported_versions` extension, so TLS 1.2/1.3 are not
/// offered), an empty session id, [`OFFERED_CIPHER_SUITES`], null compression, and the
/// extensions server_name (omitted for IP literals and names that are not ASCII host names),
/// supported_groups, ec_point_formats and renegotiation_info.
pub fn client_hello(version: LegacyVersion, server_name: &str, random: [u8; 32]) -> Vec<u8> {
    let mut extensions = Vec::with_capacity(64 + server_name.len());
    if let Some(name) = sni_name(server_name) {
        // ServerNameList { NameType host_name(0); HostName<1..2^16-1> }
        let mut entry = vec![0u8];
        put_u16_prefixed(&mut entry, name.as_bytes());
        let mut list = Vec::with_capacity(entry.len() + 2);
        put_u16_prefixed(&mut list, &entry);
        put_extension(&mut extensions, EXT_SERVER_NAME, &list);
    }
    let mut groups = Vec::with_capacity(2 + 2 * GROUPS.len());
    let group_bytes: Vec<u8> = GROUPS.iter().flat_map(|g| g.to_be_bytes()).collect();
    put_u16_prefixed(&mut groups, &group_bytes);
    put_extension(&mut extensions, EXT_SUPPORTED_GROUPS, &groups);
    // ECPointFormatList: length 1, uncompressed(0).
    put_extension(&mut extensions, EXT_EC_POINT_FORMATS, &[1, 0]);
    // RenegotiationInfo on an initial handshake: an empty renegotiated_connection.
    put_extension(&mut extensions, EXT_RENEGOTIATION_INFO, &[0]);

    let mut body = Vec::with_capacity(128 + extensions.len());
    put_u16(&mut body, version.wire());
    body.extend_from_slice(&random);
    body.push(0); // session_id: empty
    let suites: Vec<u8> = OFFERED_CIPHER_SUITES
        .iter()
        .flat_map(|s| s.to_be_bytes())
        .collect();
    put_u16_prefixed(&mut body, &suites);
    body.extend_from_slice(&[1, 0]); // compression_methods: null only
    put_u16_prefixed(&mut body, &extensions);

    let mut handshake = Vec::with_capacity(4 + body.len());
    handshake.push(HANDSHAKE_CLIENT_HELLO);
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes();
    handshake.extend_from_slice(&len[1..]);
    handshake.extend_from_slice(&body);

    let mut record = Vec::with_capacity(5 + handshake.len());
    record.push(CONTENT_HANDSHAKE);
    put_u16(&mut record, RECORD_VERSION);
    put_u16_prefixed(&mut record, &handshake);
    record
}

// ---------------------------------------------------------------------------------------------
// Server response parsing.

/// The parts of a ServerHello this probe needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The version the server selected: `supported_versions` if present (TLS 1.3), else
    /// `legacy_version`.
    pub version: u16,
    /// The `server_version` / `legacy_version` field.
    pub legacy_version: u16,
    /// The cipher suite the server selected.
    pub cipher_suite: u16,
    /// The compression method the server selected.
    pub compression: u8,
}

/// A TLS alert record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// 1 = warning, 2 = fatal.
    pub level: u8,
    /// The alert description code (70 = protocol_version, 40 = handshake_failure, ...).
    pub description: u8,
}

impl Alert {
    /// "warning", "fatal" or "level_<n>".
    pub fn level_name(&self) -> String {
        match self.level {
            1 => "warning".to_owned(),
            2 => "fatal".to_owned(),
            other => format!("level_{other}"),
        }
    }

    /// The RFC name of the description.
    pub fn description_name(&self) -> String {
        alert_description_name(self.description)
    }
}

/// What the first bytes a server sent say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerResponse {
    /// A complete ServerHello.
    ServerHello(ServerHello),
    /// An alert record came before any ServerHello.
    Alert(Alert),
    /// Well-formed so far, but the first message is not complete yet.
    Incomplete,
    /// The bytes do not start like a TLS record (an HTTP answer, an SSH banner, ...).
    NotTls {
        /// Why the bytes are not TLS.
        reason: String,
    },
    /// The bytes start like TLS but break its rules.
    Malformed {
        /// What rule was broken.
        reason: String,
    },
}

/// A bounds-checked reader over a byte slice: every read returns `None` past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

fn not_tls(reason: impl Into<String>) -> ServerResponse {
    ServerResponse::NotTls {
        reason: reason.into(),
    }
}

fn malformed(reason: impl Into<String>) -> ServerResponse {
    ServerResponse::Malformed {
        reason: reason.into(),
    }
}

/// Checks the available bytes of a record header. `first` tells whether this is the first
/// record of the stream: a bad first header means "not TLS", a later one "malformed".
/// Returns `Ok(Some((type, length)))` for a complete valid header, `Ok(None)` when more bytes
/// are needed, `Err` when the header is invalid.
fn check_record_header(header: &[u8], first: bool) -> Result<Option<(u8, usize)>, ServerResponse> {
    let bad = |reason: String| {
        if first {
            not_tls(reason)
        } else {
            malformed(reason)
        }
    };
    if let Some(&content_type) = header.first()
        && !(CONTENT_CHANGE_CIPHER_SPEC..=CONTENT_HEARTBEAT).contains(&content_type)
    {
        let hint = if content_type & 0x80 != 0 {
            " (an SSL 2.0 style header?)"
        } else {
            ""
        };
        return Err(bad(format!(
            "record type byte 0x{content_type:02x} is not a TLS content type{hint}"
        )));
    }
    if let Some(&major) = header.get(1)
        && major != 3
    {
        return Err(bad(format!(
            "record version major byte 0x{major:02x} is not 0x03"
        )));
    }
    if let Some(&minor) = header.get(2)
        && minor > 4
    {
        return Err(bad(format!("record version 0x03{minor:02x} is unknown")));
    }
    match header {
        [content_type, _, _, hi, lo, ..] => {
            let length = usize::from(u16::from_be_bytes([*hi, *lo]));
            if length > MAX_RECORD_PAYLOAD {
                return Err(bad(format!(
                    "record length {length} exceeds the TLS maximum {MAX_RECORD_PAYLOAD}"
                )));
            }
            Ok(Some((*content_type, length)))
        }
        _ => Ok(None),
    }
}

/// Decodes the body of a ServerHello handshake message.
fn parse_server_hello_body(body: &[u8]) -> ServerResponse {
    let mut r = Reader::new(body);
    let Some(legacy_version) = r.u16() else {
        return malformed("ServerHello too short for its version");
    };
    if r.take(32).is_none() {
        return malformed("ServerHello too short for its random");
    }
    let Some(sid_len) = r.u8() else {
        return malformed("ServerHello too short for its session id length");
    };
    if sid_len > 32 {
        return malformed(format!(
            "ServerHello session id length {sid_len} exceeds 32"
        ));
    }
    if r.take(usize::from(sid_len)).is_none() {
        return malformed("ServerHello too short for its session id");
    }
    let (Some(cipher_suite), Some(compression)) = (r.u16(), r.u8()) else {
        return malformed("ServerHello too short for its cipher suite and compression");
    };
    let mut version = legacy_version;
    if r.remaining() > 0 {
        let Some(ext_len) = r.u16() else {
            return malformed("ServerHello extensions length truncated");
        };
        let Some(ext_bytes) = r.take(usize::from(ext_len)) else {
            return malformed("ServerHello extensions overrun the message");
        };
        let mut ext = Reader::new(ext_bytes);
        while ext.remaining() > 0 {
            let (Some(ext_type), Some(len)) = (ext.u16(), ext.u16()) else {
                return malformed("ServerHello extension header truncated");
            };
            let Some(data) = ext.take(usize::from(len)) else {
                return malformed("ServerHello extension overruns the extensions block");
            };
            if ext_type == EXT_SUPPORTED_VERSIONS {
                match data {
                    [hi, lo] => version = u16::from_be_bytes([*hi, *lo]),
                    _ => return malformed("ServerHello supported_versions is not 2 bytes"),
                }
            }
        }
    }
    if r.remaining() > 0 {
        return malformed("ServerHello has trailing bytes after its extensions");
    }
    ServerResponse::ServerHello(ServerHello {
        version,
        legacy_version,
        cipher_suite,
        compression,
    })
}

/// Reads the first records a server sent in answer to a ClientHello.
///
/// Handshake fragments are joined across records (and read from a partial last record) until
/// the first handshake message is complete; empty HelloRequest messages are skipped. An alert
/// record before that gives [`ServerResponse::Alert`]. Total: any bytes give a value.
pub fn parse_server_response(bytes: &[u8]) -> ServerResponse {
    let mut r = Reader::new(bytes);
    // Handshake bytes gathered so far, and how many of them were already consumed by skipped
    // HelloRequest messages.
    let mut handshake: Vec<u8> = Vec::new();
    let mut consumed = 0usize;
    let mut first = true;
    loop {
        let header = bytes.get(r.pos..).unwrap_or_default();
        let (content_type, length) = match check_record_header(header, first) {
            Err(bad) => return bad,
            Ok(None) => return ServerResponse::Incomplete,
            Ok(Some(found)) => found,
        };
        first = false;
        let _ = r.take(5);
        // The payload of this record, possibly cut short by the end of the input.
        let available = length.min(r.remaining());
        let payload = r.take(available).unwrap_or_default();
        let complete = available == length;

        match content_type {
            CONTENT_ALERT => {
                if handshake
                    .get(consumed..)
                    .is_some_and(|rest| !rest.is_empty())
                {
                    return malformed("alert record in the middle of a handshake message");
                }
                return match payload {
                    [level, description, ..] => ServerResponse::Alert(Alert {
                        level: *level,
                        description: *description,
                    }),
                    _ if !complete => ServerResponse::Incomplete,
                    _ => malformed(format!("alert record of {length} bytes, expected 2")),
                };
            }
            CONTENT_HANDSHAKE => {
                handshake.extend_from_slice(payload);
                // Decode whole messages from the joined bytes.
                loop {
                    let mut m = Reader::new(handshake.get(consumed..).unwrap_or_default());
                    let (Some(msg_type), Some(msg_len)) = (m.u8(), m.u24()) else {
                        break;
                    };
                    if msg_type == HANDSHAKE_HELLO_REQUEST && msg_len == 0 {
                        consumed += 4;
                        continue;
                    }
                    if msg_type != HANDSHAKE_SERVER_HELLO {
                        return malformed(format!(
                            "first handshake message has type {msg_type}, expected ServerHello (2)"
                        ));
                    }
                    if msg_len > MAX_RESPONSE_BYTES {
                        return malformed(format!(
                            "ServerHello claims {msg_len} bytes, more than {MAX_RESPONSE_BYTES}"
                        ));
                    }
                    match m.take(msg_len) {
                        Some(body) => return parse_server_hello_body(body),
                        // Wait for the rest of the message, in this record or the next.
                        None => break,
                    }
                }
                if !complete {
                    return ServerResponse::Incomplete;
                }
            }
            CONTENT_CHANGE_CIPHER_SPEC | CONTENT_APPLICATION_DATA | CONTENT_HEARTBEAT => {
                return malformed(format!(
                    "record of type {content_type} before any ServerHello"
                ));
            }
            other => return malformed(format!("unknown record type {other}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Facts.

/// How the server answered a legacy ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegacyAnswer {
    /// A ServerHello choosing exactly the offered version: the version is accepted.
    ServerHello,
    /// A ServerHello choosing another version (higher, which the RFCs forbid, or lower).
    OtherVersion,
    /// An alert (e.g. protocol_version, handshake_failure).
    Alert,
    /// The server closed the connection (FIN) without a complete answer.
    Closed,
    /// The server reset the connection after receiving the hello.
    Reset,
}

/// The version and cipher suite a server chose in its ServerHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Negotiated {
    /// "TLS 1.0", "TLS 1.1", ... or the hex value of an unknown version.
    pub version: String,
    /// The version as on the wire (0x0301 = 769 for TLS 1.0).
    pub version_code: u16,
    /// IANA name of the chosen suite, or its hex value.
    pub cipher_suite: String,
    /// The suite as on the wire.
    pub cipher_suite_code: u16,
}

impl Negotiated {
    fn from_hello(hello: &ServerHello) -> Self {
        Negotiated {
            version: version_name(hello.version),
            version_code: hello.version,
            cipher_suite: cipher_suite_name(hello.cipher_suite),
            cipher_suite_code: hello.cipher_suite,
        }
    }
}

/// The result of offering one legacy version to a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct LegacyOutcome {
    /// The version offered.
    pub version: LegacyVersion,
    /// True only if the server answered a ServerHello choosing exactly `version`.
    pub accepted: bool,
    /// What kind of answer the server gave.
    pub answer: LegacyAnswer,
    /// The server's choice, when it answered a ServerHello.
    pub negotiated: Option<Negotiated>,
    /// The alert description name (e.g. "protocol_version"), when it answered an alert.
    pub alert: Option<String>,
    /// One human-readable sentence about the answer.
    pub detail: String,
}

/// Why a legacy probe could not tell whether the version is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LegacyError {
    /// No complete answer within the timeout (connect, send and read included).
    #[error("no answer within {timeout_ms} ms")]
    Timeout {
        /// The timeout that expired.
        timeout_ms: u64,
    },
    /// The TCP connection was refused.
    #[error("connection refused")]
    Refused,
    /// The connection was reset before the hello could be sent.
    #[error("connection reset before the ClientHello was sent")]
    Reset,
    /// The server answered something that is not TLS.
    #[error("the server did not answer TLS ({reason}): \"{excerpt}\"")]
    NotTls {
        /// Why the bytes are not TLS.
        reason: String,
        /// The first bytes of the answer, printable ASCII only, at most 100 characters.
        excerpt: String,
    },
    /// The server answered TLS records that break the protocol's rules.
    #[error("malformed TLS answer: {reason}")]
    Malformed {
        /// What rule was broken.
        reason: String,
    },
    /// Any other I/O failure.
    #[error("I/O error: {message}")]
    Io {
        /// The OS error, cut to a sane length.
        message: String,
    },
}

/// The longest excerpt of a non-TLS answer kept in an error.
pub const EXCERPT_MAX_CHARS: usize = 100;

/// A printable excerpt of untrusted bytes: printable ASCII kept, whitespace runs collapsed to one
/// space, anything else shown as '.', at most [`EXCERPT_MAX_CHARS`] characters.
pub fn sanitised_excerpt(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(EXCERPT_MAX_CHARS);
    let mut last_space = false;
    for &b in bytes {
        if out.len() >= EXCERPT_MAX_CHARS {
            break;
        }
        if b.is_ascii_whitespace() {
            if !last_space && !out.is_empty() {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.push(if b.is_ascii_graphic() {
            char::from(b)
        } else {
            '.'
        });
    }
    out.truncate(out.trim_end().len());
    out
}

fn io_error(err: &std::io::Error) -> LegacyError {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => LegacyError::Refused,
        std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::ConnectionAborted
        | std::io::ErrorKind::BrokenPipe => LegacyError::Reset,
        _ => LegacyError::Io {
            message: crate::core::text::truncate(&err.to_string(), 200),
        },
    }
}

/// Turns a final parse of the server's answer into an outcome (or an error).
fn outcome_from_response(
    version: LegacyVersion,
    response: ServerResponse,
    bytes: &[u8],
) -> Result<LegacyOutcome, LegacyError> {
    match response {
        ServerResponse::ServerHello(hello) => {
            let negotiated = Negotiated::from_hello(&hello);
            let accepted = hello.version == version.wire();
            let detail = if accepted {
                format!("server accepted {version} with {}", negotiated.cipher_suite)
            } else {
                let direction = if hello.version > version.wire() {
                    "higher"
                } else {
                    "lower"
                };
                format!(
                    "offered {version}, server answered a ServerHello with {direction} version {}",
                    negotiated.version
                )
            };
            Ok(LegacyOutcome {
                version,
                accepted,
                answer: if accepted {
                    LegacyAnswer::ServerHello
                } else {
                    LegacyAnswer::OtherVersion
                },
                negotiated: Some(negotiated),
                alert: None,
                detail,
            })
        }
        ServerResponse::Alert(alert) => {
            let name = alert.description_name();
            Ok(LegacyOutcome {
                version,
                accepted: false,
                answer: LegacyAnswer::Alert,
                negotiated: None,
                detail: format!(
                    "offered {version}, server answered a {} alert {name} ({})",
                    alert.level_name(),
                    alert.description
                ),
                alert: Some(name),
            })
        }
        ServerResponse::NotTls { reason } => Err(LegacyError::NotTls {
            reason,
            excerpt: sanitised_excerpt(bytes),
        }),
        ServerResponse::Malformed { reason } => Err(LegacyError::Malformed { reason }),
        ServerResponse::Incomplete => Err(LegacyError::Malformed {
            reason: "incomplete answer".to_owned(),
        }),
    }
}

fn closed_outcome(version: LegacyVersion, answer: LegacyAnswer, received: usize) -> LegacyOutcome {
    let how = match answer {
        LegacyAnswer::Reset => "reset the connection",
        _ => "closed the connection",
    };
    let detail = if received == 0 {
        format!("offered {version}, server {how} without answering")
    } else {
        format!("offered {version}, server {how} after {received} bytes of an incomplete answer")
    };
    LegacyOutcome {
        version,
        accepted: false,
        answer,
        negotiated: None,
        alert: None,
        detail,
    }
}

/// A fresh ClientHello random. Its quality does not matter for security (no handshake is ever
/// completed); the system CSPRNG is used through rustls's ring provider, with a clock-based
/// fallback.
fn hello_random() -> [u8; 32] {
    let mut random = [0u8; 32];
    let provider = rustls::crypto::ring::default_provider();
    if provider.secure_random.fill(&mut random).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        random[..16].copy_from_slice(&nanos.to_be_bytes());
    }
    random
}

async fn probe_inner(
    addr: SocketAddr,
    server_name: &str,
    version: LegacyVersion,
) -> Result<LegacyOutcome, LegacyError> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| io_error(&e))?;
    // Best effort: the hello is one small write either way.
    let _ = stream.set_nodelay(true);
    let hello = client_hello(version, server_name, hello_random());
    stream.write_all(&hello).await.map_err(|e| io_error(&e))?;

    let mut received: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let room = MAX_RESPONSE_BYTES.saturating_sub(received.len());
        if room == 0 {
            return Err(LegacyError::Malformed {
                reason: format!("no ServerHello or alert within {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        let limit = room.min(chunk.len());
        let n = match stream.read(&mut chunk[..limit]).await {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                // The server saw the hello and tore the connection down: it did not accept.
                return Ok(closed_outcome(version, LegacyAnswer::Reset, received.len()));
            }
            Err(e) => return Err(io_error(&e)),
        };
        if n == 0 {
            return match parse_server_response(&received) {
                ServerResponse::Incomplete => Ok(closed_outcome(
                    version,
                    LegacyAnswer::Closed,
                    received.len(),
                )),
                other => outcome_from_response(version, other, &received),
            };
        }
        received.extend_from_slice(&chunk[..n]);
        match parse_server_response(&received) {
            ServerResponse::Incomplete => continue,
            other => return outcome_from_response(version, other, &received),
        }
    }
}

/// Offers `version` to the server at `addr` with a hand-built ClientHello (SNI `server_name`)
/// and reports whether it accepts it. Connect, send and read all happen within `timeout`.
///
/// `accepted` is true only for a ServerHello choosing exactly the offered version. An alert, a
/// ServerHello with another version, a close or a reset after the hello mean not accepted (the
/// outcome's `answer` says which). Errors mean the question could not be answered.
pub async fn probe_version(
    addr: SocketAddr,
    server_name: &str,
    version: LegacyVersion,
    timeout: Duration,
) -> Result<LegacyOutcome, LegacyError> {
    match tokio::time::timeout(timeout, probe_inner(addr, server_name, version)).await {
        Ok(result) => result,
        Err(_) => Err(LegacyError::Timeout {
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }),
    }
}

#[cfg(test)]
mod tests;
