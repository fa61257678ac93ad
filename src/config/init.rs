//! `launchready init`: a commented `launchready.yaml` from what a project folder holds.
//! `.env.example` keys become `vercel.required`; `.vercel/project.json` gives the Vercel
//! project and team ids; Next.js route files under `app/api/webhooks/*` or
//! `pages/api/webhooks/*` (also under `src/`) become `webhooks:` with the provider and
//! the secret's env var guessed from the path; auth callback routes (`[...nextauth]`,
//! `app/auth/callback`) become `urls:`; domains come from the command line. Reads
//! files, never writes: the command does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::project::WEBHOOK_PROVIDERS;
use crate::parse::dotenv;

/// Why a folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{file}:{line}:{column}: {message}")]
    Dotenv {
        file: String,
        line: usize,
        column: usize,
        message: &'static str,
    },
    #[error("{file}: not valid JSON at line {line}, column {column}")]
    Json {
        file: String,
        line: usize,
        column: usize,
    },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("`{0}` is not a domain name (give bare names such as acme.com)")]
    Domain(String),
}

/// What a project folder says about its infrastructure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Keys of `.env.example`, in file order.
    pub env_keys: Vec<String>,
    /// `.vercel/project.json`'s `projectId` and `orgId`.
    pub vercel_project: Option<String>,
    pub vercel_team: Option<String>,
    /// Webhook routes: (URL path, provider, secret env var, route file).
    pub webhooks: Vec<WebhookRoute>,
    /// Auth callback URL paths, with the route file that serves them.
    pub callbacks: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRoute {
    pub path: String,
    pub provider: String,
    /// What the provider was guessed as, when launchready has no scheme of that name
    /// (Svix: Clerk, Resend).
    pub guessed: Option<&'static str>,
    pub secret_env: String,
    pub file: String,
}

const ROUTE_EXTENSIONS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs"];

fn read(path: &Path) -> Result<Option<String>, InitError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(InitError::Read {
            file: path.display().to_string(),
            source: e,
        }),
    }
}

/// Looks at `dir`.
pub fn scan(dir: &Path) -> Result<Found, InitError> {
    let mut found = Found::default();
    if let Some(text) = read(&dir.join(".env.example"))? {
        let keys = dotenv::keys_only(&text).map_err(|errors| {
            let e = &errors[0];
            InitError::Dotenv {
                file: ".env.example".into(),
                line: e.line,
                column: e.column,
                message: e.message,
            }
        })?;
        for k in keys {
            if !found.env_keys.contains(&k.key) {
                found.env_keys.push(k.key);
            }
        }
    }
    if let Some(text) = read(&dir.join(".vercel").join("project.json"))? {
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| InitError::Json {
                file: ".vercel/project.json".into(),
                line: e.line(),
                column: e.column(),
            })?;
        let text_of = |k: &str| {
            value[k]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        found.vercel_project = text_of("projectId");
        found.vercel_team = text_of("orgId");
    }
    let mut webhooks = BTreeSet::new();
    let mut callbacks = BTreeSet::new();
    for root in ["", "src/"] {
        // App router: app/api/webhooks/<name>/route.ts (and deeper).
        let app = dir.join(format!("{root}app"));
        for file in route_files(&app.join("api").join("webhooks")) {
            if let Some(path) = app_route_path(&app, &file) {
                webhooks.insert((path, rel(dir, &file)));
            }
        }
        // Pages router: pages/api/webhooks/<name>.ts or <name>/index.ts.
        let pages = dir.join(format!("{root}pages"));
        for file in route_files(&pages.join("api").join("webhooks")) {
            if let Some(path) = pages_route_path(&pages, &file) {
                webhooks.insert((path, rel(dir, &file)));
            }
        }
        // Auth callbacks: NextAuth's catch-all, and app/auth/callback (Supabase and others).
        for base in [app.join("api").join("auth"), pages.join("api").join("auth")] {
            for file in route_files(&base) {
                if rel(dir, &file).contains("[...nextauth]") {
                    callbacks.insert(("/api/auth/providers".to_string(), rel(dir, &file)));
                    for p in oauth_providers(&found.env_keys) {
                        callbacks.insert((format!("/api/auth/callback/{p}"), rel(dir, &file)));
                    }
                }
            }
        }
        for file in route_files(&app.join("auth").join("callback")) {
            if let Some(path) = app_route_path(&app, &file) {
                callbacks.insert((path, rel(dir, &file)));
            }
        }
    }
    for (path, file) in webhooks {
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let (provider, guessed) = guess_provider(&name);
        found.webhooks.push(WebhookRoute {
            secret_env: secret_env(&name, provider, &found.env_keys),
            path,
            provider: provider.to_string(),
            guessed,
            file,
        });
    }
    found.callbacks = callbacks.into_iter().collect();
    Ok(found)
}

fn rel(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every route file under `dir`, sorted; none when it does not exist.
fn route_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ROUTE_EXTENSIONS.contains(&x))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Route groups `(name)` and private folders `_name` are not part of the URL.
fn url_segments(path: &Path) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    for c in path.components() {
        let s = c.as_os_str().to_str()?;
        if s.starts_with('(') && s.ends_with(')') {
            continue;
        }
        if s.starts_with('_') || s.starts_with('[') {
            // A private folder, or a dynamic segment: no fixed URL to audit.
            return None;
        }
        segments.push(s.to_string());
    }
    Some(segments)
}

/// `app/api/webhooks/stripe/route.ts` → `/api/webhooks/stripe`.
fn app_route_path(app: &Path, file: &Path) -> Option<String> {
    if file.file_stem()?.to_str()? != "route" {
        return None;
    }
    let dir = file.parent()?.strip_prefix(app).ok()?;
    Some(format!("/{}", url_segments(dir)?.join("/")))
}

/// `pages/api/webhooks/stripe.ts` or `…/stripe/index.ts` → `/api/webhooks/stripe`.
fn pages_route_path(pages: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(pages).ok()?;
    let stem = rel.file_stem()?.to_str()?;
    let dir = rel.parent()?;
    let mut segments = url_segments(dir)?;
    if stem != "index" {
        segments.extend(url_segments(Path::new(stem))?);
    }
    Some(format!("/{}", segments.join("/")))
}

/// The signing scheme a webhook route's name suggests.
fn guess_provider(name: &str) -> (&'static str, Option<&'static str>) {
    let name = name.to_ascii_lowercase();
    let svix = if WEBHOOK_PROVIDERS.contains(&"svix") {
        ("svix", None)
    } else {
        ("generic", Some("svix"))
    };
    if name.contains("stripe") {
        ("stripe", None)
    } else if name.contains("github") {
        ("github", None)
    } else if ["clerk", "resend", "svix"].iter().any(|p| name.contains(p)) {
        svix
    } else {
        ("generic", None)
    }
}

/// The env var holding a route's signing secret: one `.env.example` names (with the
/// route's name and WEBHOOK or SIGNING in it), else `<NAME>_WEBHOOK_SECRET`.
fn secret_env(name: &str, provider: &str, keys: &[String]) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let upper = upper.trim_matches('_').to_string();
    let hints = [upper.as_str(), &provider.to_ascii_uppercase()];
    keys.iter()
        .find(|k| {
            hints.iter().any(|h| !h.is_empty() && k.contains(h))
                && ["WEBHOOK", "SIGNING"].iter().any(|w| k.contains(w))
        })
        .cloned()
        .unwrap_or_else(|| {
            let base = if upper.is_empty() { "WEBHOOK" } else { &upper };
            let base = if base.starts_with(|c: char| c.is_ascii_digit()) {
                format!("WEBHOOK_{base}")
            } else {
                base.to_string()
            };
            format!("{base}_WEBHOOK_SECRET")
        })
}

/// OAuth providers whose client id `.env.example` names (`GOOGLE_CLIENT_ID`,
/// `AUTH_GITHUB_ID`…).
fn oauth_providers(keys: &[String]) -> Vec<&'static str> {
    const PROVIDERS: &[&str] = &[
        "google", "github", "gitlab", "discord", "apple", "azure", "facebook", "twitter",
        "linkedin", "slack",
    ];
    PROVIDERS
        .iter()
        .copied()
        .filter(|p| {
            let up = p.to_ascii_uppercase();
            keys.iter()
                .any(|k| k.contains(&up) && (k.ends_with("_ID") || k.ends_with("_CLIENT_ID")))
        })
        .collect()
}

fn quoted(s: &str) -> String {
    // A JSON string is a YAML double-quoted scalar.
    serde_json::Value::String(s.to_string()).to_string()
}

/// A domain as given on the command line: a bare DNS name.
pub fn check_domain(d: &str) -> Result<String, InitError> {
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok { Ok(d) } else { Err(InitError::Domain(d)) }
}

/// The commented launchready.yaml for what was found and the domains given.
pub fn render(found: &Found, project: Option<&str>, domains: &[String]) -> String {
    let mut y = String::new();
    y.push_str("# launchready.yaml, written by `launchready init`: check it, then run\n");
    y.push_str("# `launchready audit`. Secrets never go here: name the env vars that hold them.\n");
    y.push_str("# `launchready schema config` describes every key.\n");
    if let Some(p) = project {
        y.push_str(&format!("project: {}\n", quoted(p)));
    }
    let profile = if found.vercel_project.is_some() || !found.webhooks.is_empty() {
        "vercel-app"
    } else {
        "default"
    };
    y.push_str(&format!(
        "profile: {profile}                  # `launchready profiles` lists them\n"
    ));
    let base = domains.first().map(|d| format!("https://{d}"));
    if domains.is_empty() {
        y.push_str(
            "# domains: [acme.com]          # apex domains; www.<domain> is added as a host\n",
        );
    } else {
        let list: Vec<String> = domains.iter().map(|d| quoted(d)).collect();
        y.push_str(&format!(
            "domains: [{}]   # apex domains; www.<domain> is added as a host\n",
            list.join(", ")
        ));
    }

    if !found.callbacks.is_empty() {
        y.push_str("\n# Auth callback routes found in the app: each must answer over HTTPS.\n");
        let prefix = if base.is_some() { "" } else { "# " };
        if base.is_none() {
            y.push_str("# (give a domain to `launchready init` to fill these in)\n");
        }
        y.push_str(&format!("{prefix}urls:\n"));
        for (path, file) in &found.callbacks {
            let root = base.as_deref().unwrap_or("https://YOUR-DOMAIN");
            y.push_str(&format!(
                "{prefix}  - {}   # {file}\n",
                quoted(&format!("{root}{path}"))
            ));
        }
    }

    if !found.webhooks.is_empty() {
        y.push_str("\n# Webhook endpoints found in the app (provider and secret env var guessed from the path).\n");
        let prefix = if base.is_some() { "" } else { "# " };
        if base.is_none() {
            y.push_str("# (give a domain to `launchready init` to fill these in)\n");
        }
        y.push_str(&format!("{prefix}webhooks:\n"));
        for w in &found.webhooks {
            let root = base.as_deref().unwrap_or("https://YOUR-DOMAIN");
            y.push_str(&format!("{prefix}  # {}\n", w.file));
            if let Some(g) = w.guessed {
                y.push_str(&format!(
                    "{prefix}  # signed by {g}: this launchready checks it as a generic endpoint\n"
                ));
            }
            y.push_str(&format!(
                "{prefix}  - url: {}\n",
                quoted(&format!("{root}{}", w.path))
            ));
            y.push_str(&format!(
                "{prefix}    provider: {}          # {}\n",
                w.provider,
                WEBHOOK_PROVIDERS.join(" | ")
            ));
            y.push_str(&format!("{prefix}    secret_env: {}\n", w.secret_env));
            y.push_str(&format!(
                "{prefix}    send_signed: false      # true: also send a correctly signed test event\n"
            ));
        }
    }

    if found.vercel_project.is_some() || !found.env_keys.is_empty() {
        y.push_str(
            "\n# The Vercel project whose env vars are audited (token read from VERCEL_TOKEN).\n",
        );
        let prefix = if found.vercel_project.is_some() {
            ""
        } else {
            y.push_str("# (no .vercel/project.json: run `vercel link`, or fill in the project)\n");
            "# "
        };
        y.push_str(&format!("{prefix}vercel:\n"));
        y.push_str(&format!(
            "{prefix}  project: {}\n",
            quoted(found.vercel_project.as_deref().unwrap_or("my-project"))
        ));
        if let Some(team) = &found.vercel_team {
            y.push_str(&format!("{prefix}  team: {}\n", quoted(team)));
        }
        y.push_str(&format!("{prefix}  token_env: VERCEL_TOKEN\n"));
        if !found.env_keys.is_empty() {
            y.push_str(&format!(
                "{prefix}  # The keys of .env.example; `required: .env.example` follows the file instead.\n"
            ));
            y.push_str(&format!("{prefix}  required:\n"));
            for k in &found.env_keys {
                y.push_str(&format!("{prefix}    - {k}\n"));
            }
        }
        y.push_str(&format!("{prefix}  environments: [production, preview]\n"));
    }

    y.push_str("\n# email:\n#   dkim_selectors: [google, resend]   # the selectors your mail providers sign with\n#   sends_mail: true\n");
    y.push_str("# waivers:\n#   - check: dns.ipv6\n#     target: acme.com\n#     reason: Hosting has no IPv6 yet\n#     expires: 2027-03-01\n");
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_and_secrets_are_guessed_from_the_route_name() {
        assert_eq!(guess_provider("stripe").0, "stripe");
        assert_eq!(guess_provider("github-app").0, "github");
        assert_eq!(guess_provider("billing").0, "generic");
        let keys = vec![
            "STRIPE_SECRET_KEY".to_string(),
            "CLERK_WEBHOOK_SIGNING_SECRET".to_string(),
        ];
        assert_eq!(
            secret_env("stripe", "stripe", &keys),
            "STRIPE_WEBHOOK_SECRET"
        );
        assert_eq!(
            secret_env("clerk", "generic", &keys),
            "CLERK_WEBHOOK_SIGNING_SECRET"
        );
        assert_eq!(secret_env("stripe", "stripe", &[]), "STRIPE_WEBHOOK_SECRET");
        assert_eq!(
            secret_env("my-hook", "generic", &[]),
            "MY_HOOK_WEBHOOK_SECRET"
        );
    }

    #[test]
    fn route_paths_skip_groups_and_dynamic_segments() {
        let app = Path::new("/p/app");
        assert_eq!(
            app_route_path(
                app,
                Path::new("/p/app/(hooks)/api/webhooks/stripe/route.ts")
            ),
            Some("/api/webhooks/stripe".into())
        );
        assert_eq!(
            app_route_path(app, Path::new("/p/app/api/webhooks/[id]/route.ts")),
            None
        );
        let pages = Path::new("/p/pages");
        assert_eq!(
            pages_route_path(pages, Path::new("/p/pages/api/webhooks/github/index.js")),
            Some("/api/webhooks/github".into())
        );
    }

    #[test]
    fn domains_must_be_dns_names() {
        assert_eq!(check_domain("Acme.com.").ok(), Some("acme.com".into()));
        assert!(check_domain("https://acme.com").is_err());
        assert!(check_domain("acme").is_err());
    }
}
