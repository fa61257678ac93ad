//! How the email probes ask DNS: a small trait over [`Dns`] so that the walks made of
//! many lookups (the SPF include tree) can be tested against a table of answers, a time
//! budget for such walks, and the shape in which one failed lookup among many is kept
//! in the facts (a failure is never turned into "missing").

use crate::net::queue_time::Budget;
use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;

use super::Cause;
use crate::net::dns::{Dns, DnsAnswer, DnsError, DnsFailure, DnsRecord, RecordKind};

/// Something that answers DNS questions the way [`Dns::query`] does.
pub trait Resolver {
    fn query(
        &self,
        name: &str,
        kind: RecordKind,
    ) -> impl Future<Output = Result<DnsAnswer, DnsError>>;
}

impl Resolver for Dns {
    fn query(
        &self,
        name: &str,
        kind: RecordKind,
    ) -> impl Future<Output = Result<DnsAnswer, DnsError>> {
        Dns::query(self, name, kind)
    }
}

/// One lookup, given up as a timeout when `budget` is spent first (time queued under
/// `--dns-rate` is not counted: see `queue_time`). A walk of many lookups uses this to
/// stop in time and keep what it has counted.
pub async fn query_by<R: Resolver>(
    resolver: &R,
    name: &str,
    kind: RecordKind,
    budget: Option<&Budget>,
) -> Result<DnsAnswer, DnsError> {
    let lookup = resolver.query(name, kind);
    match budget {
        None => lookup.await,
        Some(budget) => match budget.run(lookup).await {
            Ok(result) => result,
            Err(spent) => Err(DnsError {
                name: name.to_string(),
                kind: kind.as_str(),
                failure: DnsFailure::Timeout,
                message: format!("no answer within the probe's time budget{}", spent.note()),
            }),
        },
    }
}

/// A lookup that failed (timeout, SERVFAIL, ...), as kept in the facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LookupFailure {
    /// The name asked.
    pub name: String,
    /// The record type asked (`TXT`, `MX`, ...).
    pub record_type: String,
    pub cause: Cause,
    pub message: String,
}

impl From<&DnsError> for LookupFailure {
    fn from(e: &DnsError) -> Self {
        let cause = super::ProbeError::from(e.clone()).cause;
        LookupFailure {
            name: e.name.clone(),
            record_type: e.kind.to_string(),
            cause,
            message: crate::core::text::truncate(&e.to_string(), 200),
        }
    }
}

/// The texts of the TXT records of an answer, in the order given.
pub fn txt_records(answer: &DnsAnswer) -> Vec<String> {
    answer
        .records()
        .iter()
        .filter_map(|r| match r {
            DnsRecord::Txt { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// How an answer is named in facts: `records`, `nodata` or `nxdomain`.
pub fn answer_kind(answer: &DnsAnswer) -> &'static str {
    match answer {
        DnsAnswer::Records { .. } => "records",
        DnsAnswer::NoData => "nodata",
        DnsAnswer::NxDomain => "nxdomain",
    }
}

/// A table of answers standing in for DNS in unit tests. A name and type not in the
/// table is NXDOMAIN.
#[cfg(test)]
pub mod fake {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct FakeDns {
        answers: BTreeMap<(String, RecordKind), Result<DnsAnswer, DnsError>>,
        /// Every question asked, in order.
        pub asked: Mutex<Vec<(String, RecordKind)>>,
    }

    impl FakeDns {
        pub fn new() -> FakeDns {
            FakeDns::default()
        }

        /// TXT records at `name`, one entry per record.
        pub fn txt(mut self, name: &str, records: &[&str]) -> FakeDns {
            let records = records
                .iter()
                .map(|t| DnsRecord::Txt {
                    text: t.to_string(),
                    strings: 1,
                })
                .collect();
            self.answers.insert(
                (name.to_string(), RecordKind::Txt),
                Ok(DnsAnswer::Records { records }),
            );
            self
        }

        pub fn a(mut self, name: &str, address: &str) -> FakeDns {
            let records = vec![DnsRecord::A {
                address: address.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST),
            }];
            self.answers.insert(
                (name.to_string(), RecordKind::A),
                Ok(DnsAnswer::Records { records }),
            );
            self.answers
                .entry((name.to_string(), RecordKind::Aaaa))
                .or_insert(Ok(DnsAnswer::NoData));
            self
        }

        pub fn mx(mut self, name: &str, exchanges: &[(u16, &str)]) -> FakeDns {
            let records = exchanges
                .iter()
                .map(|(preference, exchange)| DnsRecord::Mx {
                    preference: *preference,
                    exchange: exchange.to_string(),
                })
                .collect();
            self.answers.insert(
                (name.to_string(), RecordKind::Mx),
                Ok(DnsAnswer::Records { records }),
            );
            self
        }

        pub fn cname(mut self, name: &str, target: &str) -> FakeDns {
            let records = vec![DnsRecord::Cname {
                target: target.to_string(),
            }];
            self.answers.insert(
                (name.to_string(), RecordKind::Cname),
                Ok(DnsAnswer::Records { records }),
            );
            self
        }

        /// The name exists but has no record of this type.
        pub fn nodata(mut self, name: &str, kind: RecordKind) -> FakeDns {
            self.answers
                .insert((name.to_string(), kind), Ok(DnsAnswer::NoData));
            self
        }

        /// Every question about `name` fails with `failure`.
        pub fn fail(mut self, name: &str, failure: DnsFailure) -> FakeDns {
            for kind in [
                RecordKind::A,
                RecordKind::Aaaa,
                RecordKind::Cname,
                RecordKind::Mx,
                RecordKind::Txt,
            ] {
                self.answers.insert(
                    (name.to_string(), kind),
                    Err(DnsError {
                        name: name.to_string(),
                        kind: kind.as_str(),
                        failure,
                        message: "no answer from the nameserver".to_string(),
                    }),
                );
            }
            self
        }

        pub fn asked(&self) -> Vec<(String, RecordKind)> {
            self.asked.lock().map(|a| a.clone()).unwrap_or_default()
        }
    }

    impl Resolver for FakeDns {
        fn query(
            &self,
            name: &str,
            kind: RecordKind,
        ) -> impl Future<Output = Result<DnsAnswer, DnsError>> {
            let name = crate::net::dns::normalise(name);
            if let Ok(mut asked) = self.asked.lock() {
                asked.push((name.clone(), kind));
            }
            // A name with names under it exists (an empty non-terminal): no data, not
            // NXDOMAIN (RFC 8020).
            let suffix = format!(".{name}");
            let has_children = self.answers.keys().any(|(n, _)| n.ends_with(&suffix));
            let answer = self.answers.get(&(name, kind)).cloned().unwrap_or({
                if has_children {
                    Ok(DnsAnswer::NoData)
                } else {
                    Ok(DnsAnswer::NxDomain)
                }
            });
            std::future::ready(answer)
        }
    }
}
