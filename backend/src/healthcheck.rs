//! `chatkeep healthcheck`: asks the running server's `/readyz` over loopback and succeeds when it
//! answers 200. For a container's `HEALTHCHECK`: the runtime image has no curl, and the binary
//! that serves can also ask.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Connect, send and read each give up after this long: an orchestrator's probe must not hang.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Asks `GET /readyz` of the server bound at `bind` (a wildcard bind is asked on loopback).
/// `Err` says why it is not ready: unreachable, silent, or the status it answered.
pub fn probe(bind: SocketAddr) -> Result<(), String> {
    let address = loopback_for(bind);
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("nothing answers at {address}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("cannot set a timeout: {e}"))?;
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot ask {address}: {e}"))?;
    // The status line is all that is needed: "HTTP/1.1 200 OK".
    let mut head = [0_u8; 64];
    let mut read = 0;
    while read < head.len() && !head[..read].contains(&b'\n') {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("no answer from {address}: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("nothing");
    if status == "200" {
        Ok(())
    } else {
        Err(format!("{address}/readyz answered {status}"))
    }
}

/// Where to reach a server bound at `bind`: a wildcard address (`0.0.0.0`, `[::]`) is reached
/// through the loopback address of its family.
fn loopback_for(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_asked_on_loopback_and_any_other_as_it_is() {
        let asked = |bind: &str| loopback_for(bind.parse().unwrap()).to_string();
        assert_eq!(asked("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(asked("[::]:8080"), "[::1]:8080");
        assert_eq!(asked("10.1.2.3:9000"), "10.1.2.3:9000");
    }
}
