//! The SPF tree walk and its counting, against tables of answers.

use crate::net::queue_time::Budget;
use std::time::Duration;

use super::walk::{AllSource, NodeErrorKind, Outcome, TermKind, Via};
use super::*;
use crate::net::dns::DnsFailure;
use crate::probes::Cause;
use crate::probes::lookup::fake::FakeDns;

async fn run(dns: &FakeDns, domain: &str) -> SpfFacts {
    let answer = match dns.query(domain, RecordKind::Txt).await {
        Ok(a) => a,
        Err(e) => panic!("the top lookup failed in a test: {e}"),
    };
    facts(dns, domain, &answer, None).await
}

/// The over-limit world of the end-to-end test, in a table.
fn many() -> FakeDns {
    FakeDns::new()
        .txt(
            "many.test",
            &["v=spf1 a mx include:_spf.many.test include:_spf.vendor.test -all"],
        )
        .a("many.test", "192.0.2.1")
        .mx("many.test", &[(10, "mx.many.test.")])
        .txt(
            "_spf.many.test",
            &["v=spf1 include:_a.many.test include:_b.many.test include:_c.many.test ~all"],
        )
        .txt("_a.many.test", &["v=spf1 ip4:192.0.2.1 -all"])
        .txt("_b.many.test", &["v=spf1 ip4:192.0.2.2 -all"])
        .txt("_c.many.test", &["v=spf1 a:relay.many.test -all"])
        .a("relay.many.test", "192.0.2.3")
        .txt(
            "_spf.vendor.test",
            &[
                "v=spf1 include:_s1.vendor.test include:_s2.vendor.test include:_s3.vendor.test a:out.vendor.test ~all",
            ],
        )
        .txt("_s1.vendor.test", &["v=spf1 ip4:198.51.100.0/25 -all"])
        .txt(
            "_s2.vendor.test",
            &["v=spf1 ip4:198.51.100.128/25 mx:vendor.test -all"],
        )
        .txt("_s3.vendor.test", &["v=spf1 ip6:2001:db8:1::/48 -all"])
        .a("out.vendor.test", "198.51.100.9")
        .mx("vendor.test", &[(10, "mx1.vendor.test."), (20, "mx2.vendor.test.")])
}

#[tokio::test]
async fn counts_every_lookup_term_across_nested_includes() {
    // many.test         a, mx, include, include          4
    //  _spf.many.test   include x3                       3
    //   _a, _b          ip4 only                         0
    //   _c              a:relay.many.test                1
    //  _spf.vendor.test include x3, a:out.vendor.test    4
    //   _s1, _s3        ip4/ip6 only                     0
    //   _s2             mx:vendor.test                   1
    //                                            total  13
    let f = run(&many(), "many.test").await;
    assert!(f.present && !f.multiple && f.syntax_error.is_none());
    assert_eq!(f.lookups, 13);
    assert_eq!(f.void_lookups, 0);
    assert!(!f.lookups_at_least);
    assert_eq!(f.records_fetched, 9);
    let heaviest = f.heaviest_include.expect("an include");
    assert_eq!(heaviest.term, "include:_spf.vendor.test");
    assert_eq!(heaviest.lookups, 6);
    assert_eq!(heaviest.domain, "many.test");
    let tree = f.tree.expect("tree");
    assert_eq!(tree.lookups, 4);
    assert_eq!(tree.total_lookups, 13);
    let vendor = &tree.children[1];
    assert_eq!(vendor.domain, "_spf.vendor.test");
    assert_eq!(vendor.via, Via::Include);
    assert_eq!(vendor.term.as_deref(), Some("include:_spf.vendor.test"));
    assert_eq!(vendor.total_lookups, 5);
    // The mx term is the 12th counted: past the limit, counted but not queried.
    let mx = vendor.children[1]
        .terms
        .iter()
        .find(|t| t.kind == TermKind::Mx)
        .expect("mx term");
    assert_eq!(mx.outcome, Some(Outcome::NotQueried));
    assert_eq!(f.effective_all, Some(Qualifier::Fail));
    assert_eq!(f.all_source, Some(AllSource::Record));
}

#[tokio::test]
async fn the_walk_is_deterministic() {
    let a = serde_json::to_string(&run(&many(), "many.test").await).unwrap_or_default();
    let b = serde_json::to_string(&run(&many(), "many.test").await).unwrap_or_default();
    assert_eq!(a, b);
}

#[tokio::test]
async fn void_lookups_are_terms_whose_answer_is_nxdomain_or_no_data() {
    let dns = FakeDns::new()
        .txt(
            "void.test",
            &["v=spf1 a:nx1.void.test a:nodata.void.test mx:nx3.void.test include:nx4.void.test exists:ok.void.test -all"],
        )
        .nodata("nodata.void.test", RecordKind::A)
        .nodata("nodata.void.test", RecordKind::Aaaa)
        .a("ok.void.test", "127.0.0.2");
    let f = run(&dns, "void.test").await;
    assert_eq!(f.lookups, 5);
    assert_eq!(f.void_lookups, 4);
    assert_eq!(f.void_terms.len(), 4);
    let tree = f.tree.expect("tree");
    let voids: Vec<&str> = tree
        .terms
        .iter()
        .filter(|t| t.void)
        .map(|t| t.term.as_str())
        .collect();
    assert_eq!(
        voids,
        [
            "a:nx1.void.test",
            "a:nodata.void.test",
            "mx:nx3.void.test",
            "include:nx4.void.test"
        ]
    );
    // The include of a name without a record is also a permerror.
    assert_eq!(f.permerrors.len(), 1);
    assert!(
        f.permerrors[0]
            .message
            .contains("nx4.void.test has no SPF record")
    );
    assert_eq!(
        tree.children[0].error.as_ref().map(|e| e.kind),
        Some(NodeErrorKind::NoRecord)
    );
}

#[tokio::test]
async fn an_include_loop_is_detected_counted_and_not_followed_forever() {
    let dns = FakeDns::new()
        .txt("loop.test", &["v=spf1 include:_a.loop.test -all"])
        .txt("_a.loop.test", &["v=spf1 include:_b.loop.test -all"])
        .txt(
            "_b.loop.test",
            &["v=spf1 ip4:192.0.2.1 include:_a.loop.test -all"],
        );
    let f = run(&dns, "loop.test").await;
    assert_eq!(f.lookups, 3);
    assert_eq!(f.records_fetched, 3);
    assert_eq!(f.permerrors.len(), 1);
    assert_eq!(
        f.permerrors[0].message,
        "loop: loop.test -> _a.loop.test -> _b.loop.test -> _a.loop.test (receivers return permerror)"
    );
    assert_eq!(
        f.permerrors[0].term.as_deref(),
        Some("include:_a.loop.test")
    );
    // A record including itself, through redirect.
    let dns = FakeDns::new().txt("self.test", &["v=spf1 ip4:192.0.2.1 redirect=self.test"]);
    let f = run(&dns, "self.test").await;
    assert_eq!(f.permerrors.len(), 1);
    assert_eq!(f.all_source, Some(AllSource::Unknown));
}

#[tokio::test]
async fn terms_after_all_and_redirect_beside_all_are_not_counted() {
    let dns = FakeDns::new()
        .txt(
            "order.test",
            &["v=spf1 mx -all include:_late.order.test redirect=_r.order.test"],
        )
        .mx("order.test", &[(10, "mx.order.test.")]);
    let f = run(&dns, "order.test").await;
    assert_eq!(f.lookups, 1);
    assert_eq!(f.records_fetched, 1, "nothing after all is fetched");
    let tree = f.tree.expect("tree");
    assert!(
        tree.terms[2]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("after `all`")
    );
    assert!(
        tree.terms[3]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("§6.1")
    );
    assert!(!tree.terms[3].counts);
}

#[tokio::test]
async fn redirect_is_counted_followed_and_gives_the_final_all() {
    let dns = FakeDns::new()
        .txt(
            "r.test",
            &["v=spf1 ip4:192.0.2.1 redirect=_spf.provider.test"],
        )
        .txt("_spf.provider.test", &["v=spf1 a:smtp.provider.test ?all"])
        .a("smtp.provider.test", "192.0.2.9");
    let f = run(&dns, "r.test").await;
    assert_eq!(f.lookups, 2);
    assert_eq!(f.all, None);
    assert_eq!(f.effective_all, Some(Qualifier::Neutral));
    assert_eq!(f.all_source, Some(AllSource::Redirect));
    assert!(f.neutral_all, "an explicit ?all reached through redirect");
    assert_eq!(f.tree.expect("tree").children[0].via, Via::Redirect);

    // Neither all nor redirect: the default, neutral, but not an explicit ?all.
    let dns = FakeDns::new().txt("bare.test", &["v=spf1 ip4:192.0.2.1"]);
    let f = run(&dns, "bare.test").await;
    assert_eq!(f.effective_all, Some(Qualifier::Neutral));
    assert_eq!(f.all_source, Some(AllSource::Default));
    assert!(!f.neutral_all);
}

#[tokio::test]
async fn macros_are_counted_not_followed_and_make_the_count_a_lower_bound() {
    let dns = FakeDns::new().txt(
        "macro.test",
        &["v=spf1 include:%{ir}.%{v}._spf.macro.test exists:%{i}._ip.macro.test -all"],
    );
    let f = run(&dns, "macro.test").await;
    assert_eq!(f.lookups, 2);
    assert_eq!(f.macros.len(), 2);
    assert!(f.lookups_at_least, "the include's subtree is unknown");
    assert_eq!(f.records_fetched, 1);
    assert_eq!(
        dns.asked().len(),
        1,
        "only the top TXT was asked: {:?}",
        dns.asked()
    );
}

#[tokio::test]
async fn ptr_is_counted_and_flagged() {
    let dns = FakeDns::new().txt("ptr.test", &["v=spf1 ptr ptr:other.test -all"]);
    let f = run(&dns, "ptr.test").await;
    assert!(f.ptr_used);
    assert_eq!(f.ptr_domains, ["ptr.test"]);
    assert_eq!(f.lookups, 2);
    let tree = f.tree.expect("tree");
    assert_eq!(tree.terms[0].outcome, Some(Outcome::NotQueried));
}

#[tokio::test]
async fn a_nested_timeout_is_a_failed_lookup_not_a_missing_record() {
    let dns = FakeDns::new()
        .txt(
            "slow.test",
            &["v=spf1 include:_spf.slow.test include:_spf.ok.test a:web.slow.test -all"],
        )
        .fail("_spf.slow.test", DnsFailure::Timeout)
        .fail("web.slow.test", DnsFailure::Servfail)
        .txt("_spf.ok.test", &["v=spf1 mx:ok.test -all"])
        .mx("ok.test", &[(10, "mx.ok.test.")]);
    let f = run(&dns, "slow.test").await;
    assert!(f.present);
    assert_eq!(f.lookups, 4, "the failed include and a: are still counted");
    assert_eq!(f.void_lookups, 0, "a failure is not a void lookup");
    assert!(f.lookups_at_least);
    assert!(f.permerrors.is_empty(), "{:?}", f.permerrors);
    assert_eq!(f.lookup_failures.len(), 2);
    assert_eq!(f.lookup_failures[0].domain, "_spf.slow.test");
    assert_eq!(f.lookup_failures[0].cause, Some(Cause::Timeout));
    assert_eq!(
        f.lookup_failures[0].message,
        "could not look up the SPF record of _spf.slow.test (timeout)"
    );
    assert!(!f.lookup_failures[0].message.contains("no SPF record"));
    assert_eq!(
        f.lookup_failures[1].term.as_deref(),
        Some("a:web.slow.test")
    );
    assert_eq!(f.lookup_failures[1].cause, Some(Cause::Servfail));
    assert_eq!(
        f.lookup_failures[1].message,
        "could not look up A web.slow.test (servfail)"
    );
    let tree = f.tree.expect("tree");
    assert_eq!(tree.terms[0].outcome, Some(Outcome::Failed));
    assert_eq!(
        tree.children[0].error.as_ref().map(|e| e.kind),
        Some(NodeErrorKind::LookupFailed)
    );
}

#[tokio::test]
async fn an_mx_mechanism_with_more_than_ten_names_is_a_permerror() {
    let names: Vec<String> = (0..11).map(|i| format!("mx{i}.big.test.")).collect();
    let mx: Vec<(u16, &str)> = names.iter().map(|n| (10, n.as_str())).collect();
    let dns = FakeDns::new()
        .txt("big.test", &["v=spf1 mx -all"])
        .mx("big.test", &mx);
    let f = run(&dns, "big.test").await;
    assert_eq!(f.permerrors.len(), 1);
    assert!(f.permerrors[0].message.contains("11 MX names"));
}

#[tokio::test]
async fn deep_chains_stop_at_the_depth_bound_and_keep_their_counts() {
    let mut dns = FakeDns::new().txt("deep.test", &["v=spf1 include:d1.deep.test -all"]);
    for i in 1..30 {
        dns = dns.txt(
            &format!("d{i}.deep.test"),
            &[&format!("v=spf1 include:d{}.deep.test -all", i + 1)],
        );
    }
    let f = run(&dns, "deep.test").await;
    assert!(f.truncated);
    assert!(f.lookups_at_least);
    // The 11th include is counted, not followed: receivers stop there (permerror).
    assert_eq!(f.records_fetched, LOOKUP_LIMIT + 1);
    assert_eq!(f.lookups, LOOKUP_LIMIT + 1);
    assert_eq!(dns.asked().len(), LOOKUP_LIMIT + 1);
}

#[tokio::test]
async fn wide_trees_stop_at_the_record_bound() {
    let includes: Vec<String> = (0..8).map(|i| format!("include:w{i}.wide.test")).collect();
    let mut dns = FakeDns::new().txt(
        "wide.test",
        &[&format!("v=spf1 {} -all", includes.join(" "))],
    );
    for i in 0..8 {
        let inner: Vec<String> = (0..8)
            .map(|j| format!("include:w{i}x{j}.wide.test"))
            .collect();
        dns = dns.txt(
            &format!("w{i}.wide.test"),
            &[&format!("v=spf1 {} -all", inner.join(" "))],
        );
    }
    let f = run(&dns, "wide.test").await;
    assert!(f.truncated);
    // The root, its 8 includes, and the 2 includes of w0 that reach the limit of 10.
    assert_eq!(f.records_fetched, 11);
    // Every include term is still counted: 8 + 8 * 8.
    assert_eq!(f.lookups, 72);
}

#[tokio::test]
async fn the_walk_stops_resolving_once_the_lookup_limit_is_exceeded() {
    let includes: Vec<String> = (0..30).map(|i| format!("include:i{i}.big.test")).collect();
    let mut dns = FakeDns::new().txt(
        "big.test",
        &[&format!("v=spf1 {} -all", includes.join(" "))],
    );
    for i in 0..30 {
        dns = dns
            .txt(
                &format!("i{i}.big.test"),
                &[&format!("v=spf1 a:h{i}.big.test -all")],
            )
            .a(&format!("h{i}.big.test"), "192.0.2.1");
    }
    let f = run(&dns, "big.test").await;
    // 30 includes and 10 a: terms behind the followed ones, all counted.
    assert_eq!(f.lookups, 40);
    assert!(f.lookups_at_least);
    // The top TXT, then the 10 includes within the limit; no address lookups.
    assert_eq!(dns.asked().len(), 1 + LOOKUP_LIMIT, "{:?}", dns.asked());
    let tree = f.tree.expect("tree");
    assert_eq!(tree.terms[10].outcome, Some(Outcome::NotQueried));
    assert!(
        tree.terms[10]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("not queried")
    );
}

#[tokio::test]
async fn plus_all_anywhere_in_the_include_tree_lets_anyone_send() {
    let dns = FakeDns::new()
        .txt(
            "acme.test",
            &["v=spf1 ip4:192.0.2.1 include:_spf.vendor.test -all"],
        )
        .txt(
            "_spf.vendor.test",
            &["v=spf1 include:_deep.vendor.test ~all"],
        )
        .txt("_deep.vendor.test", &["v=spf1 +all"])
        .txt("neg.test", &["v=spf1 -include:_deep.vendor.test ~all"])
        .txt("any4.test", &["v=spf1 ip4:0.0.0.0/0 -all"])
        .txt("any6.test", &["v=spf1 ip6:::/0 -all"])
        .txt("noall.test", &["v=spf1 -ip4:0.0.0.0/0 ~all"])
        .txt("redir.test", &["v=spf1 redirect=_deep.vendor.test"]);
    let f = run(&dns, "acme.test").await;
    assert!(!f.plus_all, "the record's own all is -all");
    assert!(f.anyone_may_send);
    let open = &f.open_terms[0];
    assert_eq!(open.domain, "_deep.vendor.test");
    assert!(
        open.message
            .contains("through `include:_spf.vendor.test` in acme.test"),
        "{}",
        open.message
    );
    assert!(
        !run(&dns, "neg.test").await.anyone_may_send,
        "a failing include passes nobody"
    );
    assert!(run(&dns, "any4.test").await.anyone_may_send);
    assert!(run(&dns, "any6.test").await.anyone_may_send);
    assert!(!run(&dns, "noall.test").await.anyone_may_send);
    let f = run(&dns, "redir.test").await;
    assert!(f.plus_all && f.anyone_may_send);
}

#[tokio::test]
async fn very_wide_ranges_are_listed() {
    let dns = FakeDns::new()
        .txt("wide4.test", &["v=spf1 ip4:10.0.0.0/4 ip4:10.0.0.0/8 ip6:2001:db8::/16 ip6:2001:db8::/32 -ip4:0.0.0.0/1 -all"]);
    let f = run(&dns, "wide4.test").await;
    let terms: Vec<&str> = f
        .wide_ranges
        .iter()
        .filter_map(|p| p.term.as_deref())
        .collect();
    assert_eq!(terms, ["ip4:10.0.0.0/4", "ip6:2001:db8::/16"]);
    assert!(!f.anyone_may_send);
}

#[tokio::test]
async fn top_level_states() {
    let dns = FakeDns::new()
        .txt("two.test", &["v=spf1 -all", "v=spf1 ip4:192.0.2.1 -all"])
        .txt("bad.test", &["v=spf1 ip4:192.0.2.300 -all"])
        .txt("other.test", &["google-site-verification=abc"])
        .txt("none.test", &["v=spf1 -all"])
        .txt("plus.test", &["v=spf1 +all"]);
    let f = run(&dns, "two.test").await;
    assert!(f.present && f.multiple);
    assert_eq!(f.records.len(), 2);
    assert!(f.tree.is_none());

    let f = run(&dns, "bad.test").await;
    let e = f.syntax_error.expect("syntax error");
    assert_eq!(e.term.as_deref(), Some("ip4:192.0.2.300"));
    assert_eq!(e.column, Some(8));
    assert!(e.message.contains("invalid IPv4 address"), "{}", e.message);

    let f = run(&dns, "other.test").await;
    assert!(!f.present);
    assert_eq!(f.answer, "records");

    let f = run(&dns, "missing.test").await;
    assert!(!f.present);
    assert_eq!(f.answer, "nxdomain");

    let f = run(&dns, "none.test").await;
    assert!(f.reject_all);
    assert_eq!(f.lookups, 0);

    let f = run(&dns, "plus.test").await;
    assert!(f.plus_all);
    assert!(!f.reject_all);
}

#[tokio::test]
async fn the_time_budget_turns_unanswered_lookups_into_failures() {
    struct Never;
    impl Resolver for Never {
        fn query(
            &self,
            _: &str,
            _: RecordKind,
        ) -> impl std::future::Future<
            Output = Result<crate::net::dns::DnsAnswer, crate::net::dns::DnsError>,
        > {
            std::future::pending()
        }
    }
    let record = "v=spf1 include:_spf.a.test a:b.test -all";
    let answer = DnsAnswer::Records {
        records: vec![crate::net::dns::DnsRecord::Txt {
            text: record.to_string(),
            strings: 1,
        }],
    };
    let budget = Budget::start(Duration::from_millis(50));
    let f = facts(&Never, "budget.test", &answer, Some(&budget)).await;
    assert_eq!(f.lookups, 2);
    assert_eq!(f.lookup_failures.len(), 2);
    assert!(
        f.lookup_failures
            .iter()
            .all(|p| p.cause == Some(Cause::Timeout)),
        "{:?}",
        f.lookup_failures
    );
}
