//! Subdomain takeover signatures: hosting providers whose CNAME targets keep resolving
//! after the app, bucket or project behind them is deleted, and the body marker of the
//! page they answer with then. A CNAME into one of them whose target answers with its
//! marker can be claimed by anyone who creates the resource again.

/// One provider: how its CNAME targets look, and what its "nothing here" page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// A short name used in facts: `aws-s3`, `heroku`, `vercel`, `github-pages`.
    pub name: &'static str,
    /// What the missing resource is, in words.
    pub resource: &'static str,
    /// Name suffixes of its CNAME targets.
    pub suffixes: &'static [&'static str],
    /// Text of the page served when the resource does not exist (matched case-insensitively).
    pub marker: &'static str,
}

/// The providers launchready recognises.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "aws-s3",
        resource: "S3 bucket",
        suffixes: &["amazonaws.com"],
        marker: "NoSuchBucket",
    },
    Provider {
        name: "heroku",
        resource: "Heroku app",
        suffixes: &["herokuapp.com", "herokudns.com", "herokussl.com"],
        marker: "no such app",
    },
    Provider {
        name: "vercel",
        resource: "Vercel project",
        suffixes: &["vercel-dns.com", "vercel.app", "now.sh"],
        marker: "DEPLOYMENT_NOT_FOUND",
    },
    Provider {
        name: "github-pages",
        resource: "GitHub Pages site",
        suffixes: &["github.io"],
        marker: "There isn't a GitHub Pages site here",
    },
];

/// The provider a CNAME target belongs to. S3 targets are the `s3` endpoints of
/// amazonaws.com (`bucket.s3.amazonaws.com`, `bucket.s3-website-eu-west-1.amazonaws.com`).
pub fn provider_for(name: &str) -> Option<&'static Provider> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    PROVIDERS.iter().find(|p| {
        let suffix_ok = p
            .suffixes
            .iter()
            .any(|s| name == *s || name.ends_with(&format!(".{s}")));
        suffix_ok
            && (p.name != "aws-s3"
                || name
                    .split('.')
                    .any(|l| l == "s3" || l.starts_with("s3-") || l.starts_with("s3.")))
    })
}

/// The provider whose marker appears in the first bytes of a body, if any.
pub fn body_marker(body: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    PROVIDERS
        .iter()
        .find(|p| text.contains(&p.marker.to_ascii_lowercase()))
        .map(|p| p.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cname_targets_map_to_their_provider() {
        let name = |n: &str| provider_for(n).map(|p| p.name);
        assert_eq!(name("assets.s3.amazonaws.com."), Some("aws-s3"));
        assert_eq!(name("b.s3-website-eu-west-1.amazonaws.com"), Some("aws-s3"));
        assert_eq!(name("d111.cloudfront.amazonaws.com"), None);
        assert_eq!(name("old-app.herokuapp.com"), Some("heroku"));
        assert_eq!(name("cname.vercel-dns.com"), Some("vercel"));
        assert_eq!(name("acme.github.io"), Some("github-pages"));
        assert_eq!(name("notgithub.io"), None);
        assert_eq!(name("acme.test"), None);
    }

    #[test]
    fn body_markers_name_their_provider() {
        assert_eq!(
            body_marker(b"<Error><Code>NoSuchBucket</Code></Error>"),
            Some("aws-s3")
        );
        assert_eq!(body_marker(b"<title>No such app</title>"), Some("heroku"));
        assert_eq!(
            body_marker(b"The deployment could not be found. DEPLOYMENT_NOT_FOUND"),
            Some("vercel")
        );
        assert_eq!(
            body_marker(b"404 There isn't a GitHub Pages site here."),
            Some("github-pages")
        );
        assert_eq!(body_marker(b"<h1>Welcome</h1>"), None);
    }
}
