use super::*;
use proptest::prelude::*;

/// Bytes from a hex string; spaces and newlines are ignored.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

const RANDOM: [u8; 32] = [0xab; 32];

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn be24(b: &[u8], at: usize) -> usize {
    (usize::from(b[at]) << 16) | (usize::from(b[at + 1]) << 8) | usize::from(b[at + 2])
}

/// A decoded ClientHello, for checking what `client_hello` built.
#[derive(Debug)]
struct DecodedHello {
    client_version: u16,
    random: Vec<u8>,
    session_id: Vec<u8>,
    suites: Vec<u16>,
    compression: Vec<u8>,
    /// (type, data) in order.
    extensions: Vec<(u16, Vec<u8>)>,
}

/// A strict decoder: every length field must match the bytes exactly.
fn decode_client_hello(record: &[u8]) -> DecodedHello {
    assert_eq!(record[0], 22, "record content type");
    assert_eq!(&record[1..3], &[0x03, 0x01], "record version");
    assert_eq!(be16(record, 3), record.len() - 5, "record length");
    let hs = &record[5..];
    assert_eq!(hs[0], 1, "handshake type ClientHello");
    assert_eq!(be24(hs, 1), hs.len() - 4, "handshake length");
    let body = &hs[4..];
    let client_version = u16::from_be_bytes([body[0], body[1]]);
    let random = body[2..34].to_vec();
    let sid_len = usize::from(body[34]);
    let session_id = body[35..35 + sid_len].to_vec();
    let mut at = 35 + sid_len;
    let suites_len = be16(body, at);
    assert_eq!(suites_len % 2, 0);
    let suites = body[at + 2..at + 2 + suites_len]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + suites_len;
    let comp_len = usize::from(body[at]);
    let compression = body[at + 1..at + 1 + comp_len].to_vec();
    at += 1 + comp_len;
    let ext_len = be16(body, at);
    at += 2;
    assert_eq!(at + ext_len, body.len(), "extensions length");
    let mut extensions = Vec::new();
    while at < body.len() {
        let ty = u16::try_from(be16(body, at)).unwrap();
        let len = be16(body, at + 2);
        extensions.push((ty, body[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    assert_eq!(at, body.len(), "extensions end exactly at the body's end");
    DecodedHello {
        client_version,
        random,
        session_id,
        suites,
        compression,
        extensions,
    }
}

fn ext(hello: &DecodedHello, ty: u16) -> Option<&[u8]> {
    hello
        .extensions
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, d)| d.as_slice())
}

// --- ClientHello -----------------------------------------------------------------------------

#[test]
fn client_hello_header_fields_tls10() {
    let rec = client_hello(LegacyVersion::Tls1_0, "legacy.test", RANDOM);
    // Record header: handshake(22), version 3.1, length of the rest.
    assert_eq!(rec[0], 0x16);
    assert_eq!(&rec[1..3], &[0x03, 0x01]);
    assert_eq!(be16(&rec, 3), rec.len() - 5);
    // Handshake header: ClientHello(1), 24-bit length of the rest.
    assert_eq!(rec[5], 0x01);
    assert_eq!(be24(&rec, 6), rec.len() - 9);
    // client_version, random, empty session id.
    assert_eq!(&rec[9..11], &[0x03, 0x01]);
    assert_eq!(&rec[11..43], &RANDOM);
    assert_eq!(rec[43], 0);
    // Cipher suites: 9 suites = 18 bytes, in order.
    assert_eq!(
        &rec[44..64],
        hex("0012 c013 c009 c014 c00a 0033 0039 002f 0035 000a").as_slice()
    );
    // Compression: one method, null.
    assert_eq!(&rec[64..66], &[0x01, 0x00]);
    // Extensions length covers the rest.
    assert_eq!(be16(&rec, 66), rec.len() - 68);
}

#[test]
fn client_hello_tls11_differs_only_in_client_version() {
    let v10 = client_hello(LegacyVersion::Tls1_0, "legacy.test", RANDOM);
    let v11 = client_hello(LegacyVersion::Tls1_1, "legacy.test", RANDOM);
    assert_eq!(v10.len(), v11.len());
    assert_eq!(&v11[9..11], &[0x03, 0x02]);
    // The record version stays 0x0301 for both.
    assert_eq!(&v11[1..3], &[0x03, 0x01]);
    let diffs: Vec<usize> = (0..v10.len()).filter(|&i| v10[i] != v11[i]).collect();
    assert_eq!(diffs, vec![10]);
}

#[test]
fn client_hello_sni_extension_encoding() {
    let rec = client_hello(LegacyVersion::Tls1_0, "legacy.test", RANDOM);
    let expected = [
        hex("0000 0010 000e 00 000b"),
        b"legacy.test".to_vec(),
        // supported_groups: x25519, secp256r1, secp384r1
        hex("000a 0008 0006 001d 0017 0018"),
        // ec_point_formats: uncompressed
        hex("000b 0002 01 00"),
        // renegotiation_info: empty
        hex("ff01 0001 00"),
    ]
    .concat();
    assert_eq!(&rec[68..], expected.as_slice());
    let decoded = decode_client_hello(&rec);
    assert_eq!(
        ext(&decoded, 0x0000).unwrap(),
        [hex("000e 00 000b"), b"legacy.test".to_vec()].concat()
    );
}

#[test]
fn client_hello_decodes_strictly() {
    for version in LegacyVersion::ALL {
        let d = decode_client_hello(&client_hello(version, "www.example.com", RANDOM));
        assert_eq!(d.client_version, version.wire());
        assert_eq!(d.random, RANDOM.to_vec());
        assert!(d.session_id.is_empty());
        assert_eq!(d.suites, OFFERED_CIPHER_SUITES.to_vec());
        assert_eq!(d.compression, vec![0]);
        let types: Vec<u16> = d.extensions.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![0x0000, 0x000a, 0x000b, 0xff01]);
        // No supported_versions: TLS 1.2/1.3 are not offered.
        assert!(ext(&d, 0x002b).is_none());
    }
}

#[test]
fn client_hello_skips_sni_for_ip_literals_and_odd_names() {
    for name in [
        "127.0.0.1",
        "::1",
        "[::1]",
        "2001:db8::1",
        "",
        ".",
        "bad name",
        "é.test",
    ] {
        let d = decode_client_hello(&client_hello(LegacyVersion::Tls1_0, name, RANDOM));
        assert!(ext(&d, 0x0000).is_none(), "no SNI expected for {name:?}");
        let types: Vec<u16> = d.extensions.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![0x000a, 0x000b, 0xff01]);
    }
}

#[test]
fn client_hello_strips_trailing_dot_from_sni() {
    let d = decode_client_hello(&client_hello(LegacyVersion::Tls1_1, "acme.com.", RANDOM));
    assert_eq!(
        ext(&d, 0x0000).unwrap(),
        [hex("000b 00 0008"), b"acme.com".to_vec()].concat()
    );
}

#[test]
fn client_hello_refuses_overlong_names_for_sni() {
    let long = "a".repeat(254);
    let d = decode_client_hello(&client_hello(LegacyVersion::Tls1_0, &long, RANDOM));
    assert!(ext(&d, 0x0000).is_none());
    let max = format!("{}.test", "a".repeat(248));
    assert_eq!(max.len(), 253);
    let d = decode_client_hello(&client_hello(LegacyVersion::Tls1_0, &max, RANDOM));
    assert_eq!(ext(&d, 0x0000).unwrap().len(), 2 + 1 + 2 + 253);
}

// --- Server responses ------------------------------------------------------------------------

/// A ServerHello record choosing TLS 1.0 and TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, with an empty
/// renegotiation_info extension, as a TLS 1.0 server sends it.
fn server_hello_tls10() -> Vec<u8> {
    hex("16 0301 0031
         02 00002d
         0301
         1111111111111111111111111111111111111111111111111111111111111111
         00
         c013
         00
         0005 ff01 0001 00")
}

#[test]
fn parses_hand_written_server_hello_tls10() {
    assert_eq!(
        parse_server_response(&server_hello_tls10()),
        ServerResponse::ServerHello(ServerHello {
            version: 0x0301,
            legacy_version: 0x0301,
            cipher_suite: 0xc013,
            compression: 0,
        })
    );
}

#[test]
fn parses_server_hello_without_extensions_and_with_session_id() {
    let bytes = hex("16 0302 004a
         02 000046
         0302
         2222222222222222222222222222222222222222222222222222222222222222
         20 3333333333333333333333333333333333333333333333333333333333333333
         002f
         00");
    assert_eq!(
        parse_server_response(&bytes),
        ServerResponse::ServerHello(ServerHello {
            version: 0x0302,
            legacy_version: 0x0302,
            cipher_suite: 0x002f,
            compression: 0,
        })
    );
}

#[test]
fn parses_protocol_version_alert() {
    assert_eq!(
        parse_server_response(&hex("15 03 01 00 02 02 46")),
        ServerResponse::Alert(Alert {
            level: 2,
            description: 70
        })
    );
    let alert = Alert {
        level: 2,
        description: 70,
    };
    assert_eq!(alert.level_name(), "fatal");
    assert_eq!(alert.description_name(), "protocol_version");
}

#[test]
fn parses_handshake_failure_alert_with_tls12_record_version() {
    assert_eq!(
        parse_server_response(&hex("15 0303 0002 02 28")),
        ServerResponse::Alert(Alert {
            level: 2,
            description: 40
        })
    );
}

#[test]
fn every_truncation_of_a_server_hello_is_incomplete() {
    let full = server_hello_tls10();
    for cut in 0..full.len() {
        assert_eq!(
            parse_server_response(&full[..cut]),
            ServerResponse::Incomplete,
            "prefix of {cut} bytes"
        );
    }
}

#[test]
fn every_truncation_of_an_alert_is_incomplete() {
    let full = hex("15 03 01 00 02 02 46");
    for cut in 0..full.len() {
        assert_eq!(
            parse_server_response(&full[..cut]),
            ServerResponse::Incomplete
        );
    }
}

#[test]
fn http_answer_is_not_tls() {
    let resp = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n";
    assert!(matches!(
        parse_server_response(resp),
        ServerResponse::NotTls { .. }
    ));
    // Even the first byte alone tells.
    assert!(matches!(
        parse_server_response(b"H"),
        ServerResponse::NotTls { .. }
    ));
    assert!(matches!(
        parse_server_response(b"SSH-2.0-OpenSSH_9.2\r\n"),
        ServerResponse::NotTls { .. }
    ));
}

#[test]
fn bad_record_headers_are_not_tls() {
    // Handshake type byte but a wrong major version.
    assert!(matches!(
        parse_server_response(&hex("16 0401")),
        ServerResponse::NotTls { .. }
    ));
    // Oversized record length.
    assert!(matches!(
        parse_server_response(&hex("16 0301 ffff")),
        ServerResponse::NotTls { .. }
    ));
    // SSL 2.0 style header.
    assert!(matches!(
        parse_server_response(&hex("80 2e 04")),
        ServerResponse::NotTls { .. }
    ));
}

#[test]
fn server_hello_is_read_from_a_partial_record() {
    // One record of 2000 bytes declared: ServerHello, then a Certificate message cut short.
    let hello = &server_hello_tls10()[5..];
    let mut bytes = hex("16 0301 07d0");
    bytes.extend_from_slice(hello);
    bytes.extend_from_slice(&hex("0b 000700 000704"));
    assert!(matches!(
        parse_server_response(&bytes),
        ServerResponse::ServerHello(ServerHello {
            version: 0x0301,
            ..
        })
    ));
}

#[test]
fn server_hello_fragmented_across_records() {
    let hello = &server_hello_tls10()[5..];
    for split in 1..hello.len() {
        let mut bytes = Vec::new();
        for part in [&hello[..split], &hello[split..]] {
            bytes.extend_from_slice(&[0x16, 0x03, 0x01]);
            bytes.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(part);
        }
        assert!(
            matches!(
                parse_server_response(&bytes),
                ServerResponse::ServerHello(ServerHello {
                    version: 0x0301,
                    ..
                })
            ),
            "split at {split}"
        );
    }
}

#[test]
fn empty_hello_request_is_skipped() {
    let mut bytes = hex("16 0301 0004 00 000000");
    bytes.extend_from_slice(&server_hello_tls10());
    assert!(matches!(
        parse_server_response(&bytes),
        ServerResponse::ServerHello(_)
    ));
}

#[test]
fn supported_versions_gives_the_selected_version() {
    // A TLS 1.3 ServerHello: legacy_version 0x0303, supported_versions 0x0304.
    let bytes = hex("16 0303 0032
         02 00002e
         0303
         4444444444444444444444444444444444444444444444444444444444444444
         00
         1301
         00
         0006 002b 0002 0304");
    assert_eq!(
        parse_server_response(&bytes),
        ServerResponse::ServerHello(ServerHello {
            version: 0x0304,
            legacy_version: 0x0303,
            cipher_suite: 0x1301,
            compression: 0,
        })
    );
}

#[test]
fn malformed_answers() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Certificate before ServerHello.
        (hex("16 0301 0004 0b 000000"), "type 11"),
        // Session id longer than 32.
        (
            hex("16 0301 0027 02 000023 0301
                 1111111111111111111111111111111111111111111111111111111111111111 21"),
            "session id length",
        ),
        // Zero-length alert.
        (hex("15 0301 0000"), "alert record of 0 bytes"),
        // ChangeCipherSpec first.
        (hex("14 0301 0001 01"), "record of type 20"),
        // Application data first.
        (hex("17 0303 0002 abcd"), "record of type 23"),
        // Handshake message too long for us.
        (hex("16 0301 0004 02 ffffff"), "claims"),
    ];
    for (bytes, needle) in cases {
        match parse_server_response(&bytes) {
            ServerResponse::Malformed { reason } => {
                assert!(
                    reason.contains(needle),
                    "{reason:?} should mention {needle:?}"
                )
            }
            other => panic!("expected Malformed for {bytes:02x?}, got {other:?}"),
        }
    }
}

#[test]
fn alert_in_the_middle_of_a_handshake_message_is_malformed() {
    let hello = &server_hello_tls10()[5..];
    let mut bytes = vec![0x16, 0x03, 0x01, 0x00, 0x05];
    bytes.extend_from_slice(&hello[..5]);
    bytes.extend_from_slice(&hex("15 0301 0002 02 28"));
    assert!(matches!(
        parse_server_response(&bytes),
        ServerResponse::Malformed { .. }
    ));
}

// --- Outcomes and excerpts -------------------------------------------------------------------

#[test]
fn outcome_accepts_only_the_exact_version() {
    let hello = |version: u16| {
        ServerResponse::ServerHello(ServerHello {
            version,
            legacy_version: version,
            cipher_suite: 0xc013,
            compression: 0,
        })
    };
    let ok = outcome_from_response(LegacyVersion::Tls1_0, hello(0x0301), &[]).unwrap();
    assert!(ok.accepted);
    assert_eq!(ok.answer, LegacyAnswer::ServerHello);
    assert_eq!(
        ok.negotiated,
        Some(Negotiated {
            version: "TLS 1.0".to_owned(),
            version_code: 0x0301,
            cipher_suite: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".to_owned(),
            cipher_suite_code: 0xc013,
        })
    );

    let higher = outcome_from_response(LegacyVersion::Tls1_0, hello(0x0303), &[]).unwrap();
    assert!(!higher.accepted);
    assert_eq!(higher.answer, LegacyAnswer::OtherVersion);
    assert!(
        higher.detail.contains("higher version TLS 1.2"),
        "{}",
        higher.detail
    );

    let lower = outcome_from_response(LegacyVersion::Tls1_1, hello(0x0301), &[]).unwrap();
    assert!(!lower.accepted);
    assert!(
        lower.detail.contains("lower version TLS 1.0"),
        "{}",
        lower.detail
    );

    let alert = outcome_from_response(
        LegacyVersion::Tls1_1,
        ServerResponse::Alert(Alert {
            level: 2,
            description: 70,
        }),
        &[],
    )
    .unwrap();
    assert!(!alert.accepted);
    assert_eq!(alert.answer, LegacyAnswer::Alert);
    assert_eq!(alert.alert.as_deref(), Some("protocol_version"));
    assert_eq!(
        alert.detail,
        "offered TLS 1.1, server answered a fatal alert protocol_version (70)"
    );
}

#[test]
fn not_tls_error_carries_a_sanitised_excerpt() {
    let bytes = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html>\x00\x1b[31m";
    let err = outcome_from_response(LegacyVersion::Tls1_0, parse_server_response(bytes), bytes)
        .unwrap_err();
    match err {
        LegacyError::NotTls { excerpt, .. } => {
            assert_eq!(
                excerpt,
                "HTTP/1.1 400 Bad Request Server: nginx <html>..[31m"
            );
        }
        other => panic!("expected NotTls, got {other:?}"),
    }
}

#[test]
fn excerpt_is_bounded() {
    let long = vec![b'x'; 10_000];
    assert_eq!(sanitised_excerpt(&long).len(), EXCERPT_MAX_CHARS);
    assert_eq!(sanitised_excerpt(b"\r\n\r\n"), "");
    assert_eq!(sanitised_excerpt(&[0xff, 0xfe, b'a']), "..a");
}

#[test]
fn facts_serialise_in_snake_case() {
    let outcome = LegacyOutcome {
        version: LegacyVersion::Tls1_1,
        accepted: false,
        answer: LegacyAnswer::OtherVersion,
        negotiated: None,
        alert: None,
        detail: String::new(),
    };
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["version"], "tls1_1");
    assert_eq!(json["answer"], "other_version");
    let err = serde_json::to_value(LegacyError::Timeout { timeout_ms: 5 }).unwrap();
    assert_eq!(err["kind"], "timeout");
    let schema = schemars::schema_for!(LegacyOutcome);
    let text = serde_json::to_string(&schema).unwrap();
    assert!(text.contains("\"accepted\""));
}

#[test]
fn names() {
    assert_eq!(version_name(0x0301), "TLS 1.0");
    assert_eq!(version_name(0x7f1c), "0x7f1c");
    assert_eq!(cipher_suite_name(0x000a), "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    assert_eq!(cipher_suite_name(0xabcd), "0xabcd");
    assert_eq!(alert_description_name(40), "handshake_failure");
    assert_eq!(alert_description_name(99), "unknown_99");
    assert_eq!(LegacyVersion::Tls1_0.to_string(), "TLS 1.0");
}

// --- Properties ------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_is_total_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_server_response(&bytes);
    }

    #[test]
    fn parse_is_total_on_tls_shaped_bytes(
        ty in 20u8..=24,
        minor in 0u8..=4,
        len in 0u16..2000,
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = vec![ty, 3, minor];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&body);
        let _ = parse_server_response(&bytes);
    }

    #[test]
    fn parse_is_total_on_mutated_server_hellos(
        flips in proptest::collection::vec((0usize..54, any::<u8>()), 1..6),
        cut in 0usize..60,
    ) {
        let mut bytes = server_hello_tls10();
        for (at, value) in flips {
            bytes[at] = value;
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = parse_server_response(&bytes);
    }

    #[test]
    fn prefixes_of_a_server_hello_never_claim_more(cut in 0usize..54) {
        let full = server_hello_tls10();
        let got = parse_server_response(&full[..cut.min(full.len())]);
        prop_assert!(matches!(got, ServerResponse::Incomplete | ServerResponse::ServerHello(_)));
    }

    #[test]
    fn client_hello_is_well_formed_for_any_name(
        name in "\\PC{0,300}",
        random in any::<[u8; 32]>(),
        tls11 in any::<bool>(),
    ) {
        let version = if tls11 { LegacyVersion::Tls1_1 } else { LegacyVersion::Tls1_0 };
        let rec = client_hello(version, &name, random);
        let d = decode_client_hello(&rec);
        prop_assert_eq!(d.client_version, version.wire());
        prop_assert_eq!(&d.random, &random.to_vec());
        if let Some(sni) = ext(&d, 0x0000) {
            let host = &sni[5..];
            prop_assert_eq!(be16(sni, 0), sni.len() - 2);
            prop_assert_eq!(be16(sni, 3), host.len());
            prop_assert!(host.len() <= 253);
            prop_assert!(name.starts_with(std::str::from_utf8(host).unwrap()));
        }
    }
}
