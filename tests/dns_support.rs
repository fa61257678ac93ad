//! Tests of the in-process DNS server in `tests/support/dns.rs`, queried through
//! hickory-resolver 0.26 the way the main code queries real servers.
//!
//! They also pin down how each DNS outcome surfaces as a hickory-resolver 0.26 error
//! (`hickory_resolver::net::NetError`), which the main code maps to findings:
//!
//! | outcome                       | `NetError` value                                                                   |
//! |-------------------------------|------------------------------------------------------------------------------------|
//! | NXDOMAIN                      | `Dns(DnsError::NoRecordsFound(NoRecords { response_code: NXDomain, .. }))`; `is_nx_domain()` |
//! | NOERROR, no data (NODATA)     | `Dns(DnsError::NoRecordsFound(NoRecords { response_code: NoError, .. }))`; `is_no_records_found()` but not `is_nx_domain()` |
//! | dangling CNAME (A lookup)     | NXDOMAIN as above, with `NoRecords.query.name` = the CNAME *target*                 |
//! | SERVFAIL                      | `Dns(DnsError::ResponseCode(ResponseCode::ServFail))`                               |
//! | REFUSED (name in no zone)     | `Dns(DnsError::ResponseCode(ResponseCode::Refused))`                                |
//! | no answer at all              | `NetError::Timeout` (seen after about 2x `opts.timeout` with attempts = 1)          |
//!
//! `is_no_records_found()` is true for both NXDOMAIN and NODATA: test `is_nx_domain()` first.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::str::FromStr;
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use support::dns::{Blackhole, TestDns, Zone};

/// Per-query timeout given to the resolver.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(400);

#[derive(Clone, Copy)]
enum Transport {
    /// UDP first, TCP on truncation, as a stub resolver does.
    UdpAndTcp,
    /// TCP only.
    Tcp,
}

/// A resolver that asks only `addr`: short timeout, one attempt, no cache, no hosts file.
fn resolver(addr: SocketAddr, transport: Transport) -> TokioResolver {
    let conn = |mut c: ConnectionConfig| {
        c.port = addr.port();
        c
    };
    let connections = match transport {
        Transport::UdpAndTcp => vec![conn(ConnectionConfig::udp()), conn(ConnectionConfig::tcp())],
        Transport::Tcp => vec![conn(ConnectionConfig::tcp())],
    };
    let cfg = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
        addr.ip(),
        true,
        connections,
    )]);
    let mut builder = TokioResolver::builder_with_config(cfg, TokioRuntimeProvider::default());
    let opts = builder.options_mut();
    opts.timeout = LOOKUP_TIMEOUT;
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    builder.build().expect("build the resolver")
}

/// Every test body runs under this bound so a hung server fails the test instead of the run.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("test took longer than 5 s")
}

/// 400 bytes of base64-ish key material: more than one TXT character-string can hold.
fn dkim_key() -> String {
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
        .chars()
        .cycle()
        .take(400)
        .collect()
}

fn zone() -> Zone {
    let key = dkim_key();
    let (k1, k2) = key.split_at(200);
    Zone::new(
        "example.test.",
        &format!(
            r#"
            @        A     192.0.2.10
            @        AAAA  2001:db8::10
            v4only   A     192.0.2.11
            www      CNAME alias1
            alias1   CNAME alias2.example.test.
            alias2   A     192.0.2.12
            dangling CNAME nowhere.example.test.
            apex     CNAME @
            mx-at    MX    5 @
            @        MX    20 mail2.example.test.
            @        MX    10 mail
            mail     A     192.0.2.25
            nomail   MX    0 .
            @        TXT   "v=spf1 include:_spf.example.test -all"
            multi    TXT   "part one, " "part two"
            sel._domainkey TXT ( "v=DKIM1; k=rsa; "
                                 "p={k1}"
                                 "{k2}" )
            @        CAA   0 issue "letsencrypt.org"
            @        CAA   0 iodef "mailto:x@example.test"
            "#
        ),
    )
}

fn ips(lookup: &Lookup) -> Vec<String> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

/// Each TXT record's character-strings concatenated, as SPF/DKIM/DMARC readers must do.
fn txts(lookup: &Lookup) -> Vec<String> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn no_records(err: &NetError) -> &NoRecords {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => nr,
        other => panic!("expected Dns(NoRecordsFound), got {other:?}"),
    }
}

#[tokio::test]
async fn a_and_aaaa() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let a = r.lookup("example.test.", RecordType::A).await.unwrap();
        assert_eq!(ips(&a), ["192.0.2.10"]);
        let aaaa = r.lookup("example.test.", RecordType::AAAA).await.unwrap();
        assert_eq!(ips(&aaaa), ["2001:db8::10"]);
    })
    .await;
}

#[tokio::test]
async fn cname_chain_is_followed() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let l = r.lookup("www.example.test.", RecordType::A).await.unwrap();
        // The answer holds the whole chain, in order, then the address.
        let chain: Vec<(String, String)> = l
            .answers()
            .iter()
            .map(|r| (r.name.to_string(), r.data.to_string()))
            .collect();
        assert_eq!(
            chain,
            [
                ("www.example.test.".into(), "alias1.example.test.".into()),
                ("alias1.example.test.".into(), "alias2.example.test.".into()),
                ("alias2.example.test.".into(), "192.0.2.12".into()),
            ]
        );
        // `@` in record data is the origin.
        let l = r.lookup("apex.example.test.", RecordType::A).await.unwrap();
        assert_eq!(ips(&l), ["192.0.2.10"]);
        let l = r.lookup("mx-at.example.test.", RecordType::MX).await.unwrap();
        assert_eq!(l.answers()[0].data.to_string(), "5 example.test.");
        // Asking for the CNAME itself gives only the first hop.
        let c = r.lookup("www.example.test.", RecordType::CNAME).await.unwrap();
        assert_eq!(c.answers().len(), 1);
        assert!(matches!(&c.answers()[0].data, RData::CNAME(t) if t.0.to_string() == "alias1.example.test."));
    })
    .await;
}

#[tokio::test]
async fn dangling_cname_gives_nxdomain_for_the_target() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        // The server answers NOERROR with only the CNAME (see the raw test below);
        // hickory-resolver then queries the target itself and reports its NXDOMAIN. The CNAME
        // is not in the error: the query in `NoRecords` is the target's.
        let err = r.lookup("dangling.example.test.", RecordType::A).await.unwrap_err();
        assert!(err.is_nx_domain(), "{err:?}");
        let nr = no_records(&err);
        assert_eq!(nr.response_code, ResponseCode::NXDomain);
        assert_eq!(nr.query.name().to_string(), "nowhere.example.test.");
        // To see the dangling CNAME itself, ask for the CNAME type.
        let c = r
            .lookup("dangling.example.test.", RecordType::CNAME)
            .await
            .unwrap();
        assert!(matches!(&c.answers()[0].data, RData::CNAME(t) if t.0.to_string() == "nowhere.example.test."));
    })
    .await;
}

#[tokio::test]
async fn missing_name_is_nxdomain() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let err = r
            .lookup("missing.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(err.is_nx_domain(), "{err:?}");
        assert!(err.is_no_records_found());
        let nr = no_records(&err);
        assert_eq!(nr.response_code, ResponseCode::NXDomain);
        assert_eq!(nr.query.name().to_string(), "missing.example.test.");
        // The zone's SOA comes along (authoritative negative answer).
        assert!(nr.soa.is_some());
    })
    .await;
}

#[tokio::test]
async fn existing_name_without_the_type_is_noerror_nodata() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let err = r
            .lookup("v4only.example.test.", RecordType::AAAA)
            .await
            .unwrap_err();
        assert!(!err.is_nx_domain(), "{err:?}");
        assert!(err.is_no_records_found());
        assert_eq!(no_records(&err).response_code, ResponseCode::NoError);
    })
    .await;
}

#[tokio::test]
async fn mx_and_null_mx() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let l = r.lookup("example.test.", RecordType::MX).await.unwrap();
        let mut mx: Vec<(u16, String)> = l
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_string())),
                _ => None,
            })
            .collect();
        mx.sort();
        assert_eq!(
            mx,
            [
                (10, "mail.example.test.".into()),
                (20, "mail2.example.test.".into())
            ]
        );

        let l = r
            .lookup("nomail.example.test.", RecordType::MX)
            .await
            .unwrap();
        let RData::MX(null) = &l.answers()[0].data else {
            panic!("expected MX, got {:?}", l.answers());
        };
        assert_eq!(null.preference, 0);
        assert!(
            null.exchange.is_root(),
            "null MX exchange is the root: {null:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn txt_strings_are_concatenated_and_long_dkim_keys_survive() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);

        let l = r
            .lookup("multi.example.test.", RecordType::TXT)
            .await
            .unwrap();
        let RData::TXT(t) = &l.answers()[0].data else {
            panic!("expected TXT");
        };
        assert_eq!(t.txt_data.len(), 2, "two character-strings on the wire");
        assert_eq!(txts(&l), ["part one, part two"]);

        let l = r.lookup("example.test.", RecordType::TXT).await.unwrap();
        assert_eq!(txts(&l), ["v=spf1 include:_spf.example.test -all"]);

        // A multi-line (parenthesised) TXT of 3 strings, 416 bytes in all.
        let l = r
            .lookup("sel._domainkey.example.test.", RecordType::TXT)
            .await
            .unwrap();
        let RData::TXT(t) = &l.answers()[0].data else {
            panic!("expected TXT");
        };
        assert_eq!(t.txt_data.len(), 3);
        assert_eq!(txts(&l), [format!("v=DKIM1; k=rsa; p={}", dkim_key())]);
    })
    .await;
}

#[tokio::test]
async fn caa_issue_and_iodef() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let l = r.lookup("example.test.", RecordType::CAA).await.unwrap();
        let mut caa: Vec<(u8, String, String)> = l
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::CAA(c) => Some((
                    c.flags(),
                    c.tag.clone(),
                    String::from_utf8_lossy(&c.value).into_owned(),
                )),
                _ => None,
            })
            .collect();
        caa.sort();
        assert_eq!(
            caa,
            [
                (0, "iodef".into(), "mailto:x@example.test".into()),
                (0, "issue".into(), "letsencrypt.org".into()),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn name_outside_every_zone_is_refused() {
    within(async {
        let dns = TestDns::start(vec![zone()]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        // Only asked of the local server; `.test` itself is served (an empty zone).
        let err = r.lookup("other.example.", RecordType::A).await.unwrap_err();
        assert!(
            matches!(
                err,
                NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))
            ),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn servfail_name() {
    within(async {
        let dns = TestDns::start_with_servfail(vec![zone()], vec!["example.test."]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let err = r.lookup("example.test.", RecordType::A).await.unwrap_err();
        assert!(
            matches!(
                err,
                NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))
            ),
            "{err:?}"
        );
        // Only that name: the others still answer.
        let l = r.lookup("mail.example.test.", RecordType::A).await.unwrap();
        assert_eq!(ips(&l), ["192.0.2.25"]);
    })
    .await;
}

#[tokio::test]
async fn silent_name_times_out_while_others_answer() {
    within(async {
        let dns = TestDns::start_with_silent(vec![zone()], vec!["mail.example.test"]);
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let slow = r.lookup("mail.example.test.", RecordType::A);
        let fast = r.lookup("example.test.", RecordType::A);
        let started = Instant::now();
        let (slow, fast) = tokio::join!(slow, fast);
        assert_eq!(ips(&fast.unwrap()), ["192.0.2.10"]);
        let err = slow.unwrap_err();
        assert!(matches!(err, NetError::Timeout), "{err:?}");
        assert!(started.elapsed() >= LOOKUP_TIMEOUT);
    })
    .await;
}

#[tokio::test]
async fn builder_combines_zones_servfail_and_silence() {
    within(async {
        let dns = TestDns::builder()
            .zone(zone())
            .zone(Zone::new("other.test.", "@ A 192.0.2.99"))
            .servfail("www.example.test.")
            .silent("v4only.example.test.")
            .start();
        let r = resolver(dns.addr(), Transport::UdpAndTcp);
        let other = r.lookup("other.test.", RecordType::A).await.unwrap();
        assert_eq!(ips(&other), ["192.0.2.99"]);
        let err = r
            .lookup("www.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))
            ),
            "{err:?}"
        );
        let err = r
            .lookup("v4only.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::Timeout), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn blackhole_times_out() {
    within(async {
        let hole = Blackhole::start();
        for transport in [Transport::UdpAndTcp, Transport::Tcp] {
            let r = resolver(hole.addr(), transport);
            let started = Instant::now();
            let err = r.lookup("example.test.", RecordType::A).await.unwrap_err();
            assert!(matches!(err, NetError::Timeout), "{err:?}");
            assert!(started.elapsed() >= LOOKUP_TIMEOUT);
        }
    })
    .await;
}

#[tokio::test]
async fn tcp_queries_work() {
    within(async {
        let dns = TestDns::builder()
            .zone(zone())
            .servfail("www.example.test.")
            .silent("v4only.example.test.")
            .start();
        let r = resolver(dns.addr(), Transport::Tcp);
        let l = r.lookup("example.test.", RecordType::A).await.unwrap();
        assert_eq!(ips(&l), ["192.0.2.10"]);
        let l = r
            .lookup("sel._domainkey.example.test.", RecordType::TXT)
            .await
            .unwrap();
        assert_eq!(txts(&l), [format!("v=DKIM1; k=rsa; p={}", dkim_key())]);
        let err = r
            .lookup("missing.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(err.is_nx_domain(), "{err:?}");
        let err = r
            .lookup("www.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))
            ),
            "{err:?}"
        );
        let err = r
            .lookup("v4only.example.test.", RecordType::A)
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::Timeout), "{err:?}");
    })
    .await;
}

/// One raw UDP query with blocking std sockets: no tokio runtime in this test at all.
fn raw_query(addr: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut query = Message::new(0x4242, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    socket.send_to(&query.to_vec().unwrap(), addr).unwrap();
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).expect("an answer within 2 s");
    Message::from_vec(&buf[..len]).unwrap()
}

#[test]
fn works_from_a_plain_test_without_a_runtime() {
    let dns = TestDns::start(vec![zone()]);
    assert_eq!(
        dns.resolver_arg(),
        format!("127.0.0.1:{}", dns.addr().port())
    );

    let answer = raw_query(dns.addr(), "example.test.", RecordType::A);
    assert_eq!(answer.metadata.id, 0x4242);
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert!(answer.metadata.authoritative);
    assert_eq!(answer.answers[0].data.to_string(), "192.0.2.10");

    // On the wire, hickory-server answers a dangling CNAME with NOERROR and just the CNAME
    // (BIND would say NXDOMAIN, per RFC 6604). A stub resolver then asks for the target itself.
    let answer = raw_query(dns.addr(), "dangling.example.test.", RecordType::A);
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert_eq!(answer.answers.len(), 1);
    assert!(matches!(answer.answers[0].data, RData::CNAME(_)));
}

#[test]
fn dropping_the_server_closes_its_port() {
    let dns = TestDns::start(vec![zone()]);
    let addr = dns.addr();
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).expect("TCP port open");
    drop(dns);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "the TCP port still accepts after drop"
    );
}

#[test]
fn zone_defaults_and_explicit_soa() {
    // No SOA/NS in the text: defaults are added; with them, the text's own are kept.
    let dns = TestDns::start(vec![
        Zone::new("a.test.", "www A 192.0.2.1"),
        Zone::new(
            "b.test.",
            "$TTL 60
             @ SOA ns.b.test. admin.b.test. 7 3600 600 86400 60
             @ NS ns.b.test.
             ns A 192.0.2.53",
        ),
    ]);
    let soa = raw_query(dns.addr(), "a.test.", RecordType::SOA);
    assert_eq!(
        soa.answers[0].data.to_string(),
        "ns1.a.test. hostmaster.a.test. 1 3600 600 86400 300"
    );
    let ns = raw_query(dns.addr(), "a.test.", RecordType::NS);
    assert_eq!(ns.answers[0].data.to_string(), "ns1.a.test.");
    let soa = raw_query(dns.addr(), "b.test.", RecordType::SOA);
    assert_eq!(soa.answers[0].ttl, 60);
    assert_eq!(
        soa.answers[0].data.to_string(),
        "ns.b.test. admin.b.test. 7 3600 600 86400 60"
    );
}

#[test]
#[should_panic(expected = "exceeds 255 bytes")]
fn a_txt_string_over_255_bytes_is_rejected_when_building_the_zone() {
    Zone::new("example.test.", &format!("@ TXT \"{}\"", "x".repeat(256)));
}

#[test]
#[should_panic(expected = "does not parse")]
fn bad_zone_text_panics_with_the_parser_message() {
    Zone::new("example.test.", "@ A not-an-address");
}
