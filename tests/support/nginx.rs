//! A real nginx from Debian's packages, started by `tests/world/nginx.sh` on two loopback
//! ports: one accepting TLS 1.0-1.3 (legacy.test, RSA-2048), one accepting TLS 1.2-1.3 with
//! an RSA-1024 certificate (weak.test). Both certificates come from a throwaway CA whose
//! PEM is [`Nginx::ca_file`]. Needs nginx and openssl (`tests/world/install-deps.sh`).

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/world/nginx.sh");

/// Whether an nginx binary is there to start.
pub fn installed() -> bool {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("nginx").is_file()))
        .unwrap_or(false);
    on_path || Path::new("/usr/sbin/nginx").is_file()
}

/// Two distinct free loopback ports: bind port 0 twice (both held at once), read, drop.
pub fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("local address").port();
    (port(&a), port(&b))
}

fn run_script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {SCRIPT}: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running nginx; dropping it stops it, also when an assertion fails.
pub struct Nginx {
    dir: PathBuf,
    pub port_tls10: u16,
    pub port_rsa1024: u16,
}

impl Nginx {
    /// Starts nginx with its files in `dir`, on two free ports. Panics (with the script's
    /// output) when nginx is missing or does not start.
    pub fn start(dir: &Path) -> Nginx {
        assert!(
            installed(),
            "nginx is not installed: run tests/world/install-deps.sh (installs Debian's \
             nginx-light and openssl) before the tests"
        );
        let (port_tls10, port_rsa1024) = free_ports();
        let output = run_script(&[
            "start",
            dir.to_str().expect("UTF-8 path"),
            &port_tls10.to_string(),
            &port_rsa1024.to_string(),
        ]);
        // Build the guard before checking: a half-started nginx is stopped too.
        let nginx = Nginx {
            dir: dir.to_path_buf(),
            port_tls10,
            port_rsa1024,
        };
        assert!(
            output.status.success(),
            "tests/world/nginx.sh start failed:\n{}",
            describe(&output)
        );
        nginx
    }

    /// The throwaway CA that issued both servers' certificates.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let output = run_script(&["stop", self.dir.to_str().unwrap_or_default()]);
        if !output.status.success() {
            eprintln!("tests/world/nginx.sh stop failed:\n{}", describe(&output));
        }
    }
}
