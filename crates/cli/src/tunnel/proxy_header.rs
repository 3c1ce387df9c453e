//! The PROXY protocol (HAProxy's, v1 text and v2 binary): accepted from
//! trusted balancers in front of the tunnel, so logs, access decisions and
//! the target see the real client address; and sent (v1 or v2) to the
//! target, so the protected service sees it too.
//!
//! Parsing and encoding are the `ppp` crate's. Reading takes exactly the
//! header's bytes from the socket and nothing after it (the TLS
//! ClientHello that follows stays in the socket for the handshake).

use std::net::SocketAddr;

use ipnet::IpNet;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest v1 header (the spec's 107 bytes).
const V1_MAX: usize = 107;
/// The v2 signature.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The largest v2 header this tunnel reads (addresses and TLVs).
const V2_MAX: usize = 16 + 4096;

/// Which PROXY protocol version to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyVersion {
    /// The text header (`PROXY TCP4 ...`).
    V1,
    /// The binary header.
    V2,
}

/// Parses `accept_proxy_from` entries: addresses or CIDR networks.
pub fn parse_sources(entries: &[String]) -> Result<Vec<IpNet>, String> {
    entries
        .iter()
        .map(|e| {
            e.parse::<IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("accept_proxy_from: {e:?} is not an address or network"))
        })
        .collect()
}

/// Reads one PROXY header (v1 or v2) from the start of `tcp`: the client
/// and destination addresses it carries, or `None` for a `LOCAL` /
/// `UNKNOWN` header (a balancer's health check: the connection's own
/// addresses stand).
pub async fn read_header(tcp: &mut TcpStream) -> Result<Option<(SocketAddr, SocketAddr)>, String> {
    let mut buf = vec![0u8; 16];
    read_exact(tcp, &mut buf[..5]).await?;
    if &buf[..5] == b"PROXY" {
        buf.truncate(5);
        // v1: up to CRLF, one byte at a time so nothing after it is taken.
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n") {
            if buf.len() >= V1_MAX {
                return Err("PROXY v1 header longer than 107 bytes".into());
            }
            read_exact(tcp, &mut byte).await?;
            buf.push(byte[0]);
        }
        return match ppp::v1::Header::try_from(std::str::from_utf8(&buf).unwrap_or_default()) {
            Ok(h) => Ok(v1_addresses(&h.addresses)),
            Err(e) => Err(format!("malformed PROXY v1 header: {e}")),
        };
    }
    if buf[..5] != V2_SIGNATURE[..5] {
        return Err("no PROXY header from a balancer that must send one".into());
    }
    read_exact(tcp, &mut buf[5..16]).await?;
    if &buf[..12] != V2_SIGNATURE {
        return Err("malformed PROXY v2 signature".into());
    }
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if 16 + len > V2_MAX {
        return Err(format!("PROXY v2 header of {len} bytes is too long"));
    }
    buf.resize(16 + len, 0);
    read_exact(tcp, &mut buf[16..]).await?;
    match ppp::v2::Header::try_from(&buf[..]) {
        Ok(h) if h.command == ppp::v2::Command::Local => Ok(None),
        Ok(h) => Ok(v2_addresses(&h.addresses)),
        Err(e) => Err(format!("malformed PROXY v2 header: {e}")),
    }
}

async fn read_exact(tcp: &mut TcpStream, buf: &mut [u8]) -> Result<(), String> {
    tcp.read_exact(buf)
        .await
        .map(|_| ())
        .map_err(|e| format!("reading the PROXY header: {e}"))
}

fn v1_addresses(a: &ppp::v1::Addresses) -> Option<(SocketAddr, SocketAddr)> {
    match a {
        ppp::v1::Addresses::Tcp4(a) => Some((
            (a.source_address, a.source_port).into(),
            (a.destination_address, a.destination_port).into(),
        )),
        ppp::v1::Addresses::Tcp6(a) => Some((
            (a.source_address, a.source_port).into(),
            (a.destination_address, a.destination_port).into(),
        )),
        ppp::v1::Addresses::Unknown => None,
    }
}

fn v2_addresses(a: &ppp::v2::Addresses) -> Option<(SocketAddr, SocketAddr)> {
    match a {
        ppp::v2::Addresses::IPv4(a) => Some((
            (a.source_address, a.source_port).into(),
            (a.destination_address, a.destination_port).into(),
        )),
        ppp::v2::Addresses::IPv6(a) => Some((
            (a.source_address, a.source_port).into(),
            (a.destination_address, a.destination_port).into(),
        )),
        // Unix sockets and unspecified: nothing an IP peer can use.
        _ => None,
    }
}

/// The header telling the target that `client` connected to `local`.
pub fn encode(version: ProxyVersion, client: SocketAddr, local: SocketAddr) -> Vec<u8> {
    // Both sides in one family: map an IPv4 peer into IPv6 if needed.
    let (client, local) = match (client, local) {
        (SocketAddr::V4(c), SocketAddr::V6(l)) => (
            SocketAddr::new(c.ip().to_ipv6_mapped().into(), c.port()),
            SocketAddr::V6(l),
        ),
        (SocketAddr::V6(c), SocketAddr::V4(l)) => (
            SocketAddr::V6(c),
            SocketAddr::new(l.ip().to_ipv6_mapped().into(), l.port()),
        ),
        pair => pair,
    };
    match version {
        ProxyVersion::V1 => ppp::v1::Addresses::from((client, local))
            .to_string()
            .into_bytes(),
        ProxyVersion::V2 => ppp::v2::Builder::with_addresses(
            ppp::v2::Version::Two | ppp::v2::Command::Proxy,
            ppp::v2::Protocol::Stream,
            (client, local),
        )
        .build()
        // Writing into a Vec does not fail.
        .unwrap_or_default(),
    }
}

/// Writes the header to the target before any client byte.
pub async fn send_header(
    target: &mut TcpStream,
    version: ProxyVersion,
    client: SocketAddr,
    local: SocketAddr,
) -> std::io::Result<()> {
    target.write_all(&encode(version, client, local)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn encodes_both_versions() {
        let c: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let l: SocketAddr = "127.0.0.1:6380".parse().unwrap();
        assert_eq!(
            encode(ProxyVersion::V1, c, l),
            b"PROXY TCP4 192.0.2.1 127.0.0.1 5000 6380\r\n"
        );
        let v2 = encode(ProxyVersion::V2, c, l);
        assert_eq!(&v2[..12], V2_SIGNATURE);
        let h = ppp::v2::Header::try_from(&v2[..]).unwrap();
        assert_eq!(v2_addresses(&h.addresses), Some((c, l)));
    }

    #[test]
    fn sources_are_addresses_or_networks() {
        let s = parse_sources(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert!(s[0].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(s[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_sources(&["nope".into()]).is_err());
    }

    #[tokio::test]
    async fn reads_exactly_the_header() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let c: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
        let d: SocketAddr = "[2001:db8::2]:443".parse().unwrap();
        for version in [ProxyVersion::V1, ProxyVersion::V2] {
            let writer = tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let mut bytes = encode(version, c, d);
                bytes.extend_from_slice(b"\x16\x03\x01after");
                s.write_all(&bytes).await.unwrap();
                s
            });
            let (mut conn, _) = l.accept().await.unwrap();
            assert_eq!(read_header(&mut conn).await.unwrap(), Some((c, d)));
            let mut rest = [0u8; 8];
            conn.read_exact(&mut rest).await.unwrap();
            assert_eq!(&rest, b"\x16\x03\x01after", "{version:?}");
            drop(writer.await.unwrap());
        }
        // A TLS ClientHello where a header must be is refused.
        let writer = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"\x16\x03\x01\x02\x00\x01").await.unwrap();
            s
        });
        let (mut conn, _) = l.accept().await.unwrap();
        assert!(read_header(&mut conn).await.is_err());
        drop(writer.await.unwrap());
    }
}
