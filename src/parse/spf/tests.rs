//! Tests of the SPF parser: RFC 7208's own examples, edges, and no panic on any input.

use super::*;
use proptest::prelude::*;

fn ok(txt: &str) -> SpfRecord {
    match parse_spf(txt) {
        Ok(r) => r,
        Err(e) => panic!("{txt:?} should parse: {e}"),
    }
}

fn err(txt: &str) -> String {
    match parse_spf(txt) {
        Ok(r) => panic!("{txt:?} should fail, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

fn mechs(r: &SpfRecord) -> Vec<&Mechanism> {
    r.terms.iter().filter_map(|t| t.mechanism()).collect()
}

fn spec(raw: &str, has_macros: bool) -> DomainSpec {
    DomainSpec {
        raw: raw.to_string(),
        has_macros,
    }
}

#[test]
fn is_spf_record_checks_the_version_boundary() {
    assert!(is_spf_record("v=spf1"));
    assert!(is_spf_record("v=spf1 -all"));
    assert!(is_spf_record("V=SPF1 -all"));
    assert!(is_spf_record("  v=spf1 -all"));
    assert!(!is_spf_record("v=spf10"));
    assert!(!is_spf_record("v=spf1-all"));
    assert!(!is_spf_record("v=spf1\t-all"));
    assert!(!is_spf_record("v=spf2.0/pra"));
    assert!(!is_spf_record("spf1"));
    assert!(!is_spf_record(""));
    assert!(!is_spf_record("v=sp\u{e9}1"));
    assert!(!is_spf_record("google-site-verification=abc"));
}

// RFC 7208 Appendix A.1 (simple examples).
#[test]
fn rfc7208_appendix_a1() {
    for txt in [
        "v=spf1 +all",
        "v=spf1 a -all",
        "v=spf1 a:example.org -all",
        "v=spf1 mx -all",
        "v=spf1 mx:example.org -all",
        "v=spf1 mx mx:example.org -all",
        "v=spf1 mx/30 mx:example.org/30 -all",
        "v=spf1 ptr -all",
        "v=spf1 ip4:192.0.2.128/28 -all",
    ] {
        let r = ok(txt);
        assert!(r.all_qualifier().is_some(), "{txt}");
    }
    assert_eq!(ok("v=spf1 +all").all_qualifier(), Some(Qualifier::Pass));
    assert_eq!(ok("v=spf1 a -all").all_qualifier(), Some(Qualifier::Fail));
    let r = ok("v=spf1 mx/30 mx:example.org/30 -all");
    assert_eq!(
        mechs(&r),
        [
            &Mechanism::Mx {
                domain: None,
                ip4_cidr: Some(30),
                ip6_cidr: None
            },
            &Mechanism::Mx {
                domain: Some(spec("example.org", false)),
                ip4_cidr: Some(30),
                ip6_cidr: None
            },
            &Mechanism::All,
        ]
    );
    let r = ok("v=spf1 ip4:192.0.2.128/28 -all");
    assert_eq!(
        mechs(&r)[0],
        &Mechanism::Ip4 {
            address: Ipv4Addr::new(192, 0, 2, 128),
            prefix: Some(28)
        }
    );
}

#[test]
fn rfc7208_colo_example() {
    let r = ok("v=spf1 +mx a:colo.example.com/28 -all");
    assert_eq!(r.terms.len(), 3);
    assert_eq!(r.terms[0].qualifier(), Some(Qualifier::Pass));
    assert_eq!(
        r.terms[0].kind,
        SpfTermKind::Directive {
            qualifier: Qualifier::Pass,
            explicit_qualifier: true,
            mechanism: Mechanism::Mx {
                domain: None,
                ip4_cidr: None,
                ip6_cidr: None
            }
        }
    );
    assert_eq!(
        r.terms[1].mechanism(),
        Some(&Mechanism::A {
            domain: Some(spec("colo.example.com", false)),
            ip4_cidr: Some(28),
            ip6_cidr: None
        })
    );
    assert_eq!(r.terms[1].offset, 11);
    assert_eq!(r.terms[1].column, 12);
    assert_eq!(r.terms[1].text, "a:colo.example.com/28");
    assert_eq!(r.all_qualifier(), Some(Qualifier::Fail));
    assert_eq!(r.direct_lookup_count(), 2);
}

#[test]
fn minimal_records() {
    let r = ok("v=spf1 -all");
    assert_eq!(r.terms.len(), 1);
    assert_eq!(r.all_qualifier(), Some(Qualifier::Fail));
    let r = ok("v=spf1");
    assert!(r.terms.is_empty());
    assert_eq!(r.all_qualifier(), None);
    assert_eq!(r.version, "v=spf1");
}

// RFC 7208 Appendix A.2 (multiple domains).
#[test]
fn rfc7208_appendix_a2_includes_and_redirect() {
    let r = ok("v=spf1 include:example.com include:example.net -all");
    assert_eq!(
        r.includes(),
        [&spec("example.com", false), &spec("example.net", false)]
    );
    assert_eq!(r.direct_lookup_count(), 2);
    let r = ok("v=spf1 redirect=example.org");
    assert_eq!(r.redirect(), Some(&spec("example.org", false)));
    assert_eq!(r.all_qualifier(), None);
    assert!(r.terms[0].causes_dns_lookup());
}

// RFC 7208 Appendix A.3/A.4 and §7.4 macro examples.
#[test]
fn rfc7208_macro_examples() {
    let r = ok("v=spf1 mx -exists:%{ir}.sbl.example.org -all");
    assert_eq!(
        r.terms[1].kind,
        SpfTermKind::Directive {
            qualifier: Qualifier::Fail,
            explicit_qualifier: true,
            mechanism: Mechanism::Exists {
                domain: spec("%{ir}.sbl.example.org", true)
            }
        }
    );
    let r = ok("v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all");
    assert_eq!(
        r.includes(),
        [&spec("ip4._spf.%{d}", true), &spec("ptr._spf.%{d}", true)]
    );
    assert_eq!(r.all_qualifier(), Some(Qualifier::Pass));
    for spec_text in [
        "%{ir}.%{v}._spf.%{d2}",
        "%{lr-}.lp._spf.%{d2}",
        "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
        "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
        "%{d2}.trusted-domains.example.net",
        "%{s}.example.com",
        "%{o}.example.com",
        "%{d4}",
        "%{d3}",
        "%{d1}",
        "%{dr}",
        "%{d2r}",
        "%{l}.example.com",
        "%{l-}.example.com",
        "%{lr}.example.com",
        "%{l1r-}.example.com",
        "%{h}.example.com",
        "%{p}.example.com",
        "%{I}.example.com",
        "a%%b%_c%-d.example.com",
    ] {
        let txt = format!("v=spf1 exists:{spec_text} -all");
        let r = ok(&txt);
        match r.terms[0].mechanism() {
            Some(Mechanism::Exists { domain }) => {
                assert_eq!(domain.raw, spec_text);
                assert!(domain.has_macros, "{spec_text}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn exp_modifier_and_unknown_modifiers() {
    let r = ok("v=spf1 mx -all exp=explain._spf.%{d}");
    assert_eq!(r.explanation(), Some(&spec("explain._spf.%{d}", true)));
    assert!(!r.terms[2].causes_dns_lookup());
    let r = ok("v=spf1 foo.bar-baz_1=%{c}/%{t} moo= -all");
    assert_eq!(
        r.terms[0].kind,
        SpfTermKind::UnknownModifier {
            name: "foo.bar-baz_1".into(),
            value: MacroString {
                raw: "%{c}/%{t}".into(),
                has_macros: true
            }
        }
    );
    assert_eq!(
        r.terms[1].kind,
        SpfTermKind::UnknownModifier {
            name: "moo".into(),
            value: MacroString {
                raw: String::new(),
                has_macros: false
            }
        }
    );
}

#[test]
fn dual_cidr_forms() {
    let cases = [
        ("a:foo.test/24//64", Some("foo.test"), Some(24), Some(64)),
        ("a//64", None, None, Some(64)),
        ("a/0", None, Some(0), None),
        ("mx/24", None, Some(24), None),
        ("mx:foo.test//128", Some("foo.test"), None, Some(128)),
        ("a:%{d}/32", Some("%{d}"), Some(32), None),
    ];
    for (term, domain, ip4, ip6) in cases {
        let r = ok(&format!("v=spf1 {term}"));
        let (d, c4, c6) = match r.terms[0].mechanism() {
            Some(Mechanism::A {
                domain,
                ip4_cidr,
                ip6_cidr,
            })
            | Some(Mechanism::Mx {
                domain,
                ip4_cidr,
                ip6_cidr,
            }) => (domain.clone(), *ip4_cidr, *ip6_cidr),
            other => panic!("{other:?}"),
        };
        assert_eq!(d.map(|d| d.raw), domain.map(String::from), "{term}");
        assert_eq!((c4, c6), (ip4, ip6), "{term}");
    }
}

#[test]
fn ip6_networks() {
    let r = ok("v=spf1 ip6:2001:db8::/32 ip6:::1 ip6:::ffff:192.0.2.1/128 -all");
    assert_eq!(
        mechs(&r)[0],
        &Mechanism::Ip6 {
            address: "2001:db8::".parse().unwrap(),
            prefix: Some(32)
        }
    );
    assert_eq!(
        mechs(&r)[1],
        &Mechanism::Ip6 {
            address: Ipv6Addr::LOCALHOST,
            prefix: None
        }
    );
    assert_eq!(r.direct_lookup_count(), 0);
}

#[test]
fn whitespace_and_case() {
    let r = ok("v=spf1   mx    -all   ");
    assert_eq!(r.terms.len(), 2);
    assert_eq!(r.terms[1].offset, 15);
    assert_eq!(r.terms[1].column, 16);
    let r = ok("v=spf1 mx -all\r\n");
    assert_eq!(r.terms.len(), 2);
    let r = ok("V=SPF1 MX INCLUDE:_spf.Example.COM Ip4:192.0.2.1 -ALL REDIRECT=x.test");
    assert_eq!(r.version, "V=SPF1");
    assert_eq!(r.includes(), [&spec("_spf.Example.COM", false)]);
    assert_eq!(r.all_qualifier(), Some(Qualifier::Fail));
    assert_eq!(r.redirect(), Some(&spec("x.test", false)));
    assert_eq!(parse_spf("  v=spf1 -all"), Err(SpfError::LeadingWhitespace));
}

#[test]
fn qualifiers() {
    let r = ok("v=spf1 +a -a ~a ?a a");
    let q: Vec<_> = r.terms.iter().filter_map(|t| t.qualifier()).collect();
    assert_eq!(
        q,
        [
            Qualifier::Pass,
            Qualifier::Fail,
            Qualifier::SoftFail,
            Qualifier::Neutral,
            Qualifier::Pass
        ]
    );
    assert_eq!(
        r.terms.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
        ["+a", "-a", "~a", "?a", "a"]
    );
    assert_eq!(Qualifier::SoftFail.as_char(), '~');
    assert_eq!(ok("v=spf1 ~all").all_qualifier(), Some(Qualifier::SoftFail));
    assert_eq!(ok("v=spf1 ?all").all_qualifier(), Some(Qualifier::Neutral));
}

#[test]
fn causes_dns_lookup_per_rfc7208_4_6_4() {
    let r = ok(
        "v=spf1 include:a.test a mx ptr exists:%{i}.x.test ip4:192.0.2.1 ip6:::1 all exp=e.test x=y redirect=r.test",
    );
    let got: Vec<bool> = r.terms.iter().map(SpfTerm::causes_dns_lookup).collect();
    assert_eq!(
        got,
        [
            true, true, true, true, true, false, false, false, false, false, true
        ]
    );
    assert_eq!(r.direct_lookup_count(), 6);
}

#[test]
fn error_two_redirects() {
    assert_eq!(
        parse_spf("v=spf1 redirect=a.test redirect=b.test"),
        Err(SpfError::DuplicateModifier {
            name: "redirect",
            term: "redirect=b.test".into(),
            offset: 23,
            column: 24
        })
    );
    assert_eq!(
        err("v=spf1 redirect=a.test redirect=b.test"),
        "second redirect= modifier \"redirect=b.test\" at column 24: redirect= may appear at most once (RFC 7208 §6)"
    );
    assert_eq!(
        err("v=spf1 exp=a.test EXP=b.test"),
        "second exp= modifier \"EXP=b.test\" at column 19: exp= may appear at most once (RFC 7208 §6)"
    );
}

#[test]
fn error_bad_ip4() {
    assert_eq!(
        err("v=spf1 ip4:300.1.1.1 -all"),
        "invalid IPv4 address in \"ip4:300.1.1.1\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ip4:1.2.3.4/33"),
        "invalid CIDR length in \"ip4:1.2.3.4/33\" at column 8: /33 is out of range 0-32"
    );
    assert_eq!(
        err("v=spf1 ip4:"),
        "invalid IPv4 address in \"ip4:\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ip4"),
        "invalid IPv4 address in \"ip4\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ip4:1.2.3"),
        "invalid IPv4 address in \"ip4:1.2.3\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ip4:1.2.3.4/"),
        "invalid CIDR length in \"ip4:1.2.3.4/\" at column 8: empty length after \"/\""
    );
    assert_eq!(
        err("v=spf1 ip4:1.2.3.4/024"),
        "invalid CIDR length in \"ip4:1.2.3.4/024\" at column 8: leading zero in /024"
    );
    assert_eq!(
        err("v=spf1 ip4:1.2.3.4//24"),
        "invalid CIDR length in \"ip4:1.2.3.4//24\" at column 8: \"/24\" is not a number"
    );
    assert_eq!(
        err("v=spf1 ip4:::1"),
        "invalid IPv4 address in \"ip4:::1\" at column 8"
    );
}

#[test]
fn error_bad_ip6() {
    assert_eq!(
        err("v=spf1 ip6:2001:db8::/129"),
        "invalid CIDR length in \"ip6:2001:db8::/129\" at column 8: /129 is out of range 0-128"
    );
    assert_eq!(
        err("v=spf1 ip6:192.0.2.1"),
        "invalid IPv6 address in \"ip6:192.0.2.1\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ip6:99999999999999999999999::/1"),
        "invalid IPv6 address in \"ip6:99999999999999999999999::/1\" at column 8"
    );
}

#[test]
fn error_unknown_mechanism() {
    assert_eq!(
        err("v=spf1 inclde:foo.test -all"),
        "unknown mechanism \"inclde:foo.test\" at column 8"
    );
    assert_eq!(
        parse_spf("v=spf1 inclde:x"),
        Err(SpfError::UnknownMechanism {
            term: "inclde:x".into(),
            offset: 7,
            column: 8
        })
    );
    assert_eq!(err("v=spf1 -"), "unknown mechanism \"-\" at column 8");
    assert_eq!(
        err("v=spf1 redirect:foo.test"),
        "unknown mechanism \"redirect:foo.test\" at column 8"
    );
    assert_eq!(
        err("v=spf1 mx -all spf2"),
        "unknown mechanism \"spf2\" at column 16"
    );
}

#[test]
fn error_all_with_argument() {
    assert_eq!(
        err("v=spf1 all:foo"),
        "mechanism \"all\" takes no argument: \"all:foo\" at column 8"
    );
    assert_eq!(
        err("v=spf1 -all/24"),
        "mechanism \"all\" takes no argument: \"-all/24\" at column 8"
    );
    assert_eq!(
        err("v=spf1 ptr/24"),
        "mechanism \"ptr\" takes no CIDR length: \"ptr/24\" at column 8"
    );
}

#[test]
fn error_bad_macro() {
    assert_eq!(
        err("v=spf1 exists:%{z}.foo.test"),
        "invalid macro in \"exists:%{z}.foo.test\" at column 8: unknown macro letter 'z'"
    );
    assert!(matches!(
        parse_spf("v=spf1 a:%{z}.foo.test"),
        Err(SpfError::InvalidMacro { offset: 7, .. })
    ));
    for (txt, reason) in [
        ("v=spf1 a:%{d0}", "macro digit transformer must not be zero"),
        ("v=spf1 a:%{d", "unterminated macro \"%{d\""),
        (
            "v=spf1 a:%{}.x.test",
            "missing macro letter in \"%{}.x.test\"",
        ),
        ("v=spf1 a:%{d2x}", "unexpected 'x' in macro \"%{d2x}\""),
        (
            "v=spf1 a:x%y.test",
            "\"%\" must be followed by \"{\", \"%\", \"_\" or \"-\", not 'y'",
        ),
        (
            "v=spf1 a:x.test%",
            "\"%\" at the end (write \"%%\" for a percent sign)",
        ),
        (
            "v=spf1 exists:%{c}.x.test",
            "macro letter 'c' is only allowed in explanation text (RFC 7208 §7.2)",
        ),
        (
            "v=spf1 exp=%{t}.x.test",
            "macro letter 't' is only allowed in explanation text (RFC 7208 §7.2)",
        ),
        ("v=spf1 x=%{q}", "unknown macro letter 'q'"),
    ] {
        let e = parse_spf(txt).unwrap_err();
        match &e {
            SpfError::InvalidMacro { reason: r, .. } => assert_eq!(r, reason, "{txt}"),
            other => panic!("{txt}: {other:?}"),
        }
    }
}

#[test]
fn error_domain_specs() {
    assert_eq!(
        err("v=spf1 include:"),
        "missing domain-spec in \"include:\" at column 8"
    );
    assert_eq!(
        err("v=spf1 include"),
        "missing domain-spec in \"include\" at column 8"
    );
    assert_eq!(
        err("v=spf1 exists:"),
        "missing domain-spec in \"exists:\" at column 8"
    );
    assert_eq!(
        err("v=spf1 redirect="),
        "missing domain-spec in \"redirect=\" at column 8"
    );
    assert_eq!(
        err("v=spf1 a:"),
        "missing domain-spec in \"a:\" at column 8"
    );
    assert_eq!(
        err("v=spf1 include:localhost"),
        "invalid domain-spec in \"include:localhost\" at column 8: \"localhost\" must end with \".\" and a top-level label, or with a macro"
    );
    assert_eq!(
        err("v=spf1 include:192.0.2.1"),
        "invalid domain-spec in \"include:192.0.2.1\" at column 8: \"1\" is not a valid top-level label"
    );
    assert_eq!(
        err("v=spf1 a:foo..test"),
        "invalid domain-spec in \"a:foo..test\" at column 8: empty label"
    );
    assert_eq!(
        err("v=spf1 a:foo.test/"),
        "invalid domain-spec in \"a:foo.test/\" at column 8: \"test/\" is not a valid top-level label"
    );
    let long = format!("v=spf1 a:{}.test", "x".repeat(64));
    assert!(matches!(
        parse_spf(&long),
        Err(SpfError::InvalidDomainSpec { .. })
    ));
    // Trailing dot and numeric labels with a hyphen are allowed.
    ok("v=spf1 include:_spf.example.com. a:x.123-4");
}

#[test]
fn error_modifiers() {
    assert_eq!(
        err("v=spf1 -redirect=a.test"),
        "modifier \"-redirect=a.test\" at column 8 cannot have a qualifier"
    );
    assert_eq!(
        err("v=spf1 1x=y"),
        "invalid modifier name in \"1x=y\" at column 8"
    );
    assert_eq!(
        err("v=spf1 =y"),
        "invalid modifier name in \"=y\" at column 8"
    );
}

#[test]
fn error_non_spf_and_bad_characters() {
    assert_eq!(parse_spf("v=spf10 -all"), Err(SpfError::NotSpf));
    assert_eq!(parse_spf(""), Err(SpfError::NotSpf));
    assert_eq!(
        err("v=spf1 mx\t-all"),
        "invalid character '\\t' in \"mx\\t-all\" at column 10"
    );
    assert_eq!(
        parse_spf("v=spf1 a:é.test -all"),
        Err(SpfError::InvalidCharacter {
            term: "a:é.test".into(),
            ch: 'é',
            offset: 9,
            column: 10
        })
    );
    // Columns count characters, not bytes.
    assert_eq!(
        parse_spf("v=spf1 a:é.test inclde:x"),
        Err(SpfError::InvalidCharacter {
            term: "a:é.test".into(),
            ch: 'é',
            offset: 9,
            column: 10
        })
    );
    let e = parse_spf("v=spf1 x=é inclde:x").unwrap_err();
    assert_eq!(e.offset(), Some(9));
    assert_eq!(e.term(), Some("x=é"));
}

#[test]
fn serializes_with_lowercase_tags() {
    let r = ok("v=spf1 ~all");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["terms"][0]["kind"]["type"], "directive");
    assert_eq!(json["terms"][0]["kind"]["qualifier"], "softfail");
    assert_eq!(json["terms"][0]["kind"]["mechanism"]["name"], "all");
    let r = ok("v=spf1 ip4:192.0.2.0/24");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["terms"][0]["kind"]["mechanism"]["name"], "ip4");
    assert_eq!(
        json["terms"][0]["kind"]["mechanism"]["address"],
        "192.0.2.0"
    );
    let _schema = schemars::schema_for!(SpfRecord);
}

fn term_strategy() -> impl Strategy<Value = String> {
    let domain = "[a-z][a-z0-9-]{0,8}[a-z0-9]\\.[a-z]{2,6}";
    let macro_domain = prop_oneof![
        Just("%{ir}.%{v}._spf.%{d2}".to_string()),
        Just("%{l1r-}.lp.%{d}".to_string()),
        "[a-z]{1,5}\\.%\\{[sldiohp][1-9]{0,1}r?[.+-]{0,2}\\}",
    ];
    let domain = prop_oneof![domain.prop_map(String::from), macro_domain].boxed();
    let qual = prop_oneof![Just(""), Just("+"), Just("-"), Just("~"), Just("?")];
    let cidr4 = proptest::option::of(0u8..=32);
    let cidr6 = proptest::option::of(0u8..=128);
    let mech = prop_oneof![
        Just("all".to_string()),
        domain.clone().prop_map(|d| format!("include:{d}")),
        domain.clone().prop_map(|d| format!("exists:{d}")),
        (
            proptest::option::of(domain.clone()),
            cidr4.clone(),
            cidr6.clone()
        )
            .prop_map(|(d, c4, c6)| {
                let mut s = "a".to_string();
                if let Some(d) = d {
                    s += &format!(":{d}");
                }
                if let Some(c) = c4 {
                    s += &format!("/{c}");
                }
                if let Some(c) = c6 {
                    s += &format!("//{c}");
                }
                s
            }),
        (proptest::option::of(domain.clone()), cidr4.clone()).prop_map(|(d, c4)| {
            let mut s = "MX".to_string();
            if let Some(d) = d {
                s += &format!(":{d}");
            }
            if let Some(c) = c4 {
                s += &format!("/{c}");
            }
            s
        }),
        proptest::option::of(domain.clone()).prop_map(|d| match d {
            Some(d) => format!("ptr:{d}"),
            None => "ptr".to_string(),
        }),
        (any::<[u8; 4]>(), cidr4).prop_map(|(a, c)| {
            let addr = Ipv4Addr::from(a);
            match c {
                Some(c) => format!("ip4:{addr}/{c}"),
                None => format!("ip4:{addr}"),
            }
        }),
        (any::<[u8; 16]>(), cidr6).prop_map(|(a, c)| {
            let addr = Ipv6Addr::from(a);
            match c {
                Some(c) => format!("ip6:{addr}/{c}"),
                None => format!("ip6:{addr}"),
            }
        }),
    ];
    let directive = (qual, mech).prop_map(|(q, m)| format!("{q}{m}"));
    let unknown = "[a-z][a-z0-9._-]{0,6}=[a-z0-9.]{0,8}".prop_filter("not redirect/exp", |s| {
        let name = s.split('=').next().unwrap_or("");
        name != "redirect" && name != "exp"
    });
    prop_oneof![8 => directive, 1 => unknown]
}

proptest! {
    #[test]
    fn never_panics_on_anything(s in ".*") {
        let _ = is_spf_record(&s);
        let _ = parse_spf(&s);
        let _ = parse_spf(&format!("v=spf1 {s}"));
    }

    #[test]
    fn never_panics_on_spf_alphabet(s in "[a-zA-Z0-9:=;.%{}/+~?\\- _!,é\t]{0,80}") {
        let txt = format!("v=spf1 {s}");
        match parse_spf(&txt) {
            Ok(r) => {
                for t in &r.terms {
                    prop_assert_eq!(txt.get(t.offset..t.offset + t.text.len()), Some(t.text.as_str()));
                }
            }
            Err(e) => {
                if let (Some(off), Some(term)) = (e.offset(), e.term()) {
                    prop_assert!(txt.get(off..).is_some());
                    prop_assert!(!term.is_empty());
                }
            }
        }
    }

    #[test]
    fn rendered_valid_terms_parse(
        terms in proptest::collection::vec(term_strategy(), 0..12),
        seps in proptest::collection::vec(1usize..4, 12),
        redirect in proptest::option::of("[a-z]{1,8}\\.test"),
    ) {
        let mut txt = "v=spf1".to_string();
        for (t, n) in terms.iter().zip(&seps) {
            txt.push_str(&" ".repeat(*n));
            txt.push_str(t);
        }
        let mut expected = terms.len();
        if let Some(r) = &redirect {
            txt.push_str(&format!(" redirect={r}"));
            expected += 1;
        }
        let rec = parse_spf(&txt);
        prop_assert!(rec.is_ok(), "{txt:?}: {:?}", rec);
        let rec = rec.unwrap();
        prop_assert_eq!(rec.terms.len(), expected);
        for (t, want) in rec.terms.iter().zip(&terms) {
            prop_assert_eq!(&t.text, want);
        }
        prop_assert_eq!(rec.redirect().map(|d| d.raw.clone()), redirect);
    }
}
