//! What is audited: domains, hosts, URLs, webhooks and Vercel projects, expanded from
//! the config and the command line.

use crate::config::project::{Config, RequiredKeys};
use crate::core::target::{
    EmailInputs, RequiredKeys as TargetRequired, Target, VercelInputs, WebhookInputs,
};

/// The project name of the target made for `env_files:` without a `vercel:` block.
pub const LOCAL_PROJECT: &str = "local";

/// A path from the config, relative to the config file's folder unless absolute.
fn resolve(base: &std::path::Path, path: &str) -> String {
    let p = std::path::Path::new(path);
    if p.is_absolute() || base.as_os_str().is_empty() {
        path.to_string()
    } else {
        base.join(p).display().to_string()
    }
}

/// Every target of an audit, each once, in a stable order: domains and hosts from the
/// config and the command line (a domain adds its apex and `www.` hosts), then URLs,
/// webhooks and the Vercel project.
pub fn expand(config: &Config) -> Vec<Target> {
    let base = config.spans.base_dir.clone().unwrap_or_default();
    let mut targets = Vec::new();
    for entry in &config.domains {
        let domain = entry.name();
        let email = entry.email(&config.email);
        targets.push(Target::domain(
            domain,
            EmailInputs {
                dkim_selectors: email.dkim_selectors,
                sends_mail: email.sends_mail,
            },
        ));
        targets.push(Target::host(domain, true));
        if !domain.starts_with("www.") {
            let www = format!("www.{domain}");
            let listed = config.hosts.contains(&www);
            targets.push(Target::host(www, listed));
        }
    }
    for host in &config.hosts {
        targets.push(Target::host(host, true));
    }
    for url in &config.urls {
        targets.push(Target::url(url.url(), url.expect().to_vec()));
    }
    for hook in &config.webhooks {
        targets.push(Target::webhook(
            &hook.url,
            WebhookInputs {
                provider: hook.provider.clone(),
                secret_env: hook.secret_env.clone(),
                send_signed: hook.send_signed,
            },
        ));
    }
    let env_files: Vec<(String, String)> = config
        .env_files
        .iter()
        .map(|(env, path)| (env.clone(), resolve(&base, path)))
        .collect();
    if let Some(v) = &config.vercel {
        targets.push(Target::vercel(VercelInputs {
            project: v.project.clone(),
            api: true,
            team: v.team.clone(),
            token_env: v.token_env.clone(),
            api_url: v.api_url.clone(),
            required: v.required.as_ref().map(|r| match r {
                RequiredKeys::File(f) => TargetRequired::File(resolve(&base, f)),
                RequiredKeys::Keys(k) => TargetRequired::Keys(k.clone()),
            }),
            environments: v.environments.clone(),
            env_files,
        }));
    } else if !env_files.is_empty() {
        // An offline audit of env files alone: one target, `vercel:local`, whose
        // environments are the files'.
        targets.push(Target::vercel(VercelInputs {
            project: LOCAL_PROJECT.into(),
            api: false,
            team: None,
            token_env: String::new(),
            api_url: String::new(),
            required: None,
            environments: env_files.iter().map(|(env, _)| env.clone()).collect(),
            env_files,
        }));
    }
    // Each (kind, name) once: the first occurrence wins (a domain's hosts come before
    // `hosts:`, and already know whether they were listed).
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert((t.kind, t.name.clone())));
    targets
}

/// The 1-based line of the config file that names `target`: its own entry, or for a
/// `www.` host added by a domain, the domain's. None for targets from the command line.
pub fn config_line(config: &Config, target: &Target) -> Option<u32> {
    let file = config.spans.file.as_ref()?;
    let span = config.spans.targets.get(&target.name).or_else(|| {
        let apex = target.name.strip_prefix("www.")?;
        config
            .domains
            .iter()
            .any(|d| d.name() == apex)
            .then(|| config.spans.targets.get(apex))
            .flatten()
    })?;
    u32::try_from(file.line_col(span.start).0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::target::TargetKind;

    #[test]
    fn a_domain_expands_to_apex_and_www_hosts() {
        let config = Config {
            domains: vec![crate::config::project::DomainEntry::Name(
                "acme.test".into(),
            )],
            hosts: vec!["app.acme.test".into(), "acme.test".into()],
            ..Config::default()
        };
        let names: Vec<String> = expand(&config)
            .iter()
            .map(|t| format!("{}:{}", t.kind, t.name))
            .collect();
        assert_eq!(
            names,
            [
                "domain:acme.test",
                "host:acme.test",
                "host:www.acme.test",
                "host:app.acme.test"
            ]
        );
    }

    #[test]
    fn config_lines_point_at_the_entry_that_names_a_target() {
        let text = "project: Acme\ndomains:\n  - acme.test\nhosts: [app.acme.test]\nurls:\n  - url: https://acme.test/cb\n    expect: [200]\nwebhooks:\n  - url: https://acme.test/hook\nvercel:\n  project: acme\n  token_env: VERCEL_TOKEN\n";
        let (mut config, errors) = crate::config::project::decode_config_partial(
            &crate::config::diagnostic::SourceFile::new("launchready.yaml", text),
        );
        assert!(errors.problems.is_empty(), "{errors:?}");
        config
            .domains
            .push(crate::config::project::DomainEntry::Name("cli.test".into()));
        let line = |kind, name: &str| config_line(&config, &Target::new(kind, name));
        assert_eq!(line(TargetKind::Domain, "acme.test"), Some(3));
        assert_eq!(line(TargetKind::Host, "www.acme.test"), Some(3));
        assert_eq!(line(TargetKind::Host, "app.acme.test"), Some(4));
        assert_eq!(line(TargetKind::Url, "https://acme.test/cb"), Some(6));
        assert_eq!(line(TargetKind::Webhook, "https://acme.test/hook"), Some(9));
        assert_eq!(line(TargetKind::Vercel, "vercel:acme"), Some(11));
        assert_eq!(line(TargetKind::Domain, "cli.test"), None);
        assert_eq!(line(TargetKind::Host, "www.cli.test"), None);
    }
}
