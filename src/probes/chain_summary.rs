//! Derived facts of a presented certificate chain: which certificate expires first, the
//! keys and the weakest of them, SHA-1 signatures. Pure: no I/O, no clock.
//!
//! Only the certificates a client relies on count: the leaf always, and every other
//! presented certificate except a self-signed one (a root the server sends along is
//! ignored by clients, which use their own copy, so its dates, key and signature do not
//! matter).

use schemars::JsonSchema;
use serde::Serialize;

use crate::parse::certificate::{CertificateFacts, KeyType};

/// Where a certificate sits in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leaf,
    Intermediate,
}

impl Role {
    fn of(position: usize) -> Role {
        if position == 0 {
            Role::Leaf
        } else {
            Role::Intermediate
        }
    }
}

/// The certificate of the chain that expires first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Expiring {
    /// 0 for the leaf, then the order the server sent.
    pub position: usize,
    pub role: Role,
    pub subject: String,
    pub not_after: String,
    pub days_left: i64,
    pub lifetime_days: i64,
}

/// The public key of one certificate of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ChainKey {
    pub position: usize,
    pub role: Role,
    pub subject: String,
    #[serde(rename = "type")]
    pub key_type: KeyType,
    /// Key size in bits, when known.
    pub bits: Option<u32>,
}

/// The derived facts of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    pub first_to_expire: Expiring,
    pub keys: Vec<ChainKey>,
    pub weakest_key: ChainKey,
    /// Subjects of the certificates whose signature uses SHA-1.
    pub sha1_signed: Vec<String>,
}

/// Summarises `chain` (leaf first). `None` for an empty chain.
pub fn summarise(chain: &[CertificateFacts]) -> Option<ChainSummary> {
    let counted: Vec<(usize, &CertificateFacts)> = chain
        .iter()
        .enumerate()
        .filter(|(i, c)| *i == 0 || !c.self_signed)
        .collect();
    let (first_pos, first) = counted
        .iter()
        .min_by_key(|(i, c)| (c.days_left, *i))
        .copied()?;
    let keys: Vec<ChainKey> = counted
        .iter()
        .map(|(i, c)| ChainKey {
            position: *i,
            role: Role::of(*i),
            subject: c.subject.clone(),
            key_type: c.key_type,
            bits: c.key_bits,
        })
        .collect();
    let weakest_key = keys
        .iter()
        .min_by_key(|k| (strength(k.key_type, k.bits), k.position))
        .cloned()?;
    let sha1_signed = counted
        .iter()
        .filter(|(_, c)| c.sha1_signature)
        .map(|(_, c)| c.subject.clone())
        .collect();
    Some(ChainSummary {
        first_to_expire: Expiring {
            position: first_pos,
            role: Role::of(first_pos),
            subject: first.subject.clone(),
            not_after: first.not_after.clone(),
            days_left: first.days_left,
            lifetime_days: first.lifetime_days,
        },
        keys,
        weakest_key,
        sha1_signed,
    })
}

/// Approximate security strength in bits (NIST SP 800-57 part 1, table 2), to compare
/// RSA and EC keys. A key of unknown size ranks as the strongest: it is never reported as
/// the weakest on a guess.
fn strength(key_type: KeyType, bits: Option<u32>) -> u32 {
    let Some(bits) = bits else {
        return u32::MAX;
    };
    match key_type {
        KeyType::Rsa => match bits {
            15360.. => 256,
            7680.. => 192,
            3072.. => 128,
            2048.. => 112,
            1024.. => 80,
            _ => bits.saturating_mul(80) / 1024,
        },
        KeyType::Ec | KeyType::Ed25519 => bits / 2,
        KeyType::Other => u32::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(subject: &str, days_left: i64, key: (KeyType, u32), sha1: bool) -> CertificateFacts {
        CertificateFacts {
            subject: subject.to_string(),
            common_name: None,
            sans: Vec::new(),
            issuer: String::new(),
            issuer_organisation: None,
            issuer_common_name: None,
            serial: "01".into(),
            not_before: "2026-01-01T00:00:00Z".into(),
            not_after: format!("in {days_left} days"),
            days_left,
            lifetime_days: 90,
            key_type: key.0,
            key_bits: Some(key.1),
            signature_algorithm: String::new(),
            sha1_signature: sha1,
            self_signed: false,
            is_ca: false,
        }
    }

    #[test]
    fn an_intermediate_expiring_first_is_named() {
        let chain = vec![
            cert("CN=leaf", 60, (KeyType::Ec, 256), false),
            cert("CN=inter", 5, (KeyType::Ec, 384), false),
        ];
        let s = summarise(&chain).unwrap();
        assert_eq!(s.first_to_expire.position, 1);
        assert_eq!(s.first_to_expire.role, Role::Intermediate);
        assert_eq!(s.first_to_expire.subject, "CN=inter");
        assert_eq!(s.first_to_expire.days_left, 5);
    }

    #[test]
    fn a_self_signed_root_sent_along_is_ignored_but_a_self_signed_leaf_counts() {
        let mut root = cert("CN=root", 1, (KeyType::Rsa, 1024), true);
        root.self_signed = true;
        let chain = vec![cert("CN=leaf", 60, (KeyType::Rsa, 2048), false), root];
        let s = summarise(&chain).unwrap();
        assert_eq!(s.first_to_expire.subject, "CN=leaf");
        assert_eq!(s.keys.len(), 1);
        assert_eq!(s.weakest_key.bits, Some(2048));
        assert!(s.sha1_signed.is_empty());

        let mut leaf = cert("CN=self", 3, (KeyType::Rsa, 1024), true);
        leaf.self_signed = true;
        let s = summarise(&[leaf]).unwrap();
        assert_eq!(s.first_to_expire.role, Role::Leaf);
        assert_eq!(s.weakest_key.bits, Some(1024));
        assert_eq!(s.sha1_signed, ["CN=self"]);
    }

    #[test]
    fn weakest_key_compares_rsa_and_ec_by_strength() {
        let chain = vec![
            cert("CN=leaf", 60, (KeyType::Ec, 256), false),
            cert("CN=inter", 600, (KeyType::Rsa, 2048), false),
        ];
        let s = summarise(&chain).unwrap();
        assert_eq!(s.weakest_key.subject, "CN=inter", "RSA-2048 < P-256");
        let chain = vec![
            cert("CN=leaf", 60, (KeyType::Ec, 224), false),
            cert("CN=inter", 600, (KeyType::Rsa, 2048), false),
        ];
        assert_eq!(summarise(&chain).unwrap().weakest_key.subject, "CN=leaf");
        let mut unknown = cert("CN=odd", 60, (KeyType::Rsa, 0), false);
        unknown.key_bits = None;
        let chain = vec![unknown, cert("CN=inter", 600, (KeyType::Rsa, 4096), false)];
        assert_eq!(summarise(&chain).unwrap().weakest_key.subject, "CN=inter");
    }

    #[test]
    fn empty_chain_has_no_summary() {
        assert!(summarise(&[]).is_none());
    }
}
