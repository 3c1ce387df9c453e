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

/// A fill that brings at most this many bytes is small: a handshake's last
/// message, a ticket, a request, a keep-alive. After one, a drained queue
/// whose next read would block gives its memory back (see
/// [`MemIo::fill_from`]); the next fill reads into this much stack first.
const SMALL_FILL: usize = 2048;

/// In-memory byte queues: `input` from the peer, `output` to the peer.
///
/// An idle connection holds no queue memory: once everything received was
/// read, the last fill was small and the transport has nothing more
/// (`WouldBlock`), both queues are released. A bulk receiver's fills are
/// large, so it keeps its buffer and pays no allocation per `WouldBlock`.
#[derive(Debug, Default)]
pub struct MemIo {
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    output: Vec<u8>,
    sent: usize,
    /// Bytes the last successful fill brought.
    last_fill: usize,
    /// The queues were released as idle: the next fill reads into the
    /// stack and allocates what arrived, not a whole record's room.
    released: bool,
}

impl MemIo {
    /// An empty pair of queues.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads once from `rd` into the input queue. `Ok(0)` records EOF.
    ///
    /// A `WouldBlock` when all input was read and the last fill was small
    /// releases both queues' memory (output only if it is all sent): the
    /// connection is idle, and a held record-sized buffer is most of what
    /// an idle connection costs.
    pub fn fill_from(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        let result = self.fill(rd);
        match &result {
            Ok(n) => self.last_fill = *n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    && self.start == self.end
                    && self.last_fill <= SMALL_FILL =>
            {
                self.release();
            }
            Err(_) => {}
        }
        result
    }

    /// Gives back the memory of the drained queues.
    fn release(&mut self) {
        self.input = Vec::new();
        self.start = 0;
        self.end = 0;
        if self.sent == self.output.len() {
            self.output = Vec::new();
            self.sent = 0;
        }
        self.released = true;
    }

    fn fill(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.released {
            // After idleness, most fills are small: take what arrived
            // without zeroing a record's room for it.
            let mut small = [0u8; SMALL_FILL];
            let n = rd.read(&mut small)?;
            self.released = false;
            if n == 0 {
                self.eof = true;
            }
            self.input.truncate(self.end);
            self.input.extend_from_slice(&small[..n]);
            self.end += n;
            return Ok(n);
        }
        if self.input.len() - self.end < READ_CHUNK {
            // Move the unread bytes to the front only when there are no more
            // of them than the room that frees; otherwise grow. Compacting a
            // large backlog on every fill copied a megabyte transfer once
            // more than the library itself does (measured by instruction
            // counts in `cargo xtask compare`).
            let unread = self.end - self.start;
            if self.start > 0 && self.start >= unread {
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
        self.queued_output() > 0
    }

    /// Bytes of output queued and not yet written to the transport.
    pub fn queued_output(&self) -> usize {
        self.output.len() - self.sent
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

    /// A transport with `chunks` to give, then `WouldBlock`.
    struct Socket(Vec<Vec<u8>>);

    impl Read for Socket {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(chunk) = self.0.first_mut() else {
                return Err(io::ErrorKind::WouldBlock.into());
            };
            let n = buf.len().min(chunk.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    fn read_all(m: &mut MemIo) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = m.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn an_idle_connection_holds_no_queue_memory() {
        let mut m = MemIo::new();
        let mut sock = Socket(vec![b"finished".to_vec()]);
        assert_eq!(m.fill_from(&mut sock).ok(), Some(8));
        m.write_all(b"ticket").ok();
        m.drain_to(&mut Vec::new()).ok();
        assert!(m.input.capacity() >= READ_CHUNK);
        // Unread input is never released.
        let kind = m.fill_from(&mut sock).map_err(|e| e.kind());
        assert_eq!(kind, Err(io::ErrorKind::WouldBlock));
        assert!(m.input.capacity() >= READ_CHUNK && m.has_input());
        assert_eq!(read_all(&mut m), b"finished");
        let kind = m.fill_from(&mut sock).map_err(|e| e.kind());
        assert_eq!(kind, Err(io::ErrorKind::WouldBlock));
        assert_eq!((m.input.capacity(), m.output.capacity()), (0, 0));
        // It wakes up: a small message costs what it is, a large one is
        // read whole over the next fills, in order.
        let big: Vec<u8> = (0..40_000u32).map(|i| (i % 253) as u8).collect();
        let mut sock = Socket(vec![b"ping".to_vec(), big.clone()]);
        assert_eq!(m.fill_from(&mut sock).ok(), Some(4));
        assert!(m.input.capacity() < 64, "{}", m.input.capacity());
        assert_eq!(read_all(&mut m), b"ping");
        let mut got = Vec::new();
        while m.fill_from(&mut sock).is_ok() {
            got.extend(read_all(&mut m));
        }
        assert_eq!(got, big);
    }

    #[test]
    fn a_bulk_receiver_keeps_its_buffer() {
        let mut m = MemIo::new();
        for _ in 0..3 {
            let mut sock = Socket(vec![vec![1u8; 4 * READ_CHUNK]]);
            while m.fill_from(&mut sock).is_ok() {
                assert_eq!(read_all(&mut m).len(), READ_CHUNK);
            }
            assert!(
                m.input.capacity() >= READ_CHUNK,
                "released after a large fill"
            );
        }
    }

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

    #[test]
    fn a_reader_that_keeps_up_keeps_the_buffer_small() {
        // The reader takes a little less than each fill, so a backlog stays
        // and grows slowly: the buffer is compacted, not grown without end.
        let mut m = MemIo::new();
        let chunk = vec![7u8; READ_CHUNK];
        let mut buf = vec![0u8; READ_CHUNK - 100];
        let mut total_in = 0;
        let mut total_out = 0;
        for _ in 0..1000 {
            total_in += m.fill_from(&mut &chunk[..]).unwrap_or(0);
            total_out += m.read(&mut buf).unwrap_or(0);
        }
        assert_eq!(total_in - total_out, m.end - m.start);
        assert!(m.input.len() <= 2 * (m.end - m.start) + 2 * READ_CHUNK);
    }

    #[test]
    fn a_large_backlog_is_not_moved_on_every_fill() {
        // Read one record's worth, then queue a megabyte behind it: the
        // unread bytes stay where they are (the buffer grows instead).
        let mut m = MemIo::new();
        let data: Vec<u8> = (0..(1 << 20) as u32).map(|i| (i % 251) as u8).collect();
        // A first megabyte, queued and read: the buffer keeps its size.
        let mut rd = &data[..];
        while m.fill_from(&mut rd).unwrap_or(0) > 0 {}
        let mut sink = vec![0u8; data.len()];
        while m.read(&mut sink).is_ok_and(|n| n > 0) {}
        // The second, a little longer: one record read early, the rest
        // queued behind it until the buffer is full.
        let data: Vec<u8> = (0..(1 << 20) as u32 + 65536)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut rd = &data[..];
        m.fill_from(&mut rd).ok();
        let mut first = vec![0u8; 16 * 1024];
        assert_eq!(m.read(&mut first).ok(), Some(first.len()));
        let start = m.start;
        while !rd.is_empty() {
            m.fill_from(&mut rd).ok();
            assert_eq!(m.start, start, "the backlog was moved");
        }
        let mut rest = vec![0u8; data.len()];
        let mut got = 0;
        while let Ok(n) = m.read(&mut rest[got..]) {
            if n == 0 {
                break;
            }
            got += n;
        }
        assert_eq!(&first[..], &data[..first.len()]);
        assert_eq!(&rest[..got], &data[first.len()..]);
    }
}
