//! An in-memory transport for TLS libraries that insist on a stream
//! (`io::Read + io::Write`), such as OpenSSL's `SslStream`.
//!
//! Ciphertext from the peer is buffered in; reads past it return
//! `WouldBlock` ("need input"), or `Ok(0)` once the transport's EOF was
//! recorded. Writes always succeed and queue ciphertext for the peer. This is
//! how the OpenSSL and BoringSSL backends become sans-IO without `unsafe`.

use std::io::{self, Read, Write};

/// Bytes read from the transport per [`MemIo::fill_from`] call at most: one
/// maximal TLS record with its header.
const READ_CHUNK: usize = 16 * 1024 + 5 + 256;

/// In-memory byte queues: `input` from the peer, `output` to the peer.
#[derive(Debug, Default)]
pub struct MemIo {
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    output: Vec<u8>,
    sent: usize,
}

impl MemIo {
    /// An empty pair of queues.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads once from `rd` into the input queue. `Ok(0)` records EOF.
    pub fn fill_from(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.input.len() - self.end < READ_CHUNK {
            if self.start > 0 {
                self.input.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.input.len() - self.end < READ_CHUNK {
                self.input.resize(self.end + READ_CHUNK, 0);
            }
        }
        let n = rd.read(&mut self.input[self.end..self.end + READ_CHUNK])?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(n)
    }

    /// Whether unread input is queued.
    pub fn has_input(&self) -> bool {
        self.start < self.end
    }

    /// Whether the transport's EOF has been recorded.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Writes queued output to `wr` (one `write` call).
    pub fn drain_to(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        let n = wr.write(&self.output[self.sent..])?;
        self.sent += n;
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
        }
        Ok(n)
    }

    /// Whether output is queued.
    pub fn has_output(&self) -> bool {
        self.sent < self.output.len()
    }
}

impl Read for MemIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            return if self.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.end - self.start);
        buf[..n].copy_from_slice(&self.input[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

impl Write for MemIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_in_order_and_signals_state() {
        let mut m = MemIo::new();
        let mut buf = [0u8; 4];
        assert_eq!(
            m.read(&mut buf).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock)
        );
        assert_eq!(m.fill_from(&mut &b"abcdef"[..]).ok(), Some(6));
        assert_eq!(m.read(&mut buf).ok(), Some(4));
        assert_eq!(&buf, b"abcd");
        assert_eq!(m.fill_from(&mut &b"gh"[..]).ok(), Some(2));
        assert_eq!(m.read(&mut buf).ok(), Some(4));
        assert_eq!(&buf, b"efgh");
        assert_eq!(m.fill_from(&mut &b""[..]).ok(), Some(0));
        assert!(m.is_eof());
        assert_eq!(m.read(&mut buf).ok(), Some(0));

        m.write_all(b"out").ok();
        assert!(m.has_output());
        let mut sink = Vec::new();
        assert_eq!(m.drain_to(&mut sink).ok(), Some(3));
        assert_eq!(sink, b"out");
        assert!(!m.has_output());
    }

    #[test]
    fn large_inputs_compact() {
        let mut m = MemIo::new();
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut rd = &data[..];
        let mut out = Vec::new();
        let mut buf = [0u8; 7000];
        while !rd.is_empty() || m.has_input() {
            if !rd.is_empty() {
                m.fill_from(&mut rd).ok();
            }
            let n = m.read(&mut buf).unwrap_or(0);
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, data);
    }
}
