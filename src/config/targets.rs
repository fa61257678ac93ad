//! What is audited: domains, hosts, URLs, webhooks and Vercel projects, expanded from
//! the config and the command line.

use crate::config::project::Config;
use crate::core::target::{Target, TargetKind};

/// Every target of an audit, each once, in a stable order: domains and hosts from the
/// config and the command line (a domain adds its apex and `www.` hosts), then URLs,
/// webhooks and the Vercel project.
pub fn expand(config: &Config) -> Vec<Target> {
    let mut targets = Vec::new();
    for domain in &config.domains {
        targets.push(Target::new(TargetKind::Domain, domain));
        targets.push(Target::new(TargetKind::Host, domain));
        if !domain.starts_with("www.") {
            targets.push(Target::new(TargetKind::Host, format!("www.{domain}")));
        }
    }
    for host in &config.hosts {
        targets.push(Target::new(TargetKind::Host, host));
    }
    for url in &config.urls {
        targets.push(Target::new(TargetKind::Url, url.url()));
    }
    for hook in &config.webhooks {
        targets.push(Target::new(TargetKind::Webhook, &hook.url));
    }
    if let Some(v) = &config.vercel {
        targets.push(Target::new(
            TargetKind::Vercel,
            format!("vercel:{}", v.project),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert(t.clone()));
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_expands_to_apex_and_www_hosts() {
        let config = Config {
            domains: vec!["acme.test".into()],
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
}
