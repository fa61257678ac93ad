//! Issue 8 item 2: a truncated DNS answer whose TCP retry hangs. The nameserver answers
//! every UDP query with TC=1 and no records; its TCP port, on the same port number,
//! accepts connections and never answers. That is a lookup that got no answer: cause
//! `timeout`, within the operation timeout, never "no SPF record" or any other verdict
//! on the record. Everything stays on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use launchready::net::dns::{Dns, DnsFailure, DnsSettings, RecordKind};
use support::cli::{finding, json_stdout, launchready};

/// A nameserver on loopback that truncates every UDP answer and hangs on TCP. Stops
/// (its threads end) when dropped.
struct TruncatingServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// TCP connections accepted (the resolver's retries after TC=1).
    tcp_accepted: Arc<AtomicUsize>,
}

impl TruncatingServer {
    fn start() -> TruncatingServer {
        // One port number for both: bind UDP on an ephemeral port, then TCP on the same.
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let port = udp.local_addr().ok()?.port();
                let tcp = TcpListener::bind(("127.0.0.1", port)).ok()?;
                Some((udp, tcp))
            })
            .expect("a UDP and a TCP port with one number");
        let addr = udp.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let tcp_accepted = Arc::new(AtomicUsize::new(0));
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        let s = stop.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, from)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(reply) = truncated_reply(&buf[..n]) {
                    let _ = udp.send_to(&reply, from);
                }
            }
        });
        tcp.set_nonblocking(true).expect("non-blocking");
        let (s, count) = (stop.clone(), tcp_accepted.clone());
        thread::spawn(move || {
            // Accepted connections are held open, unanswered, until the server stops.
            let mut held = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match tcp.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        held.push(stream);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        TruncatingServer {
            addr,
            stop,
            tcp_accepted,
        }
    }
}

impl Drop for TruncatingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The query's header and question back, with QR, TC and RA set and no records.
fn truncated_reply(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    // The question: a name (labels up to a zero byte), then type and class.
    let mut i = 12;
    loop {
        let len = usize::from(*query.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        i += len;
    }
    let end = i + 4;
    let question = query.get(12..end)?;
    let mut reply = Vec::with_capacity(end);
    reply.extend_from_slice(&query[..2]); // ID
    reply.push(0x80 | (query[2] & 0x79) | 0x02); // QR, opcode and RD copied, TC
    reply.push(0x80); // RA, NOERROR
    reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question, no records
    reply.extend_from_slice(question);
    Some(reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_whose_tcp_retry_hangs_is_a_timeout() {
    let server = TruncatingServer::start();
    let dns = Dns::new(&DnsSettings {
        nameserver: Some(server.addr),
        timeout: Duration::from_secs(1),
    })
    .expect("resolver");
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        dns.query("trunc.test", RecordKind::Txt),
    )
    .await
    .expect("the lookup ends by itself");
    let elapsed = started.elapsed();
    let err = result.expect_err("a truncated answer with no TCP answer is no answer");
    eprintln!("Dns::query gave {:?} after {elapsed:?}", err.failure);
    assert_eq!(err.failure, DnsFailure::Timeout, "{err:?}");
    assert!(
        server.tcp_accepted.load(Ordering::SeqCst) >= 1,
        "the resolver retried over TCP"
    );
    // Two attempts of the 1 s operation timeout, and some slack for a loaded machine.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[test]
fn the_cli_reports_timeout_for_spf_behind_a_truncating_server_never_a_missing_record() {
    let server = TruncatingServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = launchready(dir.path())
        .args([
            "audit",
            "trunc.test",
            "--resolver",
            &server.addr.to_string(),
        ])
        .args(["--timeout", "1", "--only", "email.spf", "--format", "json"])
        .output()
        .expect("ran");
    let elapsed = started.elapsed();
    let report = json_stdout(&output);
    let f = finding(&report, "email.spf", "trunc.test");
    eprintln!("the audit took {elapsed:?}: {}", f["message"]);
    assert_eq!(f["status"], "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "timeout", "{f:#}");
    let next = f["error"]["next_step"].as_str().unwrap_or_default();
    assert!(next.contains("--timeout"), "{f:#}");
    let message = f["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(!message.contains("no spf"), "{f:#}");
    assert!(!message.contains("check the config"), "{f:#}");
    assert_eq!(output.status.code(), Some(1), "an error fails the gate");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}
