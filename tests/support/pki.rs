//! A throwaway PKI for the TLS tests, made with rcgen: a root CA, an intermediate CA and
//! leaves with chosen names, dates and issuer organisation. Keys are ECDSA P-256 (ring
//! cannot generate RSA keys; RSA cases use the real-nginx suite or PEM fixtures).
//!
//! ```ignore
//! let pki = Pki::builder().issuer_org("Let's Encrypt").build();
//! let leaf = pki.leaf_days(&["good.test"], -10, 80);   // valid from 10 days ago, 80 days left
//! let chain = pki.chain(&leaf);                        // leaf + intermediate
//! let ca_file = pki.write_root_pem(dir.path());        // for --ca-file
//! ```

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A certificate and its private key.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Leaf {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Root CA → intermediate CA; leaves are issued by the intermediate.
pub struct Pki {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

/// How to build a [`Pki`].
pub struct PkiBuilder {
    root_cn: String,
    org: String,
    issuer_org: String,
    intermediate_days: (i64, i64),
}

impl Default for PkiBuilder {
    fn default() -> Self {
        PkiBuilder {
            root_cn: "launchready test root".into(),
            org: "launchready tests".into(),
            issuer_org: "launchready tests".into(),
            intermediate_days: (-365, 3650),
        }
    }
}

impl PkiBuilder {
    /// The root's common name.
    pub fn root_cn(mut self, cn: &str) -> Self {
        self.root_cn = cn.into();
        self
    }

    /// The organisation (O) of the intermediate: what a leaf shows as its issuer's O
    /// (e.g. "Let's Encrypt", "DigiCert Inc").
    pub fn issuer_org(mut self, org: &str) -> Self {
        self.issuer_org = org.into();
        self
    }

    /// The intermediate's validity, in days relative to now (e.g. `(-300, 3)`: it expires
    /// in 3 days).
    pub fn intermediate_days(mut self, not_before: i64, not_after: i64) -> Self {
        self.intermediate_days = (not_before, not_after);
        self
    }

    pub fn build(self) -> Pki {
        let now = OffsetDateTime::now_utc();
        let mut root_params = ca_params(&self.root_cn, &self.org);
        root_params.not_before = now - Duration::days(3650);
        root_params.not_after = now + Duration::days(3650);
        let root = CertifiedIssuer::self_signed(root_params, key())
            .unwrap_or_else(|e| panic!("root CA: {e}"));
        let mut inter_params = ca_params("launchready test intermediate", &self.issuer_org);
        inter_params.not_before = now + Duration::days(self.intermediate_days.0);
        inter_params.not_after =
            now + Duration::days(self.intermediate_days.1) + Duration::hours(1);
        let intermediate = CertifiedIssuer::signed_by(inter_params, key(), &root)
            .unwrap_or_else(|e| panic!("intermediate CA: {e}"));
        Pki { root, intermediate }
    }
}

fn key() -> KeyPair {
    KeyPair::generate().unwrap_or_else(|e| panic!("ECDSA key: {e}"))
}

fn ca_params(cn: &str, org: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, org);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(
    names: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params =
        CertificateParams::new(names.clone()).unwrap_or_else(|e| panic!("leaf names: {e}"));
    params.distinguished_name = DistinguishedName::new();
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, first);
    }
    params.not_before = not_before;
    params.not_after = not_after;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params
}

fn pkcs8(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

impl Pki {
    pub fn builder() -> PkiBuilder {
        PkiBuilder::default()
    }

    /// Root and intermediate of "launchready tests", valid for years.
    pub fn new() -> Pki {
        PkiBuilder::default().build()
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// Writes the root certificate to `dir/root.pem` (for `--ca-file`) and returns the path.
    pub fn write_root_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("root.pem");
        std::fs::write(&path, self.root_pem())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    pub fn intermediate_der(&self) -> CertificateDer<'static> {
        self.intermediate.der().clone()
    }

    /// A leaf for `names`, issued by the intermediate, valid between the given instants.
    pub fn leaf(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Leaf {
        let key = key();
        let cert = leaf_params(names, not_before, not_after)
            .signed_by(&key, &self.intermediate)
            .unwrap_or_else(|e| panic!("leaf: {e}"));
        Leaf {
            cert: cert.der().clone(),
            key: pkcs8(&key),
        }
    }

    /// A leaf valid from `from_days` to `to_days` relative to now (e.g. `-10, 80`). An
    /// hour is added to the end so that "N days left" reads as N, not N-1, when the probe
    /// looks a few seconds later.
    pub fn leaf_days(&self, names: &[&str], from_days: i64, to_days: i64) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.leaf(
            names,
            now + Duration::days(from_days),
            now + Duration::days(to_days) + Duration::hours(1),
        )
    }

    /// What a correct server sends: the leaf, then the intermediate.
    pub fn chain(&self, leaf: &Leaf) -> Vec<CertificateDer<'static>> {
        vec![leaf.cert.clone(), self.intermediate_der()]
    }
}

/// A self-signed leaf for `names`, valid from yesterday for 30 days.
pub fn self_signed(names: &[&str]) -> Leaf {
    let now = OffsetDateTime::now_utc();
    let key = key();
    let cert = leaf_params(names, now - Duration::days(1), now + Duration::days(30))
        .self_signed(&key)
        .unwrap_or_else(|e| panic!("self-signed leaf: {e}"));
    Leaf {
        cert: cert.der().clone(),
        key: pkcs8(&key),
    }
}
